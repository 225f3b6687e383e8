// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Plan;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The generated ABI description (KernelAbi.g.cs) against tml_kernels.h: regenerating it changes nothing, the C
/// compiler agrees with every offset, size, field type and prototype it states, and a second, independent reading
/// of the header finds the same names in the same order.
/// </summary>
public class KernelAbiTests
{
    private static string HeaderText => File.ReadAllText(KernelAbiGenerator.HeaderPath(SharedData.Repo));

    [Fact]
    public void Generated_IsWhatTheHeaderGenerates()
    {
        string generated = KernelAbiGenerator.Generate(HeaderText);
        string path = KernelAbiGenerator.OutputPath(SharedData.Repo);
        if (Environment.GetEnvironmentVariable("TINYML_UPDATE_ABI") == "1") File.WriteAllText(path, generated);
        Assert.True(generated == File.ReadAllText(path).Replace("\r\n", "\n"),
            $"{path} is stale: run TINYML_UPDATE_ABI=1 dotnet test tests/TinyML.Runtime.Tests --filter KernelAbiTests");
    }

    /// <summary>
    /// A C file of static assertions and typed function pointers built from the description: gcc checks every
    /// offsetof, sizeof, member type and prototype against the real header (a mismatch does not compile).
    /// </summary>
    [Fact]
    public void CCompiler_AgreesWithEveryLayoutAndPrototype()
    {
        var c = new StringBuilder();
        c.Append("#include <stddef.h>\n#include \"tml_kernels.h\"\n");
        int n = 0;
        void Assert(string condition) => c.Append($"_Static_assert({condition}, \"check {n++}: {condition.Replace("\"", "'")}\");\n");
        Assert($"TML_ABI_VERSION == {KernelAbi.Version}");
        Assert($"TML_MAX_DIMS == {KernelAbi.MaxDims}");
        foreach (var core in KernelAbi.Cores) Assert($"TML_CORE_{core.Name.ToUpperInvariant().Replace('-', '_')} == {core.Id}");
        Assert($"TML_CORES == {KernelAbi.Cores.Count}");
        foreach (var s in KernelAbi.Structs)
        {
            Assert($"sizeof({s.Name}) == {s.Size}");
            Assert($"_Alignof({s.Name}) == {s.Alignment}");
            foreach (var f in s.Fields)
            {
                Assert($"offsetof({s.Name}, {f.Name}) == {f.Offset}");
                Assert($"_Generic((({s.Name} *)0)->{f.Name}, {f.CType}: 1, default: 0)");
            }
        }
        foreach (var (alias, of) in KernelAbi.Aliases)
            Assert($"_Generic(({alias} *)0, {of} *: 1, default: 0)");
        foreach (var p in KernelAbi.Prototypes)
        {
            string parameters = p.Parameters.Count == 0 ? "void" : string.Join(", ", p.Parameters.Select(a => a.CType));
            c.Append($"{p.ReturnType} (*const check_{p.Name})({parameters}) = {p.Name};\n");
        }
        string dir = Directory.CreateTempSubdirectory("tml-abi-").FullName;
        try
        {
            string source = Path.Combine(dir, "abi_probe.c");
            File.WriteAllText(source, c.ToString());
            var psi = new ProcessStartInfo("gcc", $"-std=c11 -Wall -Werror -pedantic-errors -fsyntax-only -I \"{Path.GetDirectoryName(KernelAbiGenerator.HeaderPath(SharedData.Repo))}\" \"{source}\"")
            {
                RedirectStandardError = true, RedirectStandardOutput = true,
            };
            using var gcc = Process.Start(psi)!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Xunit.Assert.True(gcc.ExitCode == 0, errors);
            Xunit.Assert.True(n > 500, $"only {n} checks"); // every struct and field took part
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The names gcc cannot check (parameter names, member order by name), read from the header by regular expressions.</summary>
    [Fact]
    public void Names_MatchAnIndependentReadingOfTheHeader()
    {
        string text = Regex.Replace(HeaderText, @"/\*.*?\*/", " ", RegexOptions.Singleline);
        var functions = Regex.Matches(text, @"TML_API\s+\w+\s+(\w+)\s*\(([^)]*)\)\s*;").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(functions.Keys.OrderBy(k => k, StringComparer.Ordinal), KernelAbi.Prototypes.Select(p => p.Name).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var p in KernelAbi.Prototypes)
        {
            var names = functions[p.Name].Trim() == "void" ? new List<string>() : functions[p.Name].Split(',').Select(a => Regex.Match(a, @"(\w+)\s*$").Groups[1].Value).ToList();
            Assert.Equal(names, p.Parameters.Select(a => a.Name));
        }
        var structs = Regex.Matches(text, @"typedef\s+struct\s*\{([^}]*)\}\s*(\w+)\s*;").ToDictionary(m => m.Groups[2].Value, m => m.Groups[1].Value);
        Assert.Equal(structs.Keys.OrderBy(k => k, StringComparer.Ordinal), KernelAbi.Structs.Select(s => s.Name).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var s in KernelAbi.Structs)
        {
            var members = structs[s.Name].Split(';').Where(m => m.Trim().Length > 0).Select(m => Regex.Match(m, @"(\w+)\s*(\[\s*\w+\s*\])?\s*$").Groups[1].Value).ToList();
            Assert.Equal(members, s.Members.Select(m => m.Name));
        }
    }

    [Fact]
    public void Cores_AreTheCompilersTargetsAndTheHost()
    {
        Assert.Equal(new[] { "host" }.Concat(Board.Cores), KernelAbi.Cores.Select(c => c.Name));
        Assert.Equal(Enumerable.Range(0, KernelAbi.Cores.Count), KernelAbi.Cores.Select(c => c.Id));
        Assert.Equal(3, KernelAbi.CoreId("cortex-m4"));
        Assert.Null(KernelAbi.CoreId("cortex-a53"));
    }

    [Fact]
    public void Slots_AreNamed()
    {
        Assert.Equal(7, KernelAbi.Slot("tml_conv_s8", "output_dims"));
        Assert.Equal(1, KernelAbi.Slot("tml_conv_f32", "input_dims"));
        Assert.Throws<ArgumentException>(() => KernelAbi.Slot("tml_conv_s8", "input_shape"));
        Assert.Throws<ArgumentException>(() => KernelAbi.Slot("tml_conv_s9", "input_dims"));
    }

    [Fact]
    public void Fields_AreFlattenedAsPlansWriteThem()
    {
        var add = KernelAbi.Struct("tml_add_params")!;
        Assert.Equal(new[] { "input1_offset", "input2_offset", "output_offset", "left_shift", "input1_quant.multiplier", "input1_quant.shift",
            "input2_quant.multiplier", "input2_quant.shift", "output_quant.multiplier", "output_quant.shift", "activation_min", "activation_max" },
            add.Fields.Select(f => f.Name));
        var shape = KernelAbi.Struct("tml_broadcast_shape")!;
        Assert.Equal(1 + 3 * KernelAbi.MaxDims, shape.Fields.Count);
        Assert.Equal("input2_strides[5]", shape.Fields[^1].Name);
        Assert.Same(KernelAbi.Struct("tml_logistic_params"), KernelAbi.Struct("tml_tanh_params"));
        Assert.Equal(FieldType.Pointer, KernelAbi.Struct("tml_per_channel_quant")!.Fields[1].Type);
    }
}
