// SPDX-License-Identifier: Apache-2.0
using System.Linq;

namespace TinyML.Device;

/// <summary>
/// The CMake snippet and the Makefile fragment that <see cref="DeviceBuild.Package"/> writes beside the libraries.
/// Both hand the core's flags to the firmware and stop the firmware's configure (CMake) or make when its C flags
/// name another -mcpu or float ABI: such objects either fail to link (float ABI) or link into a program that faults
/// on the device (an instruction its core lacks), and both are far easier to read as one message up front.
/// </summary>
internal static class FirmwareSnippets
{
    private static string Flags(CortexMCore core) => string.Join(" ", core.GccFlags);

    private static string SupportedCores => string.Join(", ", CortexM.Cores.Select(c => c.Name));

    private static string AbiCores(string abi)
    {
        var names = CortexM.Cores.Where(c => c.FloatAbi == abi).Select(c => c.Name).ToList();
        return names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1];
    }

    /// <summary>The float ABIs whose objects cannot link with the library's (soft and softfp share one calling
    /// convention; hard passes floats in FPU registers).</summary>
    private static string IncompatibleAbis(CortexMCore core) => core.FloatAbi == "hard" ? "soft softfp" : "hard";

    /// <summary>The end of both float-ABI messages: which cores are built for which ABI.</summary>
    private static string AbiAdvice(CortexMCore core) =>
        $"Compile the firmware with -mfloat-abi={core.FloatAbi}, or rebuild the model with the TinyMLTarget of your core " +
        $"(TinyML.Sdk builds {AbiCores("soft")} for the soft float ABI and {AbiCores("hard")} for hard).";

    /// <summary><c>{name}.cmake</c>: the imported target <c>tinyml::{name}</c> with the core's compile and link options,
    /// and the configure-time check of CMAKE_C_FLAGS, CMAKE_C_FLAGS_&lt;CONFIG&gt; and the directory's compile options.</summary>
    public static string CMake(string name, CortexMCore core)
    {
        string flags = Flags(core);
        string cmakeList = string.Join(";", core.GccFlags);
        string supported = string.Join(" ", CortexM.Cores.Select(c => c.Name));
        const string valueOfSource = "${${_tinyml_source}}"; // "}}" cannot be written inside the template
        return $$"""
            # TinyML.Sdk: model '{{name}}' for {{core.Name}} ({{flags}}).
            # include(${CMAKE_CURRENT_LIST_DIR}/{{name}}.cmake), then target_link_libraries(your_firmware PRIVATE tinyml::{{name}})
            # and link with -Wl,--gc-sections. tinyml::{{name}} gives its users the core's flags as compile and link options.
            # Including this file stops the configure when CMAKE_C_FLAGS, CMAKE_C_FLAGS_<CONFIG> or add_compile_options name
            # another -mcpu or float ABI: code for another core or ABI does not link or run correctly with these libraries.
            if(TARGET tinyml::{{name}})
              return()
            endif()

            function(_tinyml_{{name}}_check where)
              set(cpu "")
              set(abi "")
              set(incompatible {{IncompatibleAbis(core).Replace(' ', ';')}})
              # Any other core or ABI named, even if a later flag overrides it: the project means it for its own code.
              foreach(flag IN LISTS ARGN)
                if(flag MATCHES "^-mcpu=(.+)$")
                  if(cpu STREQUAL "" AND NOT CMAKE_MATCH_1 STREQUAL "{{core.Cpu}}")
                    set(cpu "${CMAKE_MATCH_1}")
                  endif()
                elseif(flag MATCHES "^-mfloat-abi=(.+)$")
                  list(FIND incompatible "${CMAKE_MATCH_1}" clash)
                  if(abi STREQUAL "" AND NOT clash EQUAL -1)
                    set(abi "${CMAKE_MATCH_1}")
                  endif()
                endif()
              endforeach()
              if(NOT cpu STREQUAL "")
                list(FIND _tinyml_supported_cores "${cpu}" known)
                if(known EQUAL -1)
                  set(fix "TinyML.Sdk builds for {{SupportedCores}}, not ${cpu}: compile the firmware with {{flags}}, or for the nearest of those cores.")
                else()
                  set(fix "Rebuild the model for your core (TinyMLTarget=${cpu}, or tinyml compile --target ${cpu}), or compile the firmware with {{flags}}.")
                endif()
                message(FATAL_ERROR "tinyml::{{name}} was built for {{core.Name}} ({{flags}}), but ${where} names -mcpu=${cpu}: code built for one core does not link or run correctly with code built for another. ${fix}")
              endif()
              if(NOT abi STREQUAL "")
                message(FATAL_ERROR "tinyml::{{name}} was built for {{core.Name}} with the {{core.FloatAbi}} float ABI (-mfloat-abi={{core.FloatAbi}}), but ${where} names -mfloat-abi=${abi}: objects of the two ABIs pass floats differently and do not link together. {{AbiAdvice(core)}}")
              endif()
            endfunction()

            set(_tinyml_supported_cores {{supported}})
            set(_tinyml_{{name}}_sources CMAKE_C_FLAGS)
            foreach(_tinyml_config DEBUG RELEASE RELWITHDEBINFO MINSIZEREL ${CMAKE_BUILD_TYPE} ${CMAKE_CONFIGURATION_TYPES})
              string(TOUPPER "${_tinyml_config}" _tinyml_config)
              list(APPEND _tinyml_{{name}}_sources CMAKE_C_FLAGS_${_tinyml_config})
            endforeach()
            list(REMOVE_DUPLICATES _tinyml_{{name}}_sources)
            foreach(_tinyml_source IN LISTS _tinyml_{{name}}_sources)
              separate_arguments(_tinyml_flags UNIX_COMMAND "{{valueOfSource}}")
              _tinyml_{{name}}_check(${_tinyml_source} ${_tinyml_flags})
            endforeach()
            get_property(_tinyml_flags DIRECTORY PROPERTY COMPILE_OPTIONS)
            _tinyml_{{name}}_check(add_compile_options ${_tinyml_flags})

            add_library(tinyml_kernels_{{name}} STATIC IMPORTED)
            set_target_properties(tinyml_kernels_{{name}} PROPERTIES IMPORTED_LOCATION "${CMAKE_CURRENT_LIST_DIR}/libtinyml_kernels.a")
            add_library(tinyml::{{name}} STATIC IMPORTED)
            set_target_properties(tinyml::{{name}} PROPERTIES IMPORTED_LOCATION "${CMAKE_CURRENT_LIST_DIR}/lib{{name}}.a"
                INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}" INTERFACE_LINK_LIBRARIES "tinyml_kernels_{{name}};m"
                INTERFACE_COMPILE_OPTIONS "{{cmakeList}}" INTERFACE_LINK_OPTIONS "{{cmakeList}}")

            """;
    }

    /// <summary><c>{name}.mk</c>: the core's flags in TINYML_{NAME}_CFLAGS and _LDFLAGS, and the check of CFLAGS, once
    /// at the include (for what CFLAGS holds then) and again whenever TINYML_{NAME}_LIBS is expanded (the link
    /// recipe, with the final CFLAGS: a Makefile usually sets CFLAGS after its includes).</summary>
    public static string Make(string name, CortexMCore core)
    {
        string flags = Flags(core);
        string p = "TINYML_" + name.ToUpperInvariant();
        // The messages end without a period: make appends ".  Stop."
        string supported = string.Join(" ", CortexM.Cores.Select(c => c.Name));
        return $$"""
            # TinyML.Sdk: model '{{name}}' for {{core.Name}} ({{flags}}).
            # include {{name}}.mk, add $({{p}}_CFLAGS) to CFLAGS, and $({{p}}_LDFLAGS) and $({{p}}_LIBS) to the link,
            # with -Wl,--gc-sections. The core's flags are in both {{p}}_CFLAGS and {{p}}_LDFLAGS. make stops when
            # CFLAGS names another -mcpu or float ABI: code for another core or ABI does not link or run correctly with
            # these libraries. CFLAGS is checked here and again when $({{p}}_LIBS) is expanded (in the link recipe).
            {{p}}_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
            {{p}}_CORE_FLAGS := {{flags}}
            {{p}}_CFLAGS := $({{p}}_CORE_FLAGS) -I$({{p}}_DIR)
            {{p}}_LDFLAGS := $({{p}}_CORE_FLAGS)
            # Any other -mcpu= or an incompatible -mfloat-abi= in CFLAGS: the library's own flags may be there too (from
            # {{p}}_CFLAGS) and win by coming last, but the project's other objects would still be built without them.
            {{p}}_PROJECT_CPU = $(patsubst -mcpu=%,%,$(firstword $(filter-out -mcpu={{core.Cpu}},$(filter -mcpu=%,$(CFLAGS)))))
            {{p}}_PROJECT_ABI = $(patsubst -mfloat-abi=%,%,$(firstword $(filter {{string.Join(" ", IncompatibleAbis(core).Split(' ').Select(a => "-mfloat-abi=" + a))}},$(CFLAGS))))
            {{p}}_REBUILD = Rebuild the model for your core (TinyMLTarget=$({{p}}_PROJECT_CPU), or tinyml compile --target $({{p}}_PROJECT_CPU)), or compile the firmware with {{flags}}
            {{p}}_UNSUPPORTED = TinyML.Sdk builds for {{SupportedCores}}, not $({{p}}_PROJECT_CPU): compile the firmware with {{flags}}, or for the nearest of those cores
            {{p}}_CPU_ERROR = {{name}}.mk: lib{{name}}.a was built for {{core.Name}} ({{flags}}), but CFLAGS names -mcpu=$({{p}}_PROJECT_CPU): code built for one core does not link or run correctly with code built for another. $(if $(filter $({{p}}_PROJECT_CPU),{{supported}}),$({{p}}_REBUILD),$({{p}}_UNSUPPORTED))
            {{p}}_ABI_ERROR = {{name}}.mk: lib{{name}}.a was built for {{core.Name}} with the {{core.FloatAbi}} float ABI (-mfloat-abi={{core.FloatAbi}}), but CFLAGS names -mfloat-abi=$({{p}}_PROJECT_ABI): objects of the two ABIs pass floats differently and do not link together. {{AbiAdvice(core).TrimEnd('.')}}
            {{p}}_CHECK = $(if $({{p}}_PROJECT_CPU),$(error $({{p}}_CPU_ERROR)))$(if $({{p}}_PROJECT_ABI),$(error $({{p}}_ABI_ERROR)))
            {{p}}_LIBS = $({{p}}_CHECK)$({{p}}_DIR)lib{{name}}.a $({{p}}_DIR)libtinyml_kernels.a -lm
            $({{p}}_CHECK)

            """;
    }
}
