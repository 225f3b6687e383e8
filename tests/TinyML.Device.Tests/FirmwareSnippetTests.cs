// SPDX-License-Identifier: Apache-2.0
using System;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using Xunit;

namespace TinyML.Device.Tests;

/// <summary>kws packaged for Cortex-M4 once, for every firmware project in <see cref="FirmwareSnippetTests"/>.</summary>
public sealed class KwsPackageForCortexM4 : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"tml-snippets-{Guid.NewGuid():N}");

    public KwsPackageForCortexM4()
    {
        var gc = Device.Case("kws");
        DeviceBuild.Package(Device.Plan(gc), Device.Options(CortexM.M4, "snippets") with { ModelName = "kws" },
            Path.Combine(Root, "tinyml"));
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// The CMake snippet and the Makefile fragment against real firmware projects (cmake, make, arm-none-eabi-gcc):
/// the core's flags reach the firmware, and a project that names another core or float ABI stops with a message
/// that says what the library was built for, what the project uses, and how to fix it.
/// </summary>
public sealed class FirmwareSnippetTests : IClassFixture<KwsPackageForCortexM4>
{
    private const string M4Flags = "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb";
    private const string Main = "#include \"kws.h\"\nint main(void) { return (int)kws_invoke(kws_arena()); }\n";

    private const string CMakeLists = """
        cmake_minimum_required(VERSION 3.16)
        set(CMAKE_SYSTEM_NAME Generic)
        set(CMAKE_C_COMPILER arm-none-eabi-gcc)
        set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
        project(firmware C)
        include(${CMAKE_CURRENT_SOURCE_DIR}/../tinyml/kws.cmake)
        add_executable(firmware.elf main.c)
        target_link_libraries(firmware.elf PRIVATE tinyml::kws)
        target_link_options(firmware.elf PRIVATE --specs=nosys.specs -Wl,--gc-sections)
        """;

    private readonly string _root;

    public FirmwareSnippetTests(KwsPackageForCortexM4 package) => _root = package.Root;

    [Fact]
    public void CMake_FirmwareWithTheCoresFlags_ConfiguresAndBuilds()
    {
        string project = Project("CMakeLists.txt", CMakeLists);
        var (code, output) = Configure(project, $"-DCMAKE_C_FLAGS={M4Flags}");
        Assert.True(code == 0, output);
        var build = Tool("cmake", project, "--build", Path.Combine(project, "build"));
        Assert.True(build.Code == 0, build.Output);
        Assert.True(File.Exists(Path.Combine(project, "build", "firmware.elf")));
    }

    [Fact]
    public void CMake_FirmwareWithNoCoreFlags_CompilesAndLinksWithTheOnesTheTargetCarries()
    {
        string project = Project("CMakeLists.txt", CMakeLists);
        var (code, output) = Configure(project, "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON");
        Assert.True(code == 0, output);
        string commands = File.ReadAllText(Path.Combine(project, "build", "compile_commands.json"));
        Assert.Contains(M4Flags, commands);
        // gcc's default multilib is soft-float: linking the hard-float libraries succeeds only with the link options.
        var build = Tool("cmake", project, "--build", Path.Combine(project, "build"));
        Assert.True(build.Code == 0, build.Output);
    }

    public static TheoryData<string[], string> CMakeMismatches() => new()
    {
        {
            new[] { "-DCMAKE_C_FLAGS=-mcpu=cortex-m0plus -mthumb" },
            "tinyml::kws was built for cortex-m4 (-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb), but CMAKE_C_FLAGS names " +
            "-mcpu=cortex-m0plus: code built for one core does not link or run correctly with code built for another. Rebuild the model " +
            "for your core (TinyMLTarget=cortex-m0plus, or tinyml compile --target cortex-m0plus), or compile the firmware with " +
            "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb."
        },
        {
            new[] { "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_C_FLAGS_RELEASE=-O2 -mcpu=cortex-m7" },
            "but CMAKE_C_FLAGS_RELEASE names -mcpu=cortex-m7"
        },
        {
            new[] { "-DCMAKE_C_FLAGS=-mcpu=cortex-a7" },
            "TinyML.Sdk builds for cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55, not cortex-a7"
        },
        {
            new[] { "-DCMAKE_C_FLAGS=-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=softfp -mthumb" },
            "tinyml::kws was built for cortex-m4 with the hard float ABI (-mfloat-abi=hard), but CMAKE_C_FLAGS names -mfloat-abi=softfp: " +
            "objects of the two ABIs pass floats differently and do not link together. Compile the firmware with -mfloat-abi=hard, or " +
            "rebuild the model with the TinyMLTarget of your core (TinyML.Sdk builds cortex-m0plus and cortex-m3 for the soft float ABI " +
            "and cortex-m4, cortex-m7, cortex-m33 and cortex-m55 for hard)."
        },
    };

    [Theory]
    [MemberData(nameof(CMakeMismatches))]
    public void CMake_FirmwareForAnotherCoreOrFloatAbi_FailsAtConfigure(string[] cacheEntries, string message)
    {
        string project = Project("CMakeLists.txt", CMakeLists);
        var (code, output) = Configure(project, cacheEntries);
        Assert.NotEqual(0, code);
        Assert.Contains("Configuring incomplete", output);
        Assert.Contains(message, OneLine(output));
    }

    [Fact]
    public void Make_FirmwareWithTheCoresFlags_Builds()
    {
        string project = Project("Makefile", MakefileSettingCFlagsAfterTheInclude);
        var (code, output) = Tool("make", project, "-C", project, $"CPU={M4Flags}");
        Assert.True(code == 0, output);
        Assert.True(File.Exists(Path.Combine(project, "firmware.elf")));
    }

    // CFLAGS set after the include, as Makefiles usually do: the check runs when the link recipe expands TINYML_KWS_LIBS.
    private const string MakefileSettingCFlagsAfterTheInclude =
        "include ../tinyml/kws.mk\n" +
        "CFLAGS := $(CPU) -Wall -Werror $(TINYML_KWS_CFLAGS)\n" +
        "firmware.elf: main.c\n" +
        "\tarm-none-eabi-gcc $(CFLAGS) main.c $(TINYML_KWS_LDFLAGS) $(TINYML_KWS_LIBS) --specs=nosys.specs -Wl,--gc-sections -o $@\n";

    [Theory]
    [InlineData("-mcpu=cortex-m0plus -mthumb",
        "kws.mk: libkws.a was built for cortex-m4 (-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb), but CFLAGS names " +
        "-mcpu=cortex-m0plus: code built for one core does not link or run correctly with code built for another. Rebuild the model " +
        "for your core (TinyMLTarget=cortex-m0plus, or tinyml compile --target cortex-m0plus), or compile the firmware with " +
        "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb.  Stop.")]
    [InlineData("-mcpu=cortex-m4 -mfloat-abi=soft",
        "kws.mk: libkws.a was built for cortex-m4 with the hard float ABI (-mfloat-abi=hard), but CFLAGS names -mfloat-abi=soft: " +
        "objects of the two ABIs pass floats differently and do not link together. Compile the firmware with -mfloat-abi=hard, or " +
        "rebuild the model with the TinyMLTarget of your core (TinyML.Sdk builds cortex-m0plus and cortex-m3 for the soft float ABI " +
        "and cortex-m4, cortex-m7, cortex-m33 and cortex-m55 for hard).  Stop.")]
    public void Make_FirmwareForAnotherCoreOrFloatAbi_Stops(string cpu, string message)
    {
        string project = Project("Makefile", MakefileSettingCFlagsAfterTheInclude);
        var (code, output) = Tool("make", project, "-C", project, $"CPU={cpu}");
        Assert.NotEqual(0, code);
        Assert.Contains(message, output);
        Assert.False(File.Exists(Path.Combine(project, "firmware.elf")));
    }

    [Fact]
    public void Make_CFlagsSetBeforeTheInclude_StopAtTheInclude_EvenForATargetThatDoesNotLink()
    {
        string project = Project("Makefile",
            "CFLAGS := -mcpu=cortex-m33 -mthumb\n" +
            "include ../tinyml/kws.mk\n" +
            "nothing:\n\t@echo nothing to do\n");
        var (code, output) = Tool("make", project, "-C", project, "nothing");
        Assert.NotEqual(0, code);
        Assert.Matches(@"kws\.mk:\d+: \*\*\* kws\.mk: libkws\.a was built for cortex-m4 .* but CFLAGS names -mcpu=cortex-m33", output);
        Assert.DoesNotContain("nothing to do", output);
    }

    [Fact]
    public void Make_SoftFloatLibrary_InAHardFloatFirmware_Stops()
    {
        var gc = Device.Case("hello_int8");
        string package = Path.Combine(_root, "m0plus");
        DeviceBuild.Package(Device.Plan(gc), Device.Options(CortexM.M0Plus, "snippets") with { ModelName = "hello" }, package);
        string project = Project("Makefile",
            "include ../m0plus/hello.mk\n" +
            "CFLAGS := -mcpu=cortex-m0plus -mthumb -mfloat-abi=hard\n" +
            "firmware.elf:\n\t@echo would link $(TINYML_HELLO_LIBS)\n");
        var (code, output) = Tool("make", project, "-C", project);
        Assert.NotEqual(0, code);
        Assert.Contains("hello.mk: libhello.a was built for cortex-m0plus with the soft float ABI (-mfloat-abi=soft), but CFLAGS names " +
            "-mfloat-abi=hard: objects of the two ABIs pass floats differently and do not link together. Compile the firmware with " +
            "-mfloat-abi=soft, or rebuild the model", output);
        Assert.DoesNotContain("would link", output);
    }

    /// <summary>A fresh project folder beside the package, with main.c and the given build file.</summary>
    private string Project(string buildFile, string text)
    {
        string dir = Path.Combine(_root, $"project-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "main.c"), Main);
        File.WriteAllText(Path.Combine(dir, buildFile), text);
        return dir;
    }

    private static (int Code, string Output) Configure(string project, params string[] cacheEntries) =>
        Tool("cmake", project, ["-S", project, "-B", Path.Combine(project, "build"), .. cacheEntries]);

    /// <summary>CMake wraps its messages at 80 columns with an indent.</summary>
    private static string OneLine(string text) => Regex.Replace(text, @"\s+", " ");

    private static (int Code, string Output) Tool(string file, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), $"{file} did not finish");
        return (process.ExitCode, stdout + stderr.Result);
    }
}
