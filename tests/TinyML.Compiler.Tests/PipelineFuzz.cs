// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using Pointer = TinyML.Compiler.Plan.Pointer;
using System.Threading;
using System.Threading.Tasks;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Emit;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>
/// Runs one hostile file through every stage the compiler has: read, validate, summarize, lower with every memory
/// technique alone and together (patches included), budget-driven planning, and C emission of every plan. Each
/// stage must return a result or TML error diagnostics; a case runs on a watchdog thread so that a hang is
/// reported instead of stalling the suite.
/// </summary>
internal static class PipelineFuzz
{
    /// <summary>Time for one case through every stage: the slowest unmutated real model (ic_resnet_float) needs 2.5 s on an idle machine.</summary>
    public static readonly TimeSpan MaxCaseTime = TimeSpan.FromSeconds(8);

    /// <summary>A case may allocate this much plus <see cref="AllocatedBytesPerInputByte"/> per input byte (ic_resnet_float, unmutated: 240 MB).
    /// Raised from 384 MB when the patch planner gained its third kind of stage (an in-place stem): ic_resnet's
    /// minimum-memory lowering went from 101 to 140 MB, and its mutants to about 460 MB.</summary>
    public const long MaxCaseAllocatedBytes = 448L << 20;

    /// <summary>Constants are copied into each plan and printed as C text, so allocation grows with the file, linearly.</summary>
    public const long AllocatedBytesPerInputByte = 256;

    /// <summary>Runs one case; null when it passed, else what went wrong, prefixed with <paramref name="label"/>.</summary>
    public static string? Run(byte[] bytes, string label) => Run(bytes, label, out _);

    /// <summary>Runs one case read as <paramref name="fileName"/> (its extension picks the format, as ModelReader does).</summary>
    public static string? Run(byte[] bytes, string label, string fileName, out bool lowered)
    {
        var (failure, elapsed, allocated, planned) = Measure(bytes, fileName);
        lowered = planned;
        if (failure is not null) return $"{label}: {failure}";
        if (elapsed > MaxCaseTime) return $"{label}: took {elapsed.TotalSeconds:F2} s";
        long cap = MaxCaseAllocatedBytes + AllocatedBytesPerInputByte * bytes.Length;
        if (allocated > cap) return $"{label}: allocated {allocated >> 20} MB (cap {cap >> 20} MB)";
        return null;
    }

    /// <summary>Runs one case; <paramref name="lowered"/> tells whether default lowering gave a plan.</summary>
    public static string? Run(byte[] bytes, string label, out bool lowered) => Run(bytes, label, "fuzz.tflite", out lowered);

    /// <summary>Runs one case on a watchdog thread: the broken contract or hang (null when none), the time and the bytes allocated.</summary>
    public static (string? Failure, TimeSpan Elapsed, long Allocated, bool Lowered) Measure(byte[] bytes, string fileName = "fuzz.tflite")
    {
        string? failure = null;
        bool lowered = false;
        long allocated = 0;
        var clock = Stopwatch.StartNew();
        var worker = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                failure = EveryStage(bytes, fileName, out lowered);
            }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}\n{Frames(e)}";
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // Four times the cap before giving up on the thread: a slow machine is not a hang, an endless loop is.
        if (!worker.Wait(TimeSpan.FromTicks(MaxCaseTime.Ticks * 4))) return ($"still running after {clock.Elapsed.TotalSeconds:F0} s (hang)", clock.Elapsed, 0, false);
        return (failure, clock.Elapsed, allocated, lowered);
    }

    private static string Frames(Exception e) =>
        string.Join("\n", (e.StackTrace ?? "").Split('\n').Where(l => l.Contains("TinyML.Compiler", StringComparison.Ordinal) && !l.Contains(".Tests.", StringComparison.Ordinal)).Take(4));

    /// <summary>Every stage; a returned string is a broken contract that is not an exception.</summary>
    private static string? EveryStage(byte[] bytes, string file, out bool lowered)
    {
        lowered = false;
        var read = ModelReader.Read(bytes, file);
        if (read.Value is not { } model) return Refused(read.Diagnostics, "read");
        _ = ModelValidator.Validate(model, file);
        _ = ModelSummary.Of(model);

        var plain = Lowerer.Lower(model, file);
        if (plain.Value is null) return Refused(plain.Diagnostics, "lower");
        lowered = true;
        var plans = new List<ExecutionPlan> { plain.Value };

        foreach (var result in MemoryTechniques.Evaluate(model, file))
        {
            if (result.Plan is { } plan) plans.Add(plan);
            else if (Refused(Lowerer.Lower(model, file, result.Options).Diagnostics, $"technique '{result.Name}'") is { } refused) return refused;
        }

        // Half the plain arena is out of reach for most models, so every attempt (patches aimed at the budget,
        // then minimum peak) runs.
        long budget = Math.Max(1, plain.Value.ArenaBytes / 2);
        var fit = MemoryTechniques.FitToBudget(model, file, budget);
        if (fit.Lowered.Value is not { } fitted) return Refused(fit.Lowered.Diagnostics, "fit to budget");
        plans.Add(fitted);
        _ = fit.Summary;
        _ = fit.Explain(new Diagnostic(DiagnosticIds.RamBudgetExceeded, Severity.Error, "over budget"));

        foreach (var plan in plans)
        {
            if (InBounds(plan) is { } outside) return outside;
            if (SameQuantization(model.Main, plan) is { } changed) return changed;
            var source = CEmitter.Emit(plan, "fuzz");
            if (!source.Source.Contains("int32_t fuzz_invoke(uint8_t *arena)", StringComparison.Ordinal)) return "the emitted C has no invoke function";
        }
        return null;
    }

    /// <summary>The plan's graph tensors carry the model's zero points: a plan must not run with parameters the model does not have.</summary>
    private static string? SameQuantization(Graph graph, ExecutionPlan plan)
    {
        foreach (var (tensors, planned) in new[] { (graph.Inputs, plan.Inputs), (graph.Outputs, plan.Outputs) })
            for (int i = 0; i < tensors.Count; i++)
                if (graph.Tensors[tensors[i]].Quantization is { ZeroPoints.Count: > 0 } q && q.ZeroPoints[0] != planned[i].ZeroPoint)
                    return $"graph tensor '{planned[i].Name}' has zero point {q.ZeroPoints[0]} in the model but {planned[i].ZeroPoint} in the plan";
        return null;
    }

    /// <summary>A refusal must carry at least one TML error.</summary>
    private static string? Refused(IReadOnlyList<Diagnostic> diagnostics, string stage) =>
        diagnostics.Any(d => d.Severity == Severity.Error && d.Id.StartsWith("TML", StringComparison.Ordinal))
            ? null : $"{stage} returned nothing and no TML error";

    /// <summary>Every graph tensor and every pointer of every call lie inside their region: a plan that points outside would run out of bounds.</summary>
    private static string? InBounds(ExecutionPlan plan)
    {
        // The header tells the caller to write inputs and read outputs at these offsets.
        foreach (var t in plan.Inputs.Concat(plan.Outputs))
            if (t.Offset < 0 || t.Bytes < 0 || t.Offset + t.Bytes > plan.ArenaBytes)
                return $"graph tensor '{t.Name}' at offset {t.Offset} with {t.Bytes} bytes lies outside the {plan.ArenaBytes}-byte arena";
        foreach (var call in plan.Calls)
        {
            var pointers = call.Args.SelectMany(a => a.Kind switch
            {
                ArgKind.Pointer => new[] { a.Pointer },
                ArgKind.Struct => a.Fields.Where(f => f.Type == FieldType.Pointer).Select(f => f.Pointer).ToArray(),
                ArgKind.PointerArray => a.Pointers.ToArray(),
                _ => Array.Empty<Pointer>(),
            });
            foreach (var p in pointers)
            {
                bool inside = p.Region switch
                {
                    Region.Arena => p.Offset >= 0 && p.Offset <= plan.ArenaBytes,
                    Region.State => p.Offset >= 0 && p.Offset <= plan.StateBytes,
                    Region.Constant => p.Blob >= 0 && p.Blob < plan.Constants.Count && p.Offset >= 0 && p.Offset <= plan.Constants[p.Blob].Length,
                    _ => true,
                };
                if (!inside) return $"operator {call.OperatorIndex} ({call.Kernel}) points at {p}, outside its region";
            }
        }
        return null;
    }
}

/// <summary>
/// Seeded mutations of a model's IR: the integers that drive shape arithmetic (dimensions, strides, paddings,
/// dilations, filter sizes, axes, masks), quantization (scales, zero points, dimensions), constant data (lengths and
/// int32 contents such as paddings, permutations and slice bounds), tensor types and operator wiring. Most edits
/// break a shape check, so one kind changes a window (stride, dilation, filter, padding, input size) together with the
/// output shape it implies, to reach what lies behind the checks; another sizes tensors at 2^31 elements.
/// </summary>
internal sealed class IrMutator
{
    private static readonly int[] Ints =
    {
        0, 1, 2, 3, -1, -2, 7, 8, 16, 255, 256, 32767, 32768, 46341, 65535, 65536, 1 << 20, 1 << 30,
        int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1,
    };

    private static readonly long[] ZeroPoints =
    {
        0, -128, 127, -129, 128, 255, 256, -32768, 32767, -32769, 32768, int.MaxValue, int.MinValue,
        (long)int.MaxValue + 1, long.MaxValue, long.MinValue,
    };

    private static readonly float[] Floats =
    {
        0f, -0f, -1f, 1f, 1e-45f, 1e-38f, 1e-20f, 1e-10f, 1f / 256, 1f / 65536, 1e10f, 1e30f, float.MaxValue, float.MinValue,
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon,
    };

    private static readonly DataType[] Types =
        { DataType.Float32, DataType.Int8, DataType.Int16, DataType.Int32, DataType.UInt8, DataType.Int64, DataType.Bool, DataType.Float16, DataType.String };

    private readonly Random _random;

    public IrMutator(int seed) => _random = new Random(seed);

    /// <summary>What the last <see cref="Mutate"/> did, for the failure message.</summary>
    public List<string> Log { get; } = new();

    private int Int(int current) => _random.Next(4) switch
    {
        0 => current + (_random.Next(2) == 0 ? 1 : -1),
        1 => _random.Next(2) == 0 ? unchecked(current * 2) : current / 2,
        _ => Ints[_random.Next(Ints.Length)],
    };

    private float Float(float current) => _random.Next(3) switch
    {
        0 => current * (float)Math.Pow(2, _random.Next(-40, 41)),
        _ => Floats[_random.Next(Floats.Length)],
    };

    /// <summary>Applies one to three mutations to the main graph.</summary>
    public void Mutate(Model model)
    {
        Log.Clear();
        var graph = model.Main;
        int edits = 1 + _random.Next(3);
        for (int e = 0; e < edits; e++)
        {
            switch (_random.Next(13))
            {
                case 0 or 1: Shape(graph); break;
                case 10: Huge(graph); break;
                case 11 or 12: Window(graph); break;
                case 2 or 3: Options(graph); break;
                case 4 or 5: Quantization(graph); break;
                case 6: Data(graph); break;
                case 7: ConstantInts(graph); break;
                case 8: TypeOrFlags(graph); break;
                default: Wiring(graph); break;
            }
        }
    }

    private Tensor PickTensor(Graph graph, out int index)
    {
        // Mostly tensors that operators touch, so that mutations reach lowering.
        var op = graph.Operators[_random.Next(graph.Operators.Count)];
        var used = op.Inputs.Concat(op.Outputs).Where(t => t >= 0).ToArray();
        index = used.Length > 0 && _random.Next(4) != 0 ? used[_random.Next(used.Length)] : _random.Next(graph.Tensors.Count);
        return graph.Tensors[index];
    }

    private void Shape(Graph graph)
    {
        var tensor = PickTensor(graph, out int index);
        var dims = tensor.Shape.ToList();
        switch (_random.Next(6))
        {
            case 0 when dims.Count > 0: dims.RemoveAt(_random.Next(dims.Count)); break;
            case 1: dims.Insert(_random.Next(dims.Count + 1), _random.Next(2) == 0 ? 1 : Int(1)); break;
            default:
                if (dims.Count == 0) dims.Add(Int(1));
                else
                {
                    int d = _random.Next(dims.Count);
                    dims[d] = Int(dims[d]);
                }
                break;
        }
        tensor.Shape = dims.ToArray();
        Log.Add($"tensor {index} shape {Shapes.Format(dims)}");
    }

    private void Huge(Graph graph)
    {
        // At and around 2^31 elements, where int arithmetic on element counts and byte sizes overflows.
        var tensor = PickTensor(graph, out int index);
        long target = _random.Next(3) switch { 0 => 1L << 31, 1 => int.MaxValue, _ => (1L << 31) / (2 + _random.Next(3)) };
        var dims = tensor.Shape.Count > 0 ? tensor.Shape.ToArray() : new[] { 1 };
        int d = _random.Next(dims.Length);
        long rest = Shapes.ElementCount(dims.Where((_, i) => i != d).ToArray());
        dims[d] = rest > 0 && target / rest <= int.MaxValue ? (int)(target / rest) : int.MaxValue;
        tensor.Shape = dims;
        Log.Add($"tensor {index} shape {Shapes.Format(dims)}");
    }

    /// <summary>
    /// A window operator's stride, dilation, filter, padding or input size changes, and its output shape follows
    /// (TFLite's output size formula), so the mutant passes the shape checks and reaches the arithmetic behind them.
    /// </summary>
    private void Window(Graph graph)
    {
        var ops = Enumerable.Range(0, graph.Operators.Count).Where(i => graph.Operators[i].Options is Conv2DOptions or DepthwiseConv2DOptions or Pool2DOptions).ToList();
        if (ops.Count == 0) return;
        int index = ops[_random.Next(ops.Count)];
        var op = graph.Operators[index];
        // Earlier edits may have rewired the operator; the mutator itself must not throw.
        if (op.Inputs.Count == 0 || op.Inputs[0] < 0 || op.Outputs.Count == 0) return;
        var input = graph.Tensors[op.Inputs[0]];
        var output = graph.Tensors[op.Outputs[0]];
        var weights = op.Inputs.Count > 1 && op.Inputs[1] >= 0 ? graph.Tensors[op.Inputs[1]].Shape : default;
        if (input.Shape.Count != 4 || output.Shape.Count != 4 || (op.Options is not Pool2DOptions && weights.Count != 4)) return;
        int Small() => _random.Next(4) == 0 ? Ints[_random.Next(Ints.Length)] : 1 + _random.Next(6);
        var padding = _random.Next(2) == 0 ? Padding.Same : Padding.Valid;
        int axis = 1 + _random.Next(2);
        if (_random.Next(4) == 0)
        {
            var dims = input.Shape.ToArray();
            dims[axis] = Small();
            input.Shape = dims;
        }
        int filterH, filterW, strideH, strideW, dilationH = 1, dilationW = 1;
        switch (op.Options)
        {
            case Pool2DOptions p:
                op.Options = p = p with { Padding = padding, StrideH = Small(), StrideW = Small(), FilterH = Small(), FilterW = Small() };
                (filterH, filterW, strideH, strideW) = (p.FilterH, p.FilterW, p.StrideH, p.StrideW);
                break;
            case Conv2DOptions c:
                op.Options = c = c with { Padding = padding, StrideH = Small(), StrideW = Small(), DilationH = Small(), DilationW = Small() };
                (strideH, strideW, dilationH, dilationW) = (c.StrideH, c.StrideW, c.DilationH, c.DilationW);
                (filterH, filterW) = (weights[1], weights[2]);
                break;
            case DepthwiseConv2DOptions d:
                op.Options = d = d with { Padding = padding, StrideH = Small(), StrideW = Small(), DilationH = Small(), DilationW = Small() };
                (strideH, strideW, dilationH, dilationW) = (d.StrideH, d.StrideW, d.DilationH, d.DilationW);
                (filterH, filterW) = (weights[1], weights[2]);
                break;
            default: return;
        }
        // TFLite's ComputeOutSize, in long so that the generator itself does not wrap.
        long Out(int size, int filter, int stride, int dilation) => stride <= 0 ? 0
            : padding == Padding.Same ? ((long)size + stride - 1) / stride : ((long)size - ((long)(filter - 1) * dilation + 1) + stride) / stride;
        var shape = output.Shape.ToArray();
        shape[1] = (int)Math.Max(0, Math.Min(int.MaxValue, Out(input.Shape[1], filterH, strideH, dilationH)));
        shape[2] = (int)Math.Max(0, Math.Min(int.MaxValue, Out(input.Shape[2], filterW, strideW, dilationW)));
        output.Shape = shape;
        Log.Add($"operator {index} window {op.Options}, input {input.Shape}, output {output.Shape}");
    }

    private void Options(Graph graph)
    {
        int index = _random.Next(graph.Operators.Count);
        var op = graph.Operators[index];
        if (op.Options is not { } options || _random.Next(10) == 0)
        {
            // Missing options, or another operator's.
            op.Options = _random.Next(2) == 0 ? null : new EmptyOptions((byte)_random.Next(1, 120));
            Log.Add($"operator {index} options {op.Options?.ToString() ?? "null"}");
            return;
        }
        // Every positional field of the options records, by reflection, so that a field added later is fuzzed too.
        var properties = options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        if (properties.Length == 0) return;
        var property = properties[_random.Next(properties.Length)];
        var clone = (OperatorOptions)options.GetType().GetMethod("<Clone>$")!.Invoke(options, null)!;
        object? current = property.GetValue(options);
        object? value = current switch
        {
            int i => Int(i),
            float f => Float(f),
            bool b => !b,
            byte b => (byte)(_random.Next(2) == 0 ? _random.Next(8) : _random.Next(256)),
            Padding => (Padding)(_random.Next(4) == 0 ? _random.Next(256) : _random.Next(2)),
            Activation => (Activation)(_random.Next(4) == 0 ? _random.Next(256) : _random.Next(7)),
            ValueArray<int> dims => (ValueArray<int>)dims.Select(d => _random.Next(3) == 0 ? Int(d) : d).ToArray(),
            _ when property.PropertyType == typeof(ValueArray<int>?) => (ValueArray<int>?)Enumerable.Range(0, _random.Next(6)).Select(_ => Int(1)).ToArray(),
            _ => current,
        };
        property.SetValue(clone, value);
        op.Options = clone;
        Log.Add($"operator {index} {property.Name} = {value}");
    }

    private void Quantization(Graph graph)
    {
        var tensor = PickTensor(graph, out int index);
        var q = tensor.Quantization ?? Ir.Quantization.PerTensor(1f / 128, 0);
        switch (_random.Next(6))
        {
            case 0:
            {
                var scales = q.Scales.ToArray();
                if (scales.Length == 0) scales = new[] { 1f };
                int c = _random.Next(scales.Length);
                scales[c] = Float(scales[c]);
                q = q with { Scales = scales };
                break;
            }
            case 1 or 2:
            {
                var zeros = q.ZeroPoints.Count > 0 ? q.ZeroPoints.ToArray() : new long[Math.Max(1, q.Scales.Count)];
                zeros[_random.Next(zeros.Length)] = ZeroPoints[_random.Next(ZeroPoints.Length)];
                q = q with { ZeroPoints = zeros };
                break;
            }
            case 3: q = q with { QuantizedDimension = Int(q.QuantizedDimension) }; break;
            case 4:
            {
                // Per-tensor becomes per-channel and back, or the counts disagree.
                int n = _random.Next(4) switch { 0 => 0, 1 => 1, 2 => q.Scales.Count + 1, _ => tensor.Shape.Count > 0 ? Math.Max(0, Math.Min(4096, tensor.Shape[tensor.Shape.Count - 1])) : 2 };
                q = q with { Scales = Enumerable.Repeat(q.HasScales ? q.Scale : 0.5f, n).ToArray(), ZeroPoints = new long[_random.Next(2) == 0 ? n : Math.Min(n, 1)] };
                break;
            }
            default:
                tensor.Quantization = null;
                Log.Add($"tensor {index} quantization removed");
                return;
        }
        tensor.Quantization = q;
        Log.Add($"tensor {index} quantization scales {q.Scales} zero points {q.ZeroPoints} dimension {q.QuantizedDimension}");
    }

    private void Data(Graph graph)
    {
        var tensor = PickTensor(graph, out int index);
        if (tensor.Data is { } data)
        {
            switch (_random.Next(3))
            {
                case 0:
                    tensor.Data = data.Slice(0, _random.Next(data.Length + 1));
                    break;
                case 1:
                    var longer = new byte[data.Length + 1 + _random.Next(64)];
                    data.Span.CopyTo(longer);
                    tensor.Data = longer;
                    break;
                default:
                    tensor.Data = null; // a constant that nothing produces
                    break;
            }
        }
        else
        {
            // An activation turns constant, with the bytes its shape needs (when that is small) or a few.
            long bytes = tensor.Bytes;
            tensor.Data = new byte[bytes is > 0 and < 1 << 20 ? bytes : _random.Next(16)];
        }
        Log.Add($"tensor {index} data {tensor.Data?.Length.ToString() ?? "none"} bytes");
    }

    private void ConstantInts(Graph graph)
    {
        // Paddings, permutations, axes, slice bounds and biases: constants that lowering reads as integers.
        var constants = graph.Tensors.Select((t, i) => (t, i)).Where(x => x.t.Data is { Length: >= 4 }).ToList();
        if (constants.Count == 0) return;
        var (tensor, index) = constants[_random.Next(constants.Count)];
        var bytes = tensor.Data!.Value.ToArray();
        int at = 4 * _random.Next(bytes.Length / 4);
        int value = Int(BitConverter.ToInt32(bytes, at));
        BitConverter.GetBytes(value).CopyTo(bytes, at);
        tensor.Data = bytes;
        Log.Add($"tensor {index} int32 at byte {at} = {value}");
    }

    private void TypeOrFlags(Graph graph)
    {
        var tensor = PickTensor(graph, out int index);
        switch (_random.Next(3))
        {
            case 0: tensor.Type = Types[_random.Next(Types.Length)]; break;
            case 1: tensor.IsVariable = !tensor.IsVariable; break;
            default: tensor.ShapeSignature = tensor.Shape.Select(d => _random.Next(3) == 0 ? -1 : d).ToArray(); break;
        }
        Log.Add($"tensor {index} type {tensor.Type} variable {tensor.IsVariable} signature {tensor.ShapeSignature}");
    }

    private void Wiring(Graph graph)
    {
        int index = _random.Next(graph.Operators.Count);
        var op = graph.Operators[index];
        int tensor = _random.Next(-1, graph.Tensors.Count);
        switch (_random.Next(6))
        {
            case 0 when op.Inputs.Count > 0:
            {
                var inputs = op.Inputs.ToArray();
                inputs[_random.Next(inputs.Length)] = tensor;
                op.Inputs = inputs;
                break;
            }
            case 1 when tensor >= 0 && op.Outputs.Count > 0:
            {
                var outputs = op.Outputs.ToArray();
                outputs[_random.Next(outputs.Length)] = tensor;
                op.Outputs = outputs;
                break;
            }
            case 2:
                op.Inputs = _random.Next(2) == 0 ? op.Inputs.Concat(new[] { tensor }).ToArray() : op.Inputs.Take(Math.Max(0, op.Inputs.Count - 1)).ToArray();
                break;
            case 3:
            {
                // Another operator we run, with this one's tensors and options.
                var kinds = ModelValidator.SupportedOperators.ToArray();
                op.Kind = kinds[_random.Next(kinds.Length)];
                break;
            }
            case 4:
                op.Version = Int(op.Version);
                break;
            default:
                if (tensor < 0) break;
                if (_random.Next(2) == 0 && graph.Inputs.Count > 0) graph.Inputs = graph.Inputs.Select((t, i) => i == 0 ? tensor : t).ToArray();
                else if (graph.Outputs.Count > 0) graph.Outputs = graph.Outputs.Select((t, i) => i == 0 ? tensor : t).ToArray();
                break;
        }
        Log.Add($"operator {index} {op}, graph in{graph.Inputs} out{graph.Outputs}");
    }
}
