// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Plan;

namespace TinyML.Device;

/// <summary>How to build a model for a Cortex-M core.</summary>
public sealed record DeviceBuildOptions
{
    /// <summary>The core (default Cortex-M4).</summary>
    public CortexMCore Core { get; init; } = CortexM.M4;
    /// <summary>Compile with -Os instead of -O2.</summary>
    public bool OptimizeForSize { get; init; }
    /// <summary>The C name of the model (its functions are {name}_invoke and so on).</summary>
    public string ModelName { get; init; } = "model";
    /// <summary>Where the generated C, objects, ELF and map go; default a new folder under the temp folder.</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>Where the compiled kernels and runtime are kept per core, optimisation and source hash; default
    /// tinyml-device-cache under the temp folder.</summary>
    public string? CacheDirectory { get; init; }
    /// <summary>The folder holding arm-none-eabi-gcc (default: TML_ARM_TOOLCHAIN_DIR, then PATH).</summary>
    public string? ToolchainDirectory { get; init; }
    /// <summary>A folder with the layout of src/TinyML.Kernels.Native (default: native/ beside this assembly).</summary>
    public string? NativeSourceDirectory { get; init; }
    /// <summary>Compiler processes run at once when compiling the kernels.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
    /// <summary>The stack the linker reserves (the bound is checked against it).</summary>
    public int StackReserveBytes { get; init; } = 64 * 1024;
    /// <summary>The harness trains instead of inferring (a plan with training only): each vector's inputs are the
    /// model's plus an int32 label, one <c>{name}_train_step</c> runs, and the outputs are the model's plus the trained
    /// weights (<c>{NAME}_TRAINED_WEIGHT_BYTES</c>, copied out inside the measured call). The glue then owns a larger
    /// arena, so the image's RAM is not the model's.</summary>
    public bool TrainingHarness { get; init; }
    /// <summary>Told each step as it starts ("compiling 20 kernel sources and 5 runtime sources for cortex-m4 (-O2)",
    /// "linking kws.elf", ...), in order, on the building thread: a large model takes tens of seconds.</summary>
    public IProgress<string>? Progress { get; init; }
}

/// <summary>A linked program for one core, with its sizes and its stack bound.</summary>
public sealed record DeviceImage(string ElfPath, string Directory, CortexMCore Core, string ModelName, DeviceSizeReport Sizes,
    StackBound Stack, IReadOnlyList<long> InputBytes, IReadOnlyList<long> OutputBytes, ElfFile Elf)
{
    /// <summary>The stack bound of what the harness calls (the glue's tml_device_invoke, then the invoke function):
    /// <see cref="Stack"/> plus the glue's frame, which is 0 where the core can tail-call. The painted stack that
    /// <see cref="QemuRunner"/> measures is checked against this.</summary>
    public StackBound? HarnessStack { get; init; }

    /// <summary>Whether the linked program defines a symbol of this name (gc-sections drops unused kernels).</summary>
    public bool HasSymbol(string name) => Elf.Symbols.Any(s => s.Name == name);
}

/// <summary>
/// The flash and RAM of a linked program, read from its ELF section headers and symbol table.
/// Flash = code + read-only data (the model's constants) + the initial image of .data. RAM = .data + .bss (which
/// holds the arena and the state) + the worst-case stack of the invoke path (<see cref="StackBytes"/>, from
/// <see cref="StackAnalysis"/>). The linker's stack reservation itself is not counted.
/// </summary>
public sealed record DeviceSizeReport(long TextBytes, long RodataBytes, long DataBytes, long BssBytes, long StackBytes,
    long ArenaBytes, long StateBytes, long ConstantBytes,
    long KernelCodeBytes, long ModelCodeBytes, long RuntimeCodeBytes, long LibraryCodeBytes)
{
    /// <summary>Code, read-only data and the .data image.</summary>
    public long FlashBytes => TextBytes + RodataBytes + DataBytes;
    /// <summary>.data, .bss and the invoke path's stack.</summary>
    public long RamBytes => DataBytes + BssBytes + StackBytes;
    /// <summary>The code that runs a model (the kernels it uses and its invoke function) without the harness and the
    /// C library: what TFLM's framework-plus-kernels .text compares with.</summary>
    public long InferenceCodeBytes => KernelCodeBytes + ModelCodeBytes;

    internal static DeviceSizeReport From(ElfFile elf, long stack, long arena, long state, long constants,
        ISet<string> kernelFunctions, ISet<string> modelFunctions, ISet<string> runtimeFunctions)
    {
        long text = 0, rodata = 0, data = 0, bss = 0;
        foreach (var s in elf.Sections.Where(s => s.Allocated && s.Name != ".stack"))
        {
            if (s.NoBits) bss += s.Size;
            else if (s.Writable) data += s.Size;
            else if ((s.Flags & 0x4) != 0) text += s.Size; // SHF_EXECINSTR
            else rodata += s.Size;
        }
        long kernel = 0, model = 0, runtime = 0, library = 0;
        foreach (var f in elf.Symbols.Where(s => s.IsFunction && s.Size > 0).GroupBy(s => (s.Name, s.Value)).Select(g => g.First()))
        {
            if (kernelFunctions.Contains(f.Name)) kernel += f.Size;
            else if (modelFunctions.Contains(f.Name)) model += f.Size;
            else if (runtimeFunctions.Contains(f.Name)) runtime += f.Size;
            else library += f.Size;
        }
        return new DeviceSizeReport(text, rodata, data, bss, stack, arena, state, constants, kernel, model, runtime, library);
    }
}

/// <summary>
/// Builds generated model C for a Cortex-M core with arm-none-eabi-gcc: the model (CEmitter), a glue file that
/// describes it to the harness, the kernels and the bare-metal runtime (compiled once per core, optimisation
/// level and source hash, and cached), linked with --gc-sections so that only the kernels the model calls remain.
/// </summary>
public static class DeviceBuild
{
    private static readonly object CacheLock = new();
    private static readonly Dictionary<string, Lazy<CompiledRuntime>> InProcess = new(StringComparer.Ordinal);

    /// <summary>Emits, compiles and links <paramref name="plan"/> with the model harness.</summary>
    public static DeviceImage Build(ExecutionPlan plan, DeviceBuildOptions options)
    {
        var toolchain = ArmToolchain.Locate(options.ToolchainDirectory);
        var sources = NativeSources.Locate(options.NativeSourceDirectory);
        var runtime = Runtime(toolchain, sources, options);
        string dir = OutputDirectory(options);
        string name = options.ModelName;

        options.Progress?.Report($"emitting {name}.c");
        var source = CEmitter.Emit(plan, name);
        WriteIfChanged(Path.Combine(dir, source.HeaderName), source.Header);
        WriteIfChanged(Path.Combine(dir, source.SourceName), source.Source);
        if (options.TrainingHarness && plan.Training is null)
            throw new DeviceException(DiagnosticIds.DeviceRunFailed, "the training harness needs a plan built with training (Train=\"head\")");
        WriteIfChanged(Path.Combine(dir, "tml_model_glue.c"), Glue(plan, name, options.TrainingHarness));
        var flags = CompileFlags(options).Concat(new[] { "-I", sources.Include, "-I", sources.Device, "-I", dir }).ToList();
        string modelObject = Path.Combine(dir, name + ".o"), glueObject = Path.Combine(dir, "tml_model_glue.o");
        options.Progress?.Report($"compiling {source.SourceName} for {options.Core.Name} ({Optimization(options)})");
        ToolProcess.RunAll(new[] { (source.SourceName, modelObject), ("tml_model_glue.c", glueObject) }, 2,
            unit => Compile(toolchain, flags, Path.Combine(dir, unit.Item1), unit.Item2));

        var objects = runtime.HarnessObjects.Append(modelObject).Append(glueObject).ToList();
        options.Progress?.Report($"linking {name}.elf");
        var image = Link(toolchain, sources, options, dir, name, objects, runtime.KernelArchive);
        options.Progress?.Report($"measuring the stack bound of {name}_invoke");
        var modelGraph = Path.ChangeExtension(modelObject, ".ci");
        var graphs = runtime.KernelCallGraphs.Concat(runtime.RuntimeCallGraphs).Append(modelGraph).Append(Path.ChangeExtension(glueObject, ".ci"))
            .Select(ci => new CallGraphUnit(ci, () => Relocations(toolchain, Path.ChangeExtension(ci, ".o")))).ToList();
        string disassembly = Disassemble(toolchain, image);
        var elf = ElfFile.Read(image);
        var stack = StackAnalysis.Analyze(name + "_invoke", graphs, disassembly, elf.Symbols);
        if (!stack.IsBounded) throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"the stack of {name}_invoke has no static bound: {stack.Unbounded}");
        if (stack.Bytes > options.StackReserveBytes)
            throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"the stack of {name}_invoke needs {stack.Bytes} bytes, more than the {options.StackReserveBytes} reserved: {stack}");
        var harnessStack = StackAnalysis.Analyze("tml_device_invoke", graphs, disassembly, elf.Symbols);
        var sizes = DeviceSizeReport.From(elf, stack.Bytes, plan.ArenaBytes, plan.StateBytes, plan.ConstantBytes,
            Functions(runtime.KernelCallGraphs), Functions(new[] { modelGraph }),
            Functions(runtime.RuntimeCallGraphs.Append(Path.ChangeExtension(glueObject, ".ci"))));
        var inputs = plan.Inputs.Select(t => t.Bytes).ToList();
        var outputs = plan.Outputs.Select(t => t.Bytes).ToList();
        if (options.TrainingHarness)
        {
            inputs.Add(4);
            outputs.Add(plan.Training!.ExportBytes);
        }
        return new DeviceImage(image, dir, options.Core, name, sizes, stack, inputs, outputs, elf) { HarnessStack = harnessStack };
    }

    /// <summary>
    /// Packages a model for a firmware project in <paramref name="outputDirectory"/>: {name}.c/.h, tml_kernels.h,
    /// lib{name}.a (the model) and libtinyml_kernels.a (the kernels for the core, one function a section so that
    /// --gc-sections keeps only those the model calls), a CMake snippet and a Makefile fragment. The model is also
    /// linked once with the device harness, which checks it links and measures its real flash, RAM and stack.
    /// </summary>
    public static DevicePackage Package(ExecutionPlan plan, DeviceBuildOptions options, string outputDirectory)
    {
        var toolchain = ArmToolchain.Locate(options.ToolchainDirectory);
        var sources = NativeSources.Locate(options.NativeSourceDirectory);
        var image = Build(plan, options);
        string dir = Path.GetFullPath(outputDirectory);
        Directory.CreateDirectory(dir);
        string name = options.ModelName;
        options.Progress?.Report($"writing lib{name}.a, {name}.cmake and {name}.mk");
        foreach (string file in new[] { name + ".h", name + ".c" }) File.Copy(Path.Combine(image.Directory, file), Path.Combine(dir, file), overwrite: true);
        File.Copy(Path.Combine(sources.Include, "tml_kernels.h"), Path.Combine(dir, "tml_kernels.h"), overwrite: true);
        File.Copy(Runtime(toolchain, sources, options).KernelArchive, Path.Combine(dir, "libtinyml_kernels.a"), overwrite: true);
        string library = Path.Combine(dir, $"lib{name}.a");
        File.Delete(library);
        var ar = ToolProcess.Run(toolchain.Ar, new[] { "rcs", library, Path.Combine(image.Directory, name + ".o") }, dir);
        if (ar.ExitCode != 0) throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"arm-none-eabi-ar failed:\n{ar.Output}");
        WriteIfChanged(Path.Combine(dir, name + ".cmake"), FirmwareSnippets.CMake(name, options.Core));
        WriteIfChanged(Path.Combine(dir, name + ".mk"), FirmwareSnippets.Make(name, options.Core));
        return new DevicePackage(dir, image.Sizes, image.Core);
    }

    /// <summary>Builds the calibration program (calibrate.c): the instruction counter measuring a known loop.</summary>
    public static DeviceImage BuildCalibration(DeviceBuildOptions options)
    {
        var toolchain = ArmToolchain.Locate(options.ToolchainDirectory);
        var sources = NativeSources.Locate(options.NativeSourceDirectory);
        var runtime = Runtime(toolchain, sources, options);
        string dir = OutputDirectory(options);
        var objects = runtime.CommonObjects.Append(runtime.CalibrationObject).ToList();
        string image = Link(toolchain, sources, options, dir, "calibrate", objects, archive: null);
        var elf = ElfFile.Read(image);
        var sizes = DeviceSizeReport.From(elf, 0, 0, 0, 0, new HashSet<string>(), new HashSet<string>(), Functions(runtime.RuntimeCallGraphs));
        return new DeviceImage(image, dir, options.Core, "calibrate", sizes, new StackBound("main", 0, Array.Empty<StackFrame>(), null),
            Array.Empty<long>(), Array.Empty<long>(), elf);
    }

    /// <summary>
    /// Builds a bare-metal test program (the shim checks, the differential harness): <paramref name="programSources"/>
    /// compiled with the kernel flags and include/, src/, device/ and <paramref name="includeDirectories"/> on the
    /// include path, linked with the startup code, semihosting, the kernel archive and, with
    /// <paramref name="withReference"/>, the reference archive (<see cref="ReferenceArchive"/>). main's return value
    /// is QEMU's exit code.
    /// </summary>
    internal static DeviceImage BuildTestProgram(DeviceBuildOptions options, string name, IReadOnlyList<string> programSources,
        IReadOnlyList<string> includeDirectories, bool withReference)
    {
        var toolchain = ArmToolchain.Locate(options.ToolchainDirectory);
        var sources = NativeSources.Locate(options.NativeSourceDirectory);
        var runtime = Runtime(toolchain, sources, options);
        string dir = OutputDirectory(options);
        var flags = CompileFlags(options)
            .Concat(new[] { "-I", sources.Include, "-I", sources.Kernels, "-I", sources.Device })
            .Concat(includeDirectories.SelectMany(d => new[] { "-I", d })).ToList();
        var objects = programSources.Select(s => Path.Combine(dir, Path.GetFileNameWithoutExtension(s) + ".o")).ToList();
        for (int i = 0; i < programSources.Count; i++) Compile(toolchain, flags, programSources[i], objects[i]);
        var all = runtime.CommonObjects.Concat(objects).ToList();
        if (withReference) all.Add(ReferenceArchive(toolchain, sources, options, runtime));
        string image = Link(toolchain, sources, options, dir, name, all, runtime.KernelArchive);
        var elf = ElfFile.Read(image);
        var sizes = DeviceSizeReport.From(elf, 0, 0, 0, 0, new HashSet<string>(), new HashSet<string>(), Functions(runtime.RuntimeCallGraphs));
        return new DeviceImage(image, dir, options.Core, name, sizes, new StackBound("main", 0, Array.Empty<StackFrame>(), null),
            Array.Empty<long>(), Array.Empty<long>(), elf);
    }

    /// <summary>
    /// The reference library for this core: the kernel sources compiled with TML_FORCE_PORTABLE=1 (every fast path
    /// off), every global symbol renamed tml_X to tml_ref_X (anything else Y to tml_ref_Y) with objcopy, so it links
    /// beside the real archive. Cached beside the kernel archive; built only when a test asks for it.
    /// </summary>
    private static readonly Dictionary<string, Lazy<string>> ReferenceArchives = new(StringComparer.Ordinal);

    private static string ReferenceArchive(ArmToolchain toolchain, NativeSources sources, DeviceBuildOptions options, CompiledRuntime runtime)
    {
        string dir = runtime.Directory + "-ref";
        Lazy<string> lazy;
        lock (CacheLock)
        {
            if (!ReferenceArchives.TryGetValue(dir, out lazy!))
                ReferenceArchives[dir] = lazy = new Lazy<string>(() => CompileReference(toolchain, sources, options, dir));
        }
        try { return lazy.Value; }
        catch
        {
            lock (CacheLock) ReferenceArchives.Remove(dir);
            throw;
        }
    }

    private static string CompileReference(ArmToolchain toolchain, NativeSources sources, DeviceBuildOptions options, string dir)
    {
        string archive = Path.Combine(dir, "libtinyml_kernels_ref.a");
        if (File.Exists(Path.Combine(dir, "complete"))) return archive;
        string Sibling(string tool)
        {
            // arm-none-eabi-nm and -objcopy sit beside arm-none-eabi-ar in every toolchain layout.
            string path = Path.Combine(Path.GetDirectoryName(toolchain.Ar)!, Path.GetFileName(toolchain.Ar).Replace("-ar", "-" + tool, StringComparison.Ordinal));
            return File.Exists(path) ? path : throw new DeviceException(DiagnosticIds.ArmToolchainNotFound,
                $"{path} was not found; the reference library needs it. Install the toolchain with: {ArmToolchain.InstallCommand}");
        }
        string nm = Sibling("nm"), objcopy = Sibling("objcopy");
        string staging = dir + $".tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            var flags = CompileFlags(options).Concat(new[] { "-DTML_FORCE_PORTABLE=1", "-I", sources.Include, "-I", sources.Kernels }).ToList();
            var units = KernelUnits(sources).Select(k => (k.Source, Output: Path.Combine(staging, k.Object + ".o"))).ToList();
            ToolProcess.RunAll(units, options.Parallelism, u => Compile(toolchain, flags, u.Source, u.Output));
            string raw = Path.Combine(staging, "raw.a");
            Tool(toolchain.Ar, new[] { "rcs", raw }.Concat(units.Select(u => u.Output)));
            // Every global symbol the archive defines: "<address> <type> <name>", upper-case type.
            var names = Tool(nm, new[] { "-g", "--defined-only", raw })
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Trim().Split(' '))
                .Where(f => f.Length == 3 && f[1].Length == 1 && char.IsUpper(f[1][0]))
                .Select(f => f[2]).Distinct(StringComparer.Ordinal).ToList();
            string map = Path.Combine(staging, "rename.syms");
            File.WriteAllLines(map, names.Select(n => $"{n} tml_ref_{(n.StartsWith("tml_", StringComparison.Ordinal) ? n.Substring(4) : n)}"));
            Tool(objcopy, new[] { $"--redefine-syms={map}", raw, Path.Combine(staging, "libtinyml_kernels_ref.a") });
            File.WriteAllText(Path.Combine(staging, "complete"), DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture));
            try { Directory.Move(staging, dir); }
            catch (IOException) when (File.Exists(Path.Combine(dir, "complete"))) { Directory.Delete(staging, recursive: true); }
            return archive;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }

        static string Tool(string tool, IEnumerable<string> args)
        {
            var result = ToolProcess.Run(tool, args);
            if (result.ExitCode != 0) throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"{Path.GetFileName(tool)} failed:\n{result.Output}");
            return result.StandardOutput;
        }
    }

    private static HashSet<string> Functions(IEnumerable<string> callGraphs) =>
        new(callGraphs.SelectMany(CallGraphFile.DefinedFunctions), StringComparer.Ordinal);

    private static string OutputDirectory(DeviceBuildOptions options)
    {
        string dir = options.OutputDirectory ?? Path.Combine(Path.GetTempPath(), $"tinyml-device-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return Path.GetFullPath(dir);
    }

    private static IEnumerable<string> CompileFlags(DeviceBuildOptions options) => options.Core.GccFlags.Concat(new[]
    {
        Optimization(options), "-std=c99", "-ffp-contract=off", "-ffunction-sections", "-fdata-sections",
        "-fstack-usage", "-fcallgraph-info=su", "-Wall", "-Wextra", "-Werror",
    });

    private static string Optimization(DeviceBuildOptions options) => options.OptimizeForSize ? "-Os" : "-O2";

    private static void Compile(ArmToolchain toolchain, IEnumerable<string> flags, string source, string output)
    {
        var result = ToolProcess.Run(toolchain.Gcc, flags.Concat(new[] { "-c", source, "-o", output }), Path.GetDirectoryName(output));
        if (result.ExitCode != 0)
            throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"arm-none-eabi-gcc failed on {Path.GetFileName(source)}:\n{result.Output}");
    }

    private static string Link(ArmToolchain toolchain, NativeSources sources, DeviceBuildOptions options, string dir, string name,
        IEnumerable<string> objects, string? archive)
    {
        string elf = Path.Combine(dir, name + ".elf");
        var args = options.Core.GccFlags.Concat(new[]
        {
            // -Xlinker: -Wl would split a folder name with a comma into two linker arguments.
            "-nostartfiles", "-Wl,--gc-sections", "-Xlinker", $"-Map={Path.Combine(dir, name + ".map")}",
            $"-Wl,--defsym=TML_STACK_SIZE={options.StackReserveBytes}", "-Wl,--no-warn-rwx-segments",
            "-L", sources.LinkerScripts, "-T", options.Core.LinkerScript,
        }).Concat(objects);
        if (archive is not null) args = args.Append(archive);
        args = args.Concat(new[] { "-lm", "-o", elf });
        var result = ToolProcess.Run(toolchain.Gcc, args, dir);
        if (result.ExitCode != 0)
            throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"linking {name}.elf for {options.Core.Name} failed:\n{result.Output}");
        return elf;
    }

    private static string Disassemble(ArmToolchain toolchain, string elf)
    {
        var result = ToolProcess.Run(toolchain.Objdump, new[] { "-d", "--no-show-raw-insn", elf });
        if (result.ExitCode != 0) throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"arm-none-eabi-objdump failed:\n{result.Output}");
        return result.StandardOutput;
    }

    private static string Relocations(ArmToolchain toolchain, string objectFile)
    {
        var result = ToolProcess.Run(toolchain.Objdump, new[] { "-r", objectFile });
        if (result.ExitCode != 0) throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"arm-none-eabi-objdump -r failed:\n{result.Output}");
        return result.StandardOutput;
    }

    /// <summary>The glue that describes the model to the harness (tml_device_model in tml_device.h). With
    /// <paramref name="training"/> (<see cref="DeviceBuildOptions.TrainingHarness"/>) the harness's extra input (the
    /// label) and output (the trained weights) live past the model's arena, in a larger one the glue owns.</summary>
    internal static string Glue(ExecutionPlan plan, string name, bool training = false)
    {
        string upper = name.ToUpperInvariant();
        string label = $"(({upper}_ARENA_BYTES + 15u) / 16u * 16u)", weights = $"({label} + 16u)";
        string List(string kind, int count, string field, string extra)
        {
            var items = Enumerable.Range(0, count).Select(i => $"{upper}_{kind}{i}_{field}").ToList();
            if (training) items.Add(extra);
            return items.Count == 0 ? "0" : string.Join(", ", items);
        }
        var c = new StringBuilder();
        c.Append("/* Generated by TinyML.Device: describes the model to the device harness. Do not edit. */\n");
        c.Append($"#include \"tml_device.h\"\n#include \"{name}.h\"\n{(training ? "#include <string.h>\n" : "")}\n");
        if (training)
        {
            c.Append($"static uint8_t tml_train_arena[{weights} + {upper}_TRAINED_WEIGHT_BYTES] __attribute__((aligned(16)));\n");
            c.Append("static uint8_t *tml_train_arena_of(void) { return tml_train_arena; }\n\n");
        }
        c.Append($"static const uint32_t tml_input_offset[] = {{ {List("INPUT", plan.Inputs.Count, "OFFSET", label)} }};\n");
        c.Append($"static const uint32_t tml_input_bytes[] = {{ {List("INPUT", plan.Inputs.Count, "BYTES", "4")} }};\n");
        c.Append($"static const uint32_t tml_output_offset[] = {{ {List("OUTPUT", plan.Outputs.Count, "OFFSET", weights)} }};\n");
        c.Append($"static const uint32_t tml_output_bytes[] = {{ {List("OUTPUT", plan.Outputs.Count, "BYTES", $"{upper}_TRAINED_WEIGHT_BYTES")} }};\n\n");
        c.Append("/* What the harness measures: one branch to the invoke function where the core can tail-call. */\n");
        c.Append("int32_t tml_device_invoke(void *arena);\n\n");
        if (training)
        {
            c.Append($"int32_t tml_device_invoke(void *arena)\n{{\n    uint8_t *a = (uint8_t *)arena;\n    int32_t label;\n");
            c.Append($"    memcpy(&label, a + {label}, 4);\n    int32_t status = {name}_train_step(a, label);\n");
            c.Append($"    memcpy(a + {weights}, {name}_trained_weights(), {upper}_TRAINED_WEIGHT_BYTES);\n    return status;\n}}\n\n");
        }
        else
            c.Append($"int32_t tml_device_invoke(void *arena)\n{{\n    return {name}_invoke((uint8_t *)arena);\n}}\n\n");
        string extra = training ? " + 1" : "";
        c.Append("const tml_device_model tml_device_the_model = {\n");
        c.Append($"    {(training ? "tml_train_arena_of" : name + "_arena")}, tml_device_invoke, {name}_reset_state,\n");
        c.Append($"    {upper}_INPUT_COUNT{extra}, tml_input_offset, tml_input_bytes,\n");
        c.Append($"    {upper}_OUTPUT_COUNT{extra}, tml_output_offset, tml_output_bytes,\n}};\n");
        return c.ToString();
    }

    private static void WriteIfChanged(string path, string text)
    {
        if (File.Exists(path) && File.ReadAllText(path) == text) return;
        File.WriteAllText(path, text);
    }

    // ---- the kernels and the runtime, compiled once per core, optimisation and source hash ----------------------

    private sealed record CompiledRuntime(string Directory, string KernelArchive, IReadOnlyList<string> KernelCallGraphs,
        IReadOnlyList<string> CommonObjects, string HarnessObject, string CalibrationObject, IReadOnlyList<string> RuntimeCallGraphs)
    {
        public IEnumerable<string> HarnessObjects => CommonObjects.Append(HarnessObject);
    }

    private static readonly string[] CommonRuntime = { "startup.c", "semihost.c", "measure.S" };
    private static readonly string[] RuntimeSources = { "startup.c", "semihost.c", "harness.c", "calibrate.c", "measure.S" };

    private static CompiledRuntime Runtime(ArmToolchain toolchain, NativeSources sources, DeviceBuildOptions options)
    {
        var flags = CompileFlags(options).ToList();
        string key = CacheKey(toolchain, sources, flags);
        string cache = Path.GetFullPath(options.CacheDirectory ?? Path.Combine(Path.GetTempPath(), "tinyml-device-cache"));
        string dir = Path.Combine(cache, $"{options.Core.Name}-{(options.OptimizeForSize ? "Os" : "O2")}-{key}");
        Lazy<CompiledRuntime> lazy;
        lock (CacheLock)
        {
            if (!InProcess.TryGetValue(dir, out lazy!))
                InProcess[dir] = lazy = new Lazy<CompiledRuntime>(() => CompileRuntime(toolchain, sources, options, flags, dir));
        }
        try { return lazy.Value; }
        catch
        {
            lock (CacheLock) InProcess.Remove(dir); // let a later build retry
            throw;
        }
    }

    private static CompiledRuntime CompileRuntime(ArmToolchain toolchain, NativeSources sources, DeviceBuildOptions options, List<string> flags, string dir)
    {
        var kernels = KernelUnits(sources);
        CompiledRuntime Describe(string root) => new(root, Path.Combine(root, "libtinyml_kernels.a"),
            kernels.Select(k => Path.Combine(root, "kernels", k.Object + ".ci")).ToList(),
            CommonRuntime.Select(r => Path.Combine(root, "runtime", Path.GetFileNameWithoutExtension(r) + ".o")).ToList(),
            Path.Combine(root, "runtime", "harness.o"), Path.Combine(root, "runtime", "calibrate.o"),
            new[] { "startup", "semihost", "harness", "calibrate" }.Select(r => Path.Combine(root, "runtime", r + ".ci")).ToList());
        if (File.Exists(Path.Combine(dir, "complete"))) return Describe(dir);

        string staging = dir + $".tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(Path.Combine(staging, "kernels"));
        Directory.CreateDirectory(Path.Combine(staging, "runtime"));
        try
        {
            // -I src: a kernel in a subfolder includes the internal headers (common.h, tml_arch.h) by name.
            var kernelFlags = flags.Concat(new[] { "-I", sources.Include, "-I", sources.Kernels }).ToList();
            var runtimeFlags = flags.Concat(new[] { "-I", sources.Device }).ToList();
            var asmFlags = options.Core.GccFlags.ToList();
            options.Progress?.Report($"compiling {kernels.Count} kernel sources and {RuntimeSources.Length} runtime sources for {options.Core.Name} ({Optimization(options)})");
            var units = kernels.Select(k => (Source: k.Source, Output: Path.Combine(staging, "kernels", k.Object + ".o"), Flags: kernelFlags))
                .Concat(RuntimeSources.Select(r => (Source: Path.Combine(sources.Device, r),
                    Output: Path.Combine(staging, "runtime", Path.GetFileNameWithoutExtension(r) + ".o"), Flags: r.EndsWith(".S", StringComparison.Ordinal) ? asmFlags : runtimeFlags)))
                .ToList();
            ToolProcess.RunAll(units, options.Parallelism, u => Compile(toolchain, u.Flags, u.Source, u.Output));
            var archive = ToolProcess.Run(toolchain.Ar, new[] { "rcs", Path.Combine(staging, "libtinyml_kernels.a") }
                .Concat(units.Where(u => u.Output.Contains(Path.DirectorySeparatorChar + "kernels" + Path.DirectorySeparatorChar)).Select(u => u.Output)));
            if (archive.ExitCode != 0) throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"arm-none-eabi-ar failed:\n{archive.Output}");
            File.WriteAllText(Path.Combine(staging, "complete"), DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture));
            try
            {
                Directory.Move(staging, dir);
            }
            catch (IOException) when (File.Exists(Path.Combine(dir, "complete")))
            {
                // Another process finished the same entry first; use it.
                Directory.Delete(staging, recursive: true);
            }
            return Describe(dir);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>The kernel sources (every .c below src/) with their unique object names.</summary>
    internal static IReadOnlyList<(string Source, string Object)> KernelUnits(NativeSources sources)
    {
        var units = sources.KernelSources()
            .Select(r => (Source: Path.Combine(sources.Kernels, r.Replace('/', Path.DirectorySeparatorChar)), Object: NativeSources.ObjectName(r)))
            .ToList();
        var clash = units.GroupBy(u => u.Object, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new DeviceException(DiagnosticIds.DeviceRunFailed, $"kernel sources {string.Join(" and ", clash.Select(u => u.Source))} map to one object name ({clash.Key}.o); rename one");
        return units;
    }

    private static readonly Dictionary<string, string> CompilerVersions = new(StringComparer.Ordinal);

    internal static string CacheKey(ArmToolchain toolchain, NativeSources sources, IEnumerable<string> flags)
    {
        string version;
        lock (CompilerVersions)
        {
            if (!CompilerVersions.TryGetValue(toolchain.Gcc, out version!))
                CompilerVersions[toolchain.Gcc] = version = ToolProcess.Run(toolchain.Gcc, new[] { "--version" }).StandardOutput;
        }
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        Add(version);
        Add(toolchain.Gcc);
        Add(string.Join(" ", flags));
        // Every file below each folder, subfolders included (a kernel in src/arm/dsp must not reuse a stale archive),
        // named by its relative path so that moving a file changes the key too.
        foreach (var (tag, folder) in new[] { ("include", sources.Include), ("src", sources.Kernels), ("device", sources.Device) })
            foreach (string file in NativeSources.Files(folder))
            {
                Add(tag + "/" + file);
                hash.AppendData(File.ReadAllBytes(Path.Combine(folder, file.Replace('/', Path.DirectorySeparatorChar))));
            }
        return Convert.ToHexString(hash.GetHashAndReset()).Substring(0, 16).ToLowerInvariant();
    }
}

/// <summary>A model packaged for a firmware project, with its real sizes.</summary>
public sealed record DevicePackage(string Directory, DeviceSizeReport Sizes, CortexMCore Core);
