// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;

namespace TinyML.Compiler.Plan;

/// <summary>How a kernel parameter is passed.</summary>
public enum ParamKind
{
    /// <summary>A pointer to tensor data or scratch (<c>const int8_t *</c>, <c>void *</c>): a plan <see cref="ArgKind.Pointer"/>.</summary>
    Pointer,
    /// <summary>An <c>int32_t</c> by value: a plan <see cref="ArgKind.Int32"/>.</summary>
    Int32,
    /// <summary>A parameter struct by const pointer: a plan <see cref="ArgKind.Struct"/>.</summary>
    Struct,
    /// <summary>An array of pointers (<c>const void *const *</c>): a plan <see cref="ArgKind.PointerArray"/>.</summary>
    PointerArray,
    /// <summary>Any other by-value type (<c>int8_t</c>); a plan cannot pass it.</summary>
    Other,
}

/// <summary>One parameter of a function in tml_kernels.h.</summary>
public sealed record AbiParameter(string Name, ParamKind Kind, string CType)
{
    /// <summary>The struct type of a <see cref="ParamKind.Struct"/> parameter, as written in the header; null otherwise.</summary>
    public string? StructType => Kind == ParamKind.Struct
        ? CType.Split(' ').Single(t => t.StartsWith("tml_", StringComparison.Ordinal))
        : null;
}

/// <summary>A function of tml_kernels.h: its name, C return type and parameters in order.</summary>
public sealed record AbiPrototype(string Name, string ReturnType, IReadOnlyList<AbiParameter> Parameters)
{
    /// <summary>The position of parameter <paramref name="name"/>; throws when the function has none of that name.</summary>
    public int Slot(string name)
    {
        for (int i = 0; i < Parameters.Count; i++)
            if (Parameters[i].Name == name) return i;
        throw new ArgumentException($"{Name} has no parameter '{name}' in tml_kernels.h", nameof(name));
    }

    /// <summary>
    /// One letter a parameter (P for anything passed as a pointer, I for an int32_t), or null when a plan cannot
    /// pass some parameter.
    /// </summary>
    public string? Shape => Parameters.Any(p => p.Kind == ParamKind.Other)
        ? null
        : new string(Parameters.Select(p => p.Kind == ParamKind.Int32 ? 'I' : 'P').ToArray());

    /// <summary>A kernel a plan can call: it returns tml_status and a plan can pass every parameter.</summary>
    public bool IsKernel => ReturnType == "tml_status" && Shape is not null;
}

/// <summary>A member of a struct as declared: its C type, name, and array length (0 for a scalar).</summary>
public sealed record AbiMember(string CType, string Name, int ArrayLength = 0);

/// <summary>
/// A field as a plan writes it: nested structs and arrays flattened to scalars named <c>quant.shift</c> and
/// <c>dims[3]</c>, with the C offset in this process (pointers are <see cref="IntPtr.Size"/> bytes).
/// </summary>
public sealed record AbiField(string Name, FieldType Type, string CType, int Offset);

/// <summary>A parameter struct of tml_kernels.h.</summary>
public sealed class AbiStruct
{
    private readonly Lazy<(IReadOnlyList<AbiField> Fields, int Size, int Alignment)> _layout;

    internal AbiStruct(string name, AbiMember[] members)
    {
        Name = name;
        Members = members;
        _layout = new Lazy<(IReadOnlyList<AbiField>, int, int)>(Layout);
    }

    /// <summary>The typedef name.</summary>
    public string Name { get; }
    /// <summary>The members in declaration order.</summary>
    public IReadOnlyList<AbiMember> Members { get; }
    /// <summary>The flattened fields in order, as a plan's <see cref="Arg.Fields"/> must list them.</summary>
    public IReadOnlyList<AbiField> Fields => _layout.Value.Fields;
    /// <summary>sizeof in this process.</summary>
    public int Size => _layout.Value.Size;
    /// <summary>_Alignof in this process.</summary>
    public int Alignment => _layout.Value.Alignment;

    // C layout: each scalar naturally aligned, the struct padded to its largest alignment.
    private (IReadOnlyList<AbiField>, int, int) Layout()
    {
        var fields = new List<AbiField>();
        int size = 0, alignment = 1;
        foreach (var m in Members)
        {
            int count = Math.Max(m.ArrayLength, 1);
            for (int i = 0; i < count; i++)
            {
                string name = m.ArrayLength > 0 ? $"{m.Name}[{i}]" : m.Name;
                if (KernelAbi.Struct(m.CType) is { } nested)
                {
                    size = Align(size, nested.Alignment);
                    fields.AddRange(nested.Fields.Select(f => f with { Name = $"{name}.{f.Name}", Offset = size + f.Offset }));
                    size += nested.Size;
                    alignment = Math.Max(alignment, nested.Alignment);
                    continue;
                }
                var (type, bytes) = KernelAbi.Scalar(m.CType);
                size = Align(size, bytes);
                fields.Add(new AbiField(name, type, m.CType, size));
                size += bytes;
                alignment = Math.Max(alignment, bytes);
            }
        }
        return (fields, Align(size, alignment), alignment);
    }

    private static int Align(int value, int alignment) => (value + alignment - 1) / alignment * alignment;
}

/// <summary>A core the <c>_get_buffer_size_for</c> functions answer for: the TinyML core name and its TML_CORE_* id.</summary>
public sealed record AbiCore(string Name, int Id);

/// <summary>
/// The C ABI of the kernel library, generated from tml_kernels.h (KernelAbi.g.cs; docs/kernels.md says how): every
/// function's parameters, every parameter struct's fields, the ABI version and the core ids. The runtime calls and
/// packs from it, the compiler names argument slots with it, and plans are checked against it.
/// </summary>
public static partial class KernelAbi
{
    private static readonly Lazy<Dictionary<string, AbiPrototype>> ByName = new(() => PrototypeTable.ToDictionary(p => p.Name));

    private static readonly Lazy<Dictionary<string, AbiStruct>> StructByName = new(() =>
    {
        var structs = StructTable.ToDictionary(s => s.Name);
        foreach (var (alias, of) in AliasTable) structs[alias] = structs[of];
        return structs;
    });

    /// <summary>Every function of tml_kernels.h, in header order.</summary>
    public static IReadOnlyList<AbiPrototype> Prototypes => PrototypeTable;

    /// <summary>Every parameter struct, in header order (aliases such as tml_tanh_params are in <see cref="Aliases"/>).</summary>
    public static IReadOnlyList<AbiStruct> Structs => StructTable;

    /// <summary>Struct typedefs that name another struct (<c>typedef tml_logistic_params tml_tanh_params;</c>).</summary>
    public static IReadOnlyList<(string Alias, string Of)> Aliases => AliasTable;

    /// <summary>The cores, in id order (TML_CORE_HOST, TML_CORE_CORTEX_M0PLUS, ...).</summary>
    public static IReadOnlyList<AbiCore> Cores => CoreTable;

    /// <summary>The function of that name, or null.</summary>
    public static AbiPrototype? Prototype(string name) => ByName.Value.TryGetValue(name, out var p) ? p : null;

    /// <summary>The struct (or struct alias) of that name, or null.</summary>
    public static AbiStruct? Struct(string name) => StructByName.Value.TryGetValue(name, out var s) ? s : null;

    /// <summary>The position of <paramref name="parameter"/> in <paramref name="function"/>; throws when either is unknown.</summary>
    public static int Slot(string function, string parameter) =>
        (Prototype(function) ?? throw new ArgumentException($"tml_kernels.h has no function {function}", nameof(function))).Slot(parameter);

    /// <summary>The TML_CORE_* id of a core name ("host", "cortex-m4"), or null.</summary>
    public static int? CoreId(string core) => CoreTable.FirstOrDefault(c => string.Equals(c.Name, core, StringComparison.OrdinalIgnoreCase))?.Id;

    internal static (FieldType Type, int Bytes) Scalar(string cType) => cType switch
    {
        "int32_t" => (FieldType.Int32, 4),
        "float" => (FieldType.Float32, 4),
        _ when cType.EndsWith("*", StringComparison.Ordinal) => (FieldType.Pointer, IntPtr.Size),
        _ => throw new InvalidOperationException($"no plan field type for the C type {cType}"),
    };

    /// <summary>
    /// What is wrong with a call against the header: an unknown kernel, a function a plan cannot call, the argument
    /// count, an argument's kind or struct type, a struct's fields (names, order, types). Empty when it matches.
    /// </summary>
    public static IReadOnlyList<string> Check(KernelCall call)
    {
        var problems = new List<string>();
        if (Prototype(call.Kernel) is not { } prototype)
        {
            problems.Add($"tml_kernels.h has no function {call.Kernel}");
            return problems;
        }
        if (!prototype.IsKernel) problems.Add($"{call.Kernel} is not a kernel a plan can call");
        if (call.Args.Count != prototype.Parameters.Count)
        {
            problems.Add($"{call.Args.Count} arguments for the {prototype.Parameters.Count} parameters of {call.Kernel}");
            return problems;
        }
        for (int i = 0; i < call.Args.Count; i++)
        {
            var arg = call.Args[i];
            var parameter = prototype.Parameters[i];
            string where = $"argument {i} ({parameter.Name})";
            var expected = parameter.Kind switch
            {
                ParamKind.Pointer => ArgKind.Pointer,
                ParamKind.Int32 => ArgKind.Int32,
                ParamKind.Struct => ArgKind.Struct,
                ParamKind.PointerArray => ArgKind.PointerArray,
                _ => (ArgKind?)null,
            };
            if (arg.Kind != expected)
            {
                problems.Add($"{where} is a {arg.Kind}; tml_kernels.h declares {parameter.CType}");
                continue;
            }
            if (arg.Kind != ArgKind.Struct) continue;
            var declared = Struct(parameter.StructType!)!;
            var given = arg.StructType is null ? null : Struct(arg.StructType);
            if (given is null || !ReferenceEquals(given, declared))
            {
                problems.Add($"{where} is a {arg.StructType ?? "struct without a type"}; tml_kernels.h declares {parameter.CType}");
                continue;
            }
            problems.AddRange(CheckFields(declared, arg.Fields).Select(p => $"{where}: {p}"));
        }
        return problems;
    }

    /// <summary>What is wrong with a struct's fields against the header (names, order, types); empty when they match.</summary>
    public static IEnumerable<string> CheckFields(AbiStruct layout, IReadOnlyList<Field> fields)
    {
        var expected = layout.Fields;
        for (int i = 0; i < Math.Max(expected.Count, fields.Count); i++)
        {
            if (i >= fields.Count)
            {
                yield return $"{layout.Name} lacks field {expected[i].Name} ({expected[i].CType}) and {expected.Count - fields.Count - 1} after it";
                yield break;
            }
            if (i >= expected.Count)
            {
                yield return $"{layout.Name} has no field {fields[i].Name} (tml_kernels.h ends it after {expected.Count} fields)";
                yield break;
            }
            if (fields[i].Name != expected[i].Name || fields[i].Type != expected[i].Type)
            {
                yield return $"{layout.Name} field {i} is {fields[i].Name} ({fields[i].Type}); tml_kernels.h has {expected[i].Name} ({expected[i].CType})";
                yield break;
            }
        }
    }
}
