// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace TinyML.Runtime.Tests;

/// <summary>
/// Writes src/TinyML.Plan/Plan/KernelAbi.g.cs from tml_kernels.h. It reads the subset of C the header uses:
/// <c>#define</c>s of integers, <c>typedef struct { ... } name;</c> with scalar, pointer, nested-struct and fixed-array
/// members, <c>typedef a b;</c>, and <c>TML_API</c> prototypes; anything else is an error, so the header cannot
/// outgrow the parser silently. Conditional blocks are skipped except <c>#ifndef</c> ones (the include guard and
/// defaults), which keeps <c>extern "C"</c> and the TML_API definitions out.
/// </summary>
internal static class KernelAbiGenerator
{
    public sealed record Member(string CType, string Name, int ArrayLength);
    public sealed record Parameter(string Name, string Kind, string CType);
    public sealed record Prototype(string Name, string ReturnType, List<Parameter> Parameters);

    public sealed class Header
    {
        public Dictionary<string, long> Defines { get; } = new();
        public List<(string Name, List<Member> Members)> Structs { get; } = new();
        public List<(string Alias, string Of)> StructAliases { get; } = new();
        public Dictionary<string, string> ScalarAliases { get; } = new();
        public List<Prototype> Prototypes { get; } = new();
    }

    public static string HeaderPath(string root) => Path.Combine(root, "src", "TinyML.Kernels.Native", "include", "tml_kernels.h");
    public static string OutputPath(string root) => Path.Combine(root, "src", "TinyML.Plan", "Plan", "KernelAbi.g.cs");

    public static Header Parse(string text)
    {
        var header = new Header();
        var code = new StringBuilder();
        var active = new Stack<bool>();
        foreach (string raw in StripComments(text.Replace("\r\n", "\n")).Split('\n'))
        {
            string line = raw.Trim();
            bool on = active.All(a => a);
            if (line.StartsWith("#", StringComparison.Ordinal))
            {
                var directive = Regex.Match(line, @"^#\s*(\w+)\s*(.*)$");
                string name = directive.Groups[1].Value, rest = directive.Groups[2].Value.Trim();
                switch (name)
                {
                    case "ifndef": active.Push(true); break;
                    case "if" or "ifdef": active.Push(false); break;
                    case "elif" or "else": active.Pop(); active.Push(false); break; // #ifndef's other branch, or a skipped #if's
                    case "endif": active.Pop(); break;
                    case "include": break;
                    case "define" when on:
                        var define = Regex.Match(rest, @"^(\w+)\s+(.+)$");
                        if (define.Success && ValueOf(define.Groups[2].Value, header.Defines) is long value) header.Defines[define.Groups[1].Value] = value;
                        break;
                    case "define": break;
                    default: throw new FormatException($"unexpected directive: {line}");
                }
                continue;
            }
            if (on) code.Append(raw).Append('\n');
        }
        foreach (string statement in Statements(code.ToString()))
            ParseStatement(Regex.Replace(statement, @"\s+", " ").Trim(), header);
        return header;
    }

    private static long? ValueOf(string text, Dictionary<string, long> defines)
    {
        text = text.Trim();
        if (long.TryParse(text, out long n)) return n;
        return defines.TryGetValue(text, out long d) ? d : null;
    }

    private static string StripComments(string text)
    {
        text = Regex.Replace(text, @"/\*.*?\*/", m => new string('\n', m.Value.Count(c => c == '\n')), RegexOptions.Singleline);
        return Regex.Replace(text, @"//[^\n]*", "");
    }

    /// <summary>Splits at top-level semicolons (a struct body's own semicolons stay inside its statement).</summary>
    private static IEnumerable<string> Statements(string code)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < code.Length; i++)
        {
            if (code[i] == '{') depth++;
            else if (code[i] == '}') depth--;
            else if (code[i] == ';' && depth == 0)
            {
                yield return code.Substring(start, i - start);
                start = i + 1;
            }
        }
        if (code.Substring(start).Trim().Length > 0) throw new FormatException($"text after the last statement: {code.Substring(start).Trim()}");
    }

    private static void ParseStatement(string s, Header header)
    {
        var structDef = Regex.Match(s, @"^typedef struct \{(.*)\} (\w+)$");
        if (structDef.Success)
        {
            var members = structDef.Groups[1].Value.Split(';').Select(m => m.Trim()).Where(m => m.Length > 0).Select(m => ParseMember(m, header)).ToList();
            header.Structs.Add((structDef.Groups[2].Value, members));
            return;
        }
        var alias = Regex.Match(s, @"^typedef (\w+) (\w+)$");
        if (alias.Success)
        {
            if (header.Structs.Any(x => x.Name == alias.Groups[1].Value)) header.StructAliases.Add((alias.Groups[2].Value, alias.Groups[1].Value));
            else header.ScalarAliases[alias.Groups[2].Value] = alias.Groups[1].Value;
            return;
        }
        var prototype = Regex.Match(s, @"^TML_API (\w+) (\w+) ?\((.*)\)$");
        if (prototype.Success)
        {
            string list = prototype.Groups[3].Value.Trim();
            var parameters = list == "void" ? new List<Parameter>() : list.Split(',').Select(p => ParseParameter(p, header)).ToList();
            header.Prototypes.Add(new Prototype(prototype.Groups[2].Value, prototype.Groups[1].Value, parameters));
            return;
        }
        throw new FormatException($"a declaration the ABI parser does not know: {s}");
    }

    /// <summary>Type tokens and a name; stars are their own tokens ("const void * const *").</summary>
    private static (string CType, string Name) Declarator(string text)
    {
        var tokens = Regex.Matches(text, @"\*|\w+").Select(m => m.Value).ToList();
        if (tokens.Count < 2 || tokens[^1] == "*") throw new FormatException($"cannot read the declaration '{text}'");
        return (string.Join(" ", tokens.Take(tokens.Count - 1)), tokens[^1]);
    }

    private static Member ParseMember(string text, Header header)
    {
        var array = Regex.Match(text, @"^(.*)\[(\w+)\]$");
        var (type, name) = Declarator(array.Success ? array.Groups[1].Value : text);
        int length = 0;
        if (array.Success)
            length = (int)(ValueOf(array.Groups[2].Value, header.Defines) ?? throw new FormatException($"unknown array length in '{text}'"));
        bool known = type is "int32_t" or "float" || type.EndsWith("*", StringComparison.Ordinal) || header.Structs.Any(x => x.Name == type);
        if (!known) throw new FormatException($"a struct member of a type the plan cannot write: '{text}'");
        return new Member(type, name, length);
    }

    private static Parameter ParseParameter(string text, Header header)
    {
        var (type, name) = Declarator(text);
        int stars = type.Count(c => c == '*');
        string baseType = type.Split(' ').Last(t => t != "*" && t != "const");
        string kind = stars switch
        {
            2 => "PointerArray",
            1 when header.Structs.Any(x => x.Name == baseType) || header.StructAliases.Any(x => x.Alias == baseType) => "Struct",
            1 => "Pointer",
            0 when Resolve(type, header) == "int32_t" => "Int32",
            0 => "Other",
            _ => throw new FormatException($"a parameter the ABI parser does not know: '{text}'"),
        };
        return new Parameter(name, kind, type);
    }

    private static string Resolve(string type, Header header) => header.ScalarAliases.TryGetValue(type, out string? of) ? Resolve(of, header) : type;

    /// <summary>The core name of a TML_CORE_* macro: TML_CORE_CORTEX_M0PLUS is "cortex-m0plus".</summary>
    private static string CoreName(string macro) => macro.Substring("TML_CORE_".Length).ToLowerInvariant().Replace('_', '-');

    public static string Generate(string headerText)
    {
        var h = Parse(headerText);
        var o = new StringBuilder();
        o.Append("// SPDX-License-Identifier: Apache-2.0\n");
        o.Append("// <auto-generated> from src/TinyML.Kernels.Native/include/tml_kernels.h by KernelAbiGenerator\n");
        o.Append("// (tests/TinyML.Runtime.Tests). Do not edit: after changing the header, run\n");
        o.Append("//   TINYML_UPDATE_ABI=1 dotnet test tests/TinyML.Runtime.Tests --filter KernelAbiTests\n");
        o.Append("// </auto-generated>\n");
        o.Append("namespace TinyML.Compiler.Plan;\n\n");
        o.Append("public static partial class KernelAbi\n{\n");
        o.Append("    /// <summary>TML_ABI_VERSION of tml_kernels.h.</summary>\n");
        o.Append($"    public const int Version = {h.Defines["TML_ABI_VERSION"]};\n\n");
        o.Append("    /// <summary>TML_MAX_DIMS of tml_kernels.h: the length of the N-D kernels' dimension arrays.</summary>\n");
        o.Append($"    public const int MaxDims = {h.Defines["TML_MAX_DIMS"]};\n\n");
        o.Append("    private static readonly AbiCore[] CoreTable =\n    {\n");
        foreach (var core in h.Defines.Where(d => d.Key.StartsWith("TML_CORE_", StringComparison.Ordinal)).OrderBy(d => d.Value))
            o.Append($"        new(\"{CoreName(core.Key)}\", {core.Value}),\n");
        o.Append("    };\n\n");
        o.Append("    private static readonly (string Alias, string Of)[] AliasTable =\n    {\n");
        foreach (var (alias, of) in h.StructAliases) o.Append($"        (\"{alias}\", \"{of}\"),\n");
        o.Append("    };\n\n");
        o.Append("    private static readonly AbiStruct[] StructTable =\n    {\n");
        foreach (var (name, members) in h.Structs)
        {
            o.Append($"        new(\"{name}\", new AbiMember[]\n        {{\n");
            foreach (var m in members) o.Append($"            new(\"{m.CType}\", \"{m.Name}\"{(m.ArrayLength > 0 ? $", {m.ArrayLength}" : "")}),\n");
            o.Append("        }),\n");
        }
        o.Append("    };\n\n");
        o.Append("    private static readonly AbiPrototype[] PrototypeTable =\n    {\n");
        foreach (var p in h.Prototypes)
        {
            o.Append($"        new(\"{p.Name}\", \"{p.ReturnType}\", new AbiParameter[]\n        {{\n");
            foreach (var a in p.Parameters) o.Append($"            new(\"{a.Name}\", ParamKind.{a.Kind}, \"{a.CType}\"),\n");
            o.Append("        }),\n");
        }
        o.Append("    };\n}\n");
        return o.ToString();
    }
}
