// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace TinyML.Device;

/// <summary>A unit compiled with -fstack-usage -fcallgraph-info=su: its .ci file (the .su beside it), and a way to
/// get the relocations of its object file (<c>objdump -r</c>), needed only when the unit makes an indirect call.</summary>
public sealed record CallGraphUnit(string CallGraph, Func<string>? Relocations = null);

/// <summary>One function on the deepest call path, with its own stack frame.</summary>
public sealed record StackFrame(string Function, long Bytes, string Source);

/// <summary>
/// The worst-case stack of a call tree: the deepest path and its total, or why it has no static bound (recursion,
/// an indirect call, a dynamically sized frame).
/// </summary>
public sealed record StackBound(string Root, long Bytes, IReadOnlyList<StackFrame> Path, string? Unbounded)
{
    /// <summary>Whether <see cref="Bytes"/> is a proven upper bound.</summary>
    public bool IsBounded => Unbounded is null;

    /// <inheritdoc />
    public override string ToString() => IsBounded
        ? $"{Bytes} B: {string.Join(" > ", Path.Select(f => $"{f.Function} ({f.Bytes})"))}"
        : $"unbounded ({Unbounded})";
}

/// <summary>
/// Bounds the stack of a call tree of the linked program.
/// <list type="bullet">
/// <item>Functions we compile (kernels, model, runtime) are compiled with -fstack-usage and -fcallgraph-info=su:
/// the frame of each comes from its .su file (the qualifier must be <c>static</c>, or <c>dynamic,bounded</c>), its
/// calls from the .ci call graph, which GCC writes after code generation, so it includes library calls the compiler
/// emitted itself (__aeabi_*).</item>
/// <item>An indirect call (the kernels' broadcast driver takes its row function as a pointer) may reach any function
/// whose address its file takes: every relocation of the object file other than a call or a branch that names a
/// function of the file. This assumes that function pointers do not cross files, which holds for the kernels
/// (pure functions, no callbacks in the public API); a unit that makes an indirect call but takes no function's
/// address has no bound.</item>
/// <item>Library functions (newlib, libgcc) have no .su file. Their frame is read from the disassembly of the linked
/// ELF: every push, vpush, store with SP writeback and constant SP subtraction in the function, summed whether or
/// not they are on the same path (an over-estimate), and their calls from its bl/blx/tail-branch targets. A
/// register-sized SP subtraction or a blx through a register makes the bound fail rather than guess.</item>
/// </list>
/// The bound is the maximum over call paths from the root of the sum of the frames on the path. Interrupt handlers
/// are not included: their stacking belongs to the application's worst case.
/// </summary>
public static class StackAnalysis
{
    private sealed class Node
    {
        public required string Name;
        public long Frame;
        public string Source = "";
        public string? Problem;
        public List<string> Callees = new();
        public CallGraphUnit? IndirectFrom;
    }

    /// <summary>The stack bound of <paramref name="root"/> (a global function name).</summary>
    /// <param name="root">The function whose worst case is wanted, for example <c>model_invoke</c>.</param>
    /// <param name="units">Every unit compiled with -fcallgraph-info=su.</param>
    /// <param name="disassembly">The output of <c>arm-none-eabi-objdump -d</c> of the linked ELF, for library code.</param>
    /// <param name="symbols">The ELF's symbols: objdump labels a function by one of its names, and libgcc's
    /// __aeabi_* entry points are aliases (__aeabi_idiv is __divsi3), so other names are resolved by address.</param>
    public static StackBound Analyze(string root, IEnumerable<CallGraphUnit> units, string disassembly, IEnumerable<ElfSymbol> symbols)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var unit in units)
        {
            var defined = ReadCallGraph(unit, Path.ChangeExtension(unit.CallGraph, ".su"), nodes);
            var indirect = defined.Values.Where(t => nodes[t].IndirectFrom is not null).ToList();
            if (indirect.Count == 0) continue;
            var targets = AddressTaken(unit, defined);
            foreach (string title in indirect)
            {
                if (targets.Count == 0) nodes[title].Problem = "indirect call, and its file takes the address of no function";
                else nodes[title].Callees.AddRange(targets.Where(t => t != title));
            }
        }
        Dictionary<string, Node>? library = null;
        Dictionary<uint, Node>? byAddress = null;
        var addresses = symbols.Where(s => s.IsFunction).GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First().Value & ~1u, StringComparer.Ordinal);

        Node? Resolve(string title)
        {
            if (nodes.TryGetValue(title, out var node)) return node;
            if (library is null) (library, byAddress) = ReadDisassembly(disassembly);
            if (library.TryGetValue(title, out node)) return node;
            return addresses.TryGetValue(title, out uint address) && byAddress!.TryGetValue(address, out node) ? node : null;
        }

        var memo = new Dictionary<string, (long Bytes, List<StackFrame> Path)>(StringComparer.Ordinal);
        var onPath = new HashSet<string>(StringComparer.Ordinal);
        string? problem = null;

        (long, List<StackFrame>) Deepest(string title)
        {
            if (memo.TryGetValue(title, out var known)) return known;
            var node = Resolve(title);
            if (node is null)
            {
                problem ??= $"no stack information for '{title}' (not in any .su file nor in the linked program)";
                return (0, new List<StackFrame>());
            }
            if (node.Problem is not null) problem ??= $"{node.Name}: {node.Problem}";
            if (!onPath.Add(title))
            {
                problem ??= $"recursion through {node.Name}";
                return (0, new List<StackFrame>());
            }
            long best = 0;
            List<StackFrame> bestPath = new();
            foreach (string callee in node.Callees.Distinct())
            {
                var (bytes, path) = Deepest(callee);
                if (bytes > best || bestPath.Count == 0 && path.Count > 0 && bytes >= best) { best = bytes; bestPath = path; }
            }
            onPath.Remove(title);
            var result = (node.Frame + best, new List<StackFrame> { new(node.Name, node.Frame, node.Source) }.Concat(bestPath).ToList());
            memo[title] = result;
            return result;
        }

        if (!nodes.ContainsKey(root)) return new StackBound(root, 0, Array.Empty<StackFrame>(), $"'{root}' is in no call graph");
        var (total, frames) = Deepest(root);
        return new StackBound(root, total, frames, problem);
    }

    // node: { title: "T" label: "name\npath:line:col\nN bytes (static)" }   (defined here)
    // node: { title: "T" label: "name\n<built-in>" shape : ellipse }      (external)
    // edge: { sourcename: "A" targetname: "B" }
    private static readonly Regex NodeLine = new("^node: \\{ title: \"(?<title>[^\"]*)\" label: \"(?<label>[^\"]*)\"(?<rest>.*)$", RegexOptions.CultureInvariant);
    private static readonly Regex EdgeLine = new("^edge: \\{ sourcename: \"(?<from>[^\"]*)\" targetname: \"(?<to>[^\"]*)\"", RegexOptions.CultureInvariant);

    // Returns the functions the unit defines: name -> title.
    private static Dictionary<string, string> ReadCallGraph(CallGraphUnit unit, string suPath, Dictionary<string, Node> nodes)
    {
        string ciPath = unit.CallGraph;
        var defined = new Dictionary<string, string>(StringComparer.Ordinal);
        // .su: path:line:col:name<TAB>bytes<TAB>qualifier
        var frames = new Dictionary<string, (long Bytes, string Qualifier)>(StringComparer.Ordinal);
        if (!File.Exists(suPath)) throw new DeviceException(DiagnosticIds.InternalError, $"{suPath} is missing (compiled without -fstack-usage?)");
        foreach (string line in File.ReadAllLines(suPath))
        {
            var parts = line.Split('\t');
            if (parts.Length >= 3) frames[parts[0]] = (long.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]);
        }
        foreach (string line in File.ReadAllLines(ciPath))
        {
            var n = NodeLine.Match(line);
            if (n.Success)
            {
                var label = n.Groups["label"].Value.Split(new[] { "\\n" }, StringSplitOptions.None);
                if (label.Length < 3 || !label[2].Contains(" bytes (")) continue; // declared here, defined elsewhere
                string key = label[1] + ":" + label[0];
                if (!frames.TryGetValue(key, out var frame))
                    throw new DeviceException(DiagnosticIds.InternalError, $"{suPath} has no entry for {key}");
                string title = n.Groups["title"].Value;
                var node = nodes.TryGetValue(title, out var existing) ? existing : nodes[title] = new Node { Name = label[0] };
                node.Frame = frame.Bytes;
                node.Source = Path.GetFileName(suPath);
                defined[label[0]] = title;
                if (frame.Qualifier != "static" && frame.Qualifier != "dynamic,bounded")
                    node.Problem = $"frame is {frame.Qualifier} (-fstack-usage)";
                continue;
            }
            var e = EdgeLine.Match(line);
            if (!e.Success) continue;
            string from = e.Groups["from"].Value, to = e.Groups["to"].Value;
            if (!nodes.TryGetValue(from, out var source)) source = nodes[from] = new Node { Name = from };
            if (to == "__indirect_call") source.IndirectFrom = unit;
            else source.Callees.Add(to);
        }
        return defined;
    }

    // "00000014 R_ARM_ABS32       add_row" or "... .text.add_row" (objdump -r of the unit's object)
    private static readonly HashSet<string> CallRelocations = new(StringComparer.Ordinal)
    {
        "R_ARM_THM_CALL", "R_ARM_THM_JUMP24", "R_ARM_THM_JUMP19", "R_ARM_THM_JUMP11", "R_ARM_THM_JUMP8", "R_ARM_THM_JUMP6",
        "R_ARM_CALL", "R_ARM_JUMP24", "R_ARM_PC24",
    };

    private static List<string> AddressTaken(CallGraphUnit unit, Dictionary<string, string> defined)
    {
        var taken = new List<string>();
        if (unit.Relocations is null) return taken;
        foreach (string line in unit.Relocations().Split('\n'))
        {
            var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || !parts[1].StartsWith("R_ARM_", StringComparison.Ordinal) || CallRelocations.Contains(parts[1])) continue;
            string symbol = parts[2].Split('+', '-')[0];
            if (symbol.StartsWith(".text.", StringComparison.Ordinal)) symbol = symbol.Substring(".text.".Length);
            if (defined.TryGetValue(symbol, out var title) && !taken.Contains(title)) taken.Add(title);
        }
        return taken;
    }

    // "00000120 <memcpy>:" then "     120:\tpush\t{r4, lr}" (objdump -d --no-show-raw-insn)
    private static readonly Regex FunctionStart = new("^(?<address>[0-9a-f]+) <(?<name>[^>]+)>:$", RegexOptions.CultureInvariant);
    private static readonly Regex Instruction = new("^\\s*[0-9a-f]+:\\s+(?<op>[a-z][a-z0-9.]*)\\s*(?<args>.*)$", RegexOptions.CultureInvariant);
    private static readonly Regex Target = new("<(?<name>[^>+]+)(?<offset>\\+0x[0-9a-f]+)?>", RegexOptions.CultureInvariant);
    private static readonly Regex SubSp = new("^sp, (sp, )?#(?<n>\\d+)", RegexOptions.CultureInvariant);
    private static readonly Regex PreIndexStore = new("\\[sp, #-(?<n>\\d+)\\]!", RegexOptions.CultureInvariant);
    private static readonly string[] Conditions = { "eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al" };

    private static (Dictionary<string, Node>, Dictionary<uint, Node>) ReadDisassembly(string disassembly)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        var byAddress = new Dictionary<uint, Node>();
        Node? current = null;
        foreach (string line in disassembly.Split('\n'))
        {
            var f = FunctionStart.Match(line.TrimEnd('\r'));
            if (f.Success)
            {
                current = new Node { Name = f.Groups["name"].Value, Source = "disassembly" };
                nodes.TryAdd(current.Name, current);
                byAddress.TryAdd(uint.Parse(f.Groups["address"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), current);
                continue;
            }
            if (current is null) continue;
            var i = Instruction.Match(line.TrimEnd('\r'));
            if (!i.Success) continue;
            string op = i.Groups["op"].Value, args = i.Groups["args"].Value.Trim();
            int comment = args.IndexOf(';');
            if (comment >= 0 && !args.Contains('<')) args = args.Substring(0, comment).Trim();
            string bare = op.Split('.')[0];
            if (bare is "push" || (bare is "stmdb" or "stmfd") && args.StartsWith("sp!", StringComparison.Ordinal))
                current.Frame += 4 * Registers(args);
            else if (bare is "vpush" || bare is "vstmdb" && args.StartsWith("sp!", StringComparison.Ordinal))
                current.Frame += (args.Contains("{d") ? 8 : 4) * Registers(args);
            else if (bare is "sub" or "subw" && args.StartsWith("sp, ", StringComparison.Ordinal))
            {
                var m = SubSp.Match(args);
                if (m.Success) current.Frame += long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
                else current.Problem = $"sets SP from a register ({op} {args})";
            }
            else if (bare.StartsWith("str", StringComparison.Ordinal) && PreIndexStore.Match(args) is { Success: true } pre)
                current.Frame += long.Parse(pre.Groups["n"].Value, CultureInfo.InvariantCulture);
            else if (bare is "bl" or "blx")
            {
                var t = Target.Match(args);
                if (t.Success) current.Callees.Add(t.Groups["name"].Value);
                else current.Problem = $"indirect call ({op} {args})";
            }
            else if (IsBranch(bare) && Target.Match(args) is { Success: true } b && !b.Groups["offset"].Success && b.Groups["name"].Value != current.Name)
                current.Callees.Add(b.Groups["name"].Value); // a tail call
        }
        return (nodes, byAddress);
    }

    private static bool IsBranch(string op) => op == "b" || op.Length == 3 && op[0] == 'b' && Conditions.Contains(op.Substring(1));

    // "{r4, r5, r6, lr}" or "{r4-r7, lr}" or "{d8-d15}"
    private static int Registers(string args)
    {
        int open = args.IndexOf('{'), close = args.IndexOf('}');
        if (open < 0 || close < open) return 0;
        int count = 0;
        foreach (string item in args.Substring(open + 1, close - open - 1).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = item.IndexOf('-');
            if (dash < 0) { count++; continue; }
            int a = int.Parse(item.Substring(1, dash - 1), CultureInfo.InvariantCulture);
            int b = int.Parse(item.Substring(dash + 2), CultureInfo.InvariantCulture);
            count += b - a + 1;
        }
        return count;
    }
}

/// <summary>Reads which functions a .ci call graph defines.</summary>
internal static class CallGraphFile
{
    private static readonly Regex DefinedNode = new("^node: \\{ title: \"[^\"]*\" label: \"(?<name>[^\"\\\\]*)\\\\n[^\"]*\\\\n\\d+ bytes \\(", RegexOptions.CultureInvariant);

    /// <summary>The names of the functions defined in the unit.</summary>
    public static IEnumerable<string> DefinedFunctions(string ciPath) =>
        File.ReadLines(ciPath).Select(l => DefinedNode.Match(l)).Where(m => m.Success).Select(m => m.Groups["name"].Value);
}
