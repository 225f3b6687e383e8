// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Budgets;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;

namespace TinyML.Compiler.Operators;

/// <summary>
/// The int8 matrix product on weights packed at build time (tml_fully_connected_s8_packed): FULLY_CONNECTED and
/// CONV_2D 1x1 stride 1 with constant symmetric weights. What an interpreter cannot do, done once here: the rows are
/// interleaved four at a time in the chunks the target's inner loop reads (on the DSP cores widened to int16 where the
/// flash allows: <see cref="WeightWidening"/>), and input offset × Σ weights is folded into the bias, so the kernel
/// multiplies raw activations. Exact: the same wrapping int32 sums as TFLM's kernels.
/// </summary>
internal static class PackedMatrix
{
    /// <summary>Rows interleaved per group (TML_PACKED_ROWS in fully_connected_packed.c).</summary>
    public const int Rows = 4;

    /// <summary>TML_PACKED_CHUNK_WORD_S16: word chunks with the weights widened to int16 in SXTB16's lane order.</summary>
    public const int WordS16 = 0x104;

    /// <summary>Whether weights [units, depth] (constant int8, zero point 0 or per channel) and the bias can be packed:
    /// not when training updates or reads either, since packing derives constants from them.</summary>
    public static bool Applies(LoweringContext context, int weightsTensor, int bias, bool perChannel) =>
        context.T(weightsTensor) is { Type: DataType.Int8, Data: not null } weights
        && (perChannel || Q(weights).ZeroPoint == 0)
        && (bias < 0 || context.T(bias) is { Type: DataType.Int32, Data: not null })
        && !context.UsedByTraining(weightsTensor) && (bias < 0 || !context.UsedByTraining(bias));

    /// <summary>
    /// The call: <paramref name="rows"/> input rows of <paramref name="depth"/> int8 values (FC batches, or the pixels
    /// of a 1x1 convolution) times weights [units, depth].
    /// </summary>
    public static void Call(LoweringContext context, string comment, int weightsTensor, int bias, int rows, int depth, int units,
        int inputZeroPoint, int outputZeroPoint, int activationMin, int activationMax, bool perChannel,
        (Pointer Multipliers, Pointer Shifts) quant, Pointer input, Pointer output)
    {
        var weights = context.T(weightsTensor);
        var (filter, folded, chunk) = Constants(context, MemoryMarshal.Cast<byte, sbyte>(weights.Data!.Value.Span), weightsTensor, bias,
            units, depth, inputZeroPoint);
        context.Call("tml_fully_connected_s8_packed", $"{comment}, {Describe(chunk)}",
            Arg.Struct("tml_fully_connected_packed_params",
                Field.I("output_offset", outputZeroPoint), Field.I("activation_min", activationMin),
                Field.I("activation_max", activationMax), Field.I("per_channel", perChannel ? 1 : 0), Field.I("chunk", chunk)),
            PerChannel(quant.Multipliers, quant.Shifts), Arg.Int32(rows), Arg.Int32(depth), Arg.Int32(units),
            Arg.Ptr(input), Arg.Ptr(filter), Arg.Ptr(folded), Arg.Ptr(output), Arg.Ptr(Pointer.Null));
    }

    /// <summary>
    /// A CONV_2D through im2col rows (tml_conv_s8_packed): its OHWI weights are the matrix [output channels,
    /// kh x kw x channels]; a padded tap holds the input zero point, whose folded contribution is 0.
    /// </summary>
    public static void CallConv(LoweringContext context, string comment, int weightsTensor, sbyte[] ohwi, int[] filterShape, int bias, IEnumerable<Field> geometry,
        int inputZeroPoint, int outputZeroPoint, int activationMin, int activationMax, (Pointer Multipliers, Pointer Shifts) quant,
        Arg inputDims, Pointer input, Arg outputDims, Pointer output)
    {
        int units = filterShape[0], taps = filterShape[1] * filterShape[2] * filterShape[3];
        var (filter, folded, chunk) = Constants(context, ohwi, weightsTensor, bias, units, taps, inputZeroPoint);
        context.Call("tml_conv_s8_packed", $"{comment}, {Describe(chunk)}",
            Arg.Struct("tml_conv_packed_params", geometry.Concat(new[]
            {
                Field.I("input_zero_point", inputZeroPoint), Field.I("output_offset", outputZeroPoint),
                Field.I("activation_min", activationMin), Field.I("activation_max", activationMax), Field.I("chunk", chunk),
            }).ToArray()),
            PerChannel(quant.Multipliers, quant.Shifts), inputDims, Arg.Ptr(input), Dims(filterShape),
            Arg.Ptr(filter), Arg.Ptr(folded), outputDims, Arg.Ptr(output), Arg.Ptr(context.Scratch));
    }

    /// <summary>The packed weights [units, depth] and the folded bias as constants, in the target's chunk.</summary>
    private static (Pointer Filter, Pointer Bias, int Chunk) Constants(LoweringContext context, ReadOnlySpan<sbyte> w, int weightsTensor, int bias,
        int units, int depth, int inputZeroPoint)
    {
        Expect(w.Length == units * depth, $"weights {context.T(weightsTensor).Shape} do not hold {units} x {depth} values");
        int[]? biases = bias >= 0 ? context.ConstantInts(bias, "bias") : null;
        Expect(biases is null || biases.Length == units, $"the bias holds {biases?.Length} values for {units} outputs");
        bool widened = context.Widened(weightsTensor);
        int chunk = widened ? WordS16 : ChunkFor(context.Target);
        return (context.Constant(widened ? PackWidened(w, units, depth) : Pack(w, units, depth, chunk), weightsTensor),
            context.Int32Blob(FoldBias(w, biases, units, depth, -inputZeroPoint), bias), chunk);
    }

    private static string Describe(int chunk) => chunk == WordS16
        ? "weights packed at build time and widened to int16"
        : $"weights packed at build time ({chunk}-byte chunks)";

    /// <summary>tml_conv_s8_packed_get_buffer_size: two im2col rows of kh x kw x channels bytes (every layout).</summary>
    public static long ConvScratchBytes(long taps) => 2 * taps;

    /// <summary>Bytes of a row per interleave step: what the target's inner loop reads at once, 16 for Helium
    /// (Cortex-M55: one vector, VMLADAVA), else 4 (a word: the DSP path's SMLAD pairs; the host's portable C takes either).</summary>
    public static int ChunkFor(string target) => target == "cortex-m55" ? 16 : 4;

    /// <summary>Groups of four rows interleaved <paramref name="chunk"/> bytes at a time (then the depth's last elements
    /// one byte per row), and the last units % 4 rows unchanged: the layout tml_kernels.h documents for
    /// tml_fully_connected_s8_packed.</summary>
    public static byte[] Pack(ReadOnlySpan<sbyte> w, int units, int depth, int chunk)
    {
        var packed = new byte[units * depth];
        int whole = depth - depth % chunk, n = 0;
        for (int group = 0; group + Rows <= units; group += Rows)
        {
            for (int k = 0; k < whole; k += chunk)
                for (int row = group; row < group + Rows; row++)
                    for (int t = 0; t < chunk; t++) packed[n++] = (byte)w[row * depth + k + t];
            for (int k = whole; k < depth; k++)
                for (int row = group; row < group + Rows; row++) packed[n++] = (byte)w[row * depth + k];
        }
        for (int row = units - units % Rows; row < units; row++)
            for (int k = 0; k < depth; k++) packed[n++] = (byte)w[row * depth + k];
        return packed;
    }

    /// <summary>The layout TML_PACKED_CHUNK_WORD_S16 of tml_kernels.h: per group of four rows and four depth steps k,
    /// each row's int16 pairs {w[k], w[k+2]} and {w[k+1], w[k+3]} (little-endian words, low half first: SMLAD with the
    /// activation word's SXTB16 halves {x[k], x[k+2]} and {x[k+1], x[k+3]} gives the four products), then the depth's last
    /// elements four int16 per element, then the last units % 4 rows unchanged (int8).</summary>
    public static byte[] PackWidened(ReadOnlySpan<sbyte> w, int units, int depth)
    {
        int groups = units - units % Rows, whole = depth - depth % 4, n = 0;
        var packed = new byte[2 * groups * depth + (units - groups) * depth];
        void Put(sbyte value)
        {
            packed[n++] = (byte)value;
            packed[n++] = (byte)(value < 0 ? 0xFF : 0);
        }
        for (int group = 0; group < groups; group += Rows)
        {
            for (int k = 0; k < whole; k += 4)
                for (int row = group; row < group + Rows; row++)
                {
                    int at = row * depth + k;
                    Put(w[at]);
                    Put(w[at + 2]);
                    Put(w[at + 1]);
                    Put(w[at + 3]);
                }
            for (int k = whole; k < depth; k++)
                for (int row = group; row < group + Rows; row++) Put(w[row * depth + k]);
        }
        for (int row = groups; row < units; row++)
            for (int k = 0; k < depth; k++) packed[n++] = (byte)w[row * depth + k];
        return packed;
    }

    /// <summary>Float weights [units, depth] that a host plan packs for the host's SIMD paths
    /// (tml_fully_connected_f32_packed, tml_conv_f32_packed): constant float32, and the plan is for the host (a Cortex-M
    /// plan keeps TFLM's layout, which its portable kernels read as fast).</summary>
    public static bool AppliesFloat(LoweringContext context, int weightsTensor) =>
        context.Target == ExecutionPlan.HostTarget && context.T(weightsTensor) is { Type: DataType.Float32, Data: not null };

    /// <summary>The float weights [units, depth] of <paramref name="weightsTensor"/> in the layout of
    /// tml_fully_connected_f32_packed: groups of eight rows depth-major (w[8g + j][d] at 8g·depth + 8d + j), then the last
    /// units % 8 rows unchanged. Each output's sum keeps its order, so the results are the plain kernels' bit for bit.</summary>
    public static Pointer FloatConstant(LoweringContext context, int weightsTensor, int units, int depth)
    {
        var w = MemoryMarshal.Cast<byte, float>(context.T(weightsTensor).Data!.Value.Span);
        Expect(w.Length == units * depth, $"weights {context.T(weightsTensor).Shape} do not hold {units} x {depth} values");
        var packed = new float[w.Length];
        int whole = units - units % 8, n = 0;
        for (int group = 0; group < whole; group += 8)
            for (int d = 0; d < depth; d++)
                for (int j = 0; j < 8; j++) packed[n++] = w[(group + j) * depth + d];
        w.Slice(whole * depth).CopyTo(packed.AsSpan(n));
        return context.Constant(MemoryMarshal.AsBytes(packed.AsSpan()).ToArray(), weightsTensor);
    }

    /// <summary>bias[o] + inputOffset × Σ_d w[o][d], wrapping as TFLM's int32 accumulator does.</summary>
    public static int[] FoldBias(ReadOnlySpan<sbyte> w, int[]? bias, int units, int depth, int inputOffset)
    {
        var folded = new int[units];
        for (int o = 0; o < units; o++)
        {
            int sum = 0;
            for (int d = 0; d < depth; d++) sum += w[o * depth + d];
            folded[o] = unchecked((bias?[o] ?? 0) + inputOffset * sum);
        }
        return folded;
    }
}

/// <summary>The weights [<paramref name="Units"/>, <paramref name="Depth"/>] in tensor <paramref name="Tensor"/> that an
/// operator's packed matrix product reads.</summary>
internal sealed record PackedWeights(int Tensor, int Units, int Depth);

/// <summary>
/// Which packed int8 weights a plan widens to int16 (TML_PACKED_CHUNK_WORD_S16): on the cores whose DSP path has the
/// int16-weight inner loop (Cortex-M4, M7, M33; the M55 keeps Helium's chunk 16, the M0+ and M3 have no SMLAD), every
/// packed layer when no flash budget is known; within one, the layers with the most MACs per weight byte first (a
/// convolution's weights serve every pixel, a batch-1 FULLY_CONNECTED's one MAC each), each while the estimated flash
/// (the model's constants, the per-channel requantization records, the widened bytes so far) stays within
/// <see cref="BudgetCheck.WarningShare"/> of the budget less <see cref="CodeReserveBytes"/> for code. A layer that does
/// not fit is skipped and smaller ones are still tried.
/// </summary>
internal static class WeightWidening
{
    /// <summary>The cores that widen.</summary>
    public static readonly string[] Cores = { "cortex-m4", "cortex-m7", "cortex-m33" };

    /// <summary>Flash left for the kernels and the invoke function (13 KB or less on the shared models).</summary>
    public const long CodeReserveBytes = 16 * 1024;

    /// <summary>The weight tensors to widen.</summary>
    public static HashSet<int> Choose(Graph graph, LoweringOptions options, Func<Operator, PackedWeights?> packedWeights)
    {
        var chosen = new HashSet<int>();
        if (!options.WidenWeights || Array.IndexOf(Cores, options.Target) < 0) return chosen;
        // Per weight tensor (operators may share one): the bytes widening adds and the MACs it serves.
        var candidates = new Dictionary<int, (long Extra, long Macs)>();
        long channels = 0; // output channels of the weighted operators: 8 bytes of requantization record each
        foreach (var op in graph.Operators)
        {
            long macs = Analysis.Macs.Of(graph, op);
            if (macs > 0 && graph.Tensors[op.Outputs[0]].Shape is { Count: > 0 } shape) channels += shape[shape.Count - 1];
            PackedWeights? w;
            try
            {
                w = packedWeights(op);
            }
            catch (OperatorException)
            {
                continue; // reported where the operator is sized or lowered
            }
            if (w is null || w.Units < PackedMatrix.Rows) continue;
            long extra = (long)(w.Units - w.Units % PackedMatrix.Rows) * w.Depth;
            candidates[w.Tensor] = candidates.TryGetValue(w.Tensor, out var c) ? (c.Extra, c.Macs + macs) : (extra, macs);
        }
        if (options.FlashBudget is not long budget)
        {
            chosen.UnionWith(candidates.Keys);
            return chosen;
        }
        long limit = (long)(BudgetCheck.WarningShare * budget) - CodeReserveBytes;
        long flash = graph.Tensors.Where(t => t.Data is not null).Sum(t => (long)t.Data!.Value.Length) + 8 * channels;
        foreach (var pair in candidates.OrderByDescending(p => (double)p.Value.Macs / Math.Max(1, p.Value.Extra)).ThenBy(p => p.Key))
        {
            if (flash + pair.Value.Extra > limit) continue;
            flash += pair.Value.Extra;
            chosen.Add(pair.Key);
        }
        return chosen;
    }
}
