// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;

namespace TinyML.Tests;

/// <summary>
/// Random int8 and 16x8 UNIDIRECTIONAL_SEQUENCE_LSTM models and a C# transcription of TFLM's integer LSTM at the
/// goldens' version (tflite-micro 90b983c: unidirectional_sequence_lstm.cc Prepare via lstm_eval_common.cc, Eval via
/// lstm_eval.h LstmStep with reference_integer_ops FullyConnected, Logistic, Tanh and MulElementwise; 16x8 is
/// LstmStep&lt;int16_t, int8_t, int16_t, int64_t&gt;: the int16 FullyConnected with an int64 accumulator and bias and the
/// 64-bit MultiplyByQuantizedMultiplier), written from TFLM's source independently of our kernel: the oracle for
/// shapes, layouts and clips the goldens do not cover.
/// </summary>
public static class LstmCases
{
    /// <summary>
    /// A model and what the oracle needs of it. Weights: the 8 gate matrices in TFLite's order. Wide: 16x8 (int16
    /// activations, int64 biases, zero points 0); otherwise int8 with int32 biases.
    /// </summary>
    public sealed record Case(Model Model, int Batches, int Steps, int InputSize, int Units, bool TimeMajor, float CellClip,
        float InScale, int InZp, float HiddenScale, int HiddenZp, float CellScale, float[] WScales, sbyte[][] Weights,
        long[][] Biases, string Label, bool Wide = false);

    internal static IEnumerable<Case> Cases(int seed, int count, bool wide = false)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            int batches = rng.Next(1, 4), steps = rng.Next(1, 6), inputSize = rng.Next(1, 13), units = rng.Next(1, 11);
            bool timeMajor = rng.Next(2) == 0;
            float clip = rng.Next(3) == 0 ? 0 : (float)(0.25 + rng.NextDouble() * 3);
            // 16x8: int16 inputs span about +-0.5..3.5 and h (in -1..1) about +-0.7..1.
            float inScale = wide ? (float)((0.5 + rng.NextDouble() * 3) / 32768) : (float)(0.005 + rng.NextDouble() * 0.03);
            float hiddenScale = wide ? (float)((1 + rng.NextDouble() * 0.5) / 32768) : (float)(0.002 + rng.NextDouble() * 0.01);
            int inZp = wide ? 0 : rng.Next(-128, 128), hiddenZp = wide ? 0 : rng.Next(-40, 41);
            float cellScale = (float)Math.Pow(2, -rng.Next(9, 14));
            var wScales = Enumerable.Range(0, 8).Select(_ => (float)(0.002 + rng.NextDouble() * 0.02)).ToArray();
            var weights = Enumerable.Range(0, 8).Select(g => Enumerable.Range(0, units * (g < 4 ? inputSize : units))
                .Select(_ => (sbyte)rng.Next(-127, 128)).ToArray()).ToArray();
            // 16x8 biases are of the int16 sums' size (about 1.0 in gate units); one model in five has some beyond
            // the int32 range, which only the int64 accumulator holds (those gates saturate).
            bool huge = wide && rng.Next(5) == 0;
            var biases = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, units).Select(_ =>
                !wide ? rng.Next(-4000, 4000) : huge && rng.Next(3) == 0 ? (long)rng.Next(-3000, 3001) << 21 : rng.Next(-400000, 400001))
                .Select(v => (long)v).ToArray()).ToArray();

            var b = new ModelBuilder();
            var activation = wide ? DataType.Int16 : DataType.Int8;
            int[] inShape = timeMajor ? new[] { steps, batches, inputSize } : new[] { batches, steps, inputSize };
            int input = b.Tensor("input", activation, inShape, Quantization.PerTensor(inScale, inZp));
            var operands = new int[24];
            for (int i = 0; i < 24; i++) operands[i] = -1;
            operands[0] = input;
            for (int g = 0; g < 8; g++)
                operands[1 + g] = b.Constant($"w{g}", new[] { units, g < 4 ? inputSize : units }, weights[g], Quantization.PerTensor(wScales[g], 0));
            for (int g = 0; g < 4; g++)
                operands[12 + g] = wide
                    ? b.Constant($"bias{g}", DataType.Int64, new[] { units }, MemoryMarshal.AsBytes(biases[g].AsSpan()).ToArray(), Quantization.PerTensor(inScale * wScales[g], 0))
                    : b.Constant($"bias{g}", new[] { units }, biases[g].Select(v => (int)v).ToArray(), Quantization.PerTensor(inScale * wScales[g], 0));
            operands[18] = b.Tensor("output_state", activation, new[] { batches, units }, Quantization.PerTensor(hiddenScale, hiddenZp));
            operands[19] = b.Tensor("cell_state", DataType.Int16, new[] { batches, units }, Quantization.PerTensor(cellScale, 0));
            b.Graph.Tensors[operands[18]].IsVariable = true;
            b.Graph.Tensors[operands[19]].IsVariable = true;
            int output = b.Tensor("output", activation, new[] { inShape[0], inShape[1], units }, Quantization.PerTensor(hiddenScale, hiddenZp));
            b.Operator(OpKind.UnidirectionalSequenceLstm, operands, new[] { output },
                new UnidirectionalSequenceLstmOptions(Activation.Tanh, clip, 0, timeMajor, false));
            b.Inputs(input).Outputs(output);
            yield return new Case(b.Build(), batches, steps, inputSize, units, timeMajor, clip, inScale, inZp, hiddenScale, hiddenZp,
                cellScale, wScales, weights, biases,
                $"{(wide ? "16x8" : "int8")} b{batches} t{steps} in{inputSize} u{units} {(timeMajor ? "time" : "batch")}-major clip {clip} cell 2^{Math.Log(cellScale, 2)}{(huge ? " int64 biases" : "")}", wide);
        }
    }

    /// <summary>A float32 LSTM: sizes, layout, clip, the 8 gate matrices and 4 biases in TFLite's order.</summary>
    public sealed record FloatCase(Model Model, int Batches, int Steps, int InputSize, int Units, bool TimeMajor, float CellClip,
        float[][] Weights, float[][] Biases, string Label);

    /// <summary>A float32 LSTM of the given sizes with random weights (tanh cell gate).</summary>
    internal static FloatCase FloatModel(Random rng, int batches, int steps, int inputSize, int units, bool timeMajor, float cellClip = 0)
    {
        var b = new ModelBuilder();
        int[] inShape = timeMajor ? new[] { steps, batches, inputSize } : new[] { batches, steps, inputSize };
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 1.6 - 0.8)).ToArray();
        var weights = Enumerable.Range(0, 8).Select(g => Values(units * (g < 4 ? inputSize : units))).ToArray();
        var biases = Enumerable.Range(0, 4).Select(_ => Values(units)).ToArray();
        var operands = Enumerable.Repeat(-1, 24).ToArray();
        operands[0] = b.Tensor("input", DataType.Float32, inShape);
        for (int g = 0; g < 8; g++) operands[1 + g] = b.Constant($"w{g}", new[] { units, g < 4 ? inputSize : units }, weights[g]);
        for (int g = 0; g < 4; g++) operands[12 + g] = b.Constant($"bias{g}", new[] { units }, biases[g]);
        operands[18] = b.Tensor("output_state", DataType.Float32, new[] { batches, units });
        operands[19] = b.Tensor("cell_state", DataType.Float32, new[] { batches, units });
        b.Graph.Tensors[operands[18]].IsVariable = true;
        b.Graph.Tensors[operands[19]].IsVariable = true;
        int output = b.Tensor("output", DataType.Float32, new[] { inShape[0], inShape[1], units });
        b.Operator(OpKind.UnidirectionalSequenceLstm, operands, new[] { output }, new UnidirectionalSequenceLstmOptions(Activation.Tanh, cellClip, 0, timeMajor, false));
        b.Inputs(operands[0]).Outputs(output);
        return new FloatCase(b.Build(), batches, steps, inputSize, units, timeMajor, cellClip, weights, biases,
            $"b{batches} t{steps} in{inputSize} u{units} {(timeMajor ? "time" : "batch")}-major clip {cellClip}");
    }

    /// <summary>reference_ops::Logistic (float) with TFLM's cutoffs.</summary>
    private static float Sigmoid(float x) =>
        x > 16.619047164916992188f ? 1.0f : x < -9.0f ? MathF.Exp(x) : 1.0f / (1.0f + MathF.Exp(-x));

    /// <summary>One invoke of TFLM's float LSTM (LstmStep&lt;float, float, float, float&gt;); states carried in place.</summary>
    internal static float[] FloatReference(FloatCase c, float[] input, float[] hidden, float[] cellState)
    {
        int n = c.Units, perStep = c.TimeMajor ? c.Batches : 1;
        var output = new float[c.Batches * c.Steps * n];
        int inputOffset = 0, outputOffset = 0;
        for (int seq = 0; seq < (c.TimeMajor ? 1 : c.Batches); seq++)
        {
            int stateOffset = seq * n;
            for (int t = 0; t < c.Steps; t++)
            {
                float[] Gate(int g)
                {
                    var gate = new float[perStep * n];
                    for (int b = 0; b < perStep; b++)
                        for (int r = 0; r < n; r++)
                        {
                            float total = 0f;
                            for (int d = 0; d < c.InputSize; d++) total += input[inputOffset + b * c.InputSize + d] * c.Weights[g][r * c.InputSize + d];
                            float fromInput = total + c.Biases[g][r];
                            float rec = 0f;
                            for (int d = 0; d < n; d++) rec += hidden[stateOffset + b * n + d] * c.Weights[4 + g][r * n + d];
                            float sum = fromInput + (rec + 0.0f);
                            gate[b * n + r] = g == 2 ? MathF.Tanh(sum) : Sigmoid(sum);
                        }
                    return gate;
                }
                var forget = Gate(1);
                var inGate = Gate(0);
                var cellGate = Gate(2);
                for (int i = 0; i < perStep * n; i++)
                {
                    int s = stateOffset + i;
                    float kept = forget[i] * cellState[s];
                    float added = inGate[i] * cellGate[i];
                    float cell = kept + added;
                    if (c.CellClip > 0) cell = Math.Max(Math.Min(c.CellClip, cell), -c.CellClip);
                    cellState[s] = cell;
                }
                var outGate = Gate(3);
                for (int i = 0; i < perStep * n; i++)
                {
                    int s = stateOffset + i;
                    float h = MathF.Tanh(cellState[s]) * outGate[i];
                    hidden[s] = h;
                    output[outputOffset + i] = h;
                }
                inputOffset += perStep * c.InputSize;
                outputOffset += perStep * n;
            }
        }
        return output;
    }

    // ---- the oracle -----------------------------------------------------------------------------------------------

    /// <summary>The oracle's state across invokes: TFLM resets an int8 variable to its zero point, int16 to 0.</summary>
    public sealed class State
    {
        public State(Case c)
        {
            Hidden = Enumerable.Repeat(c.HiddenZp, c.Batches * c.Units).ToArray();
            Cell = new int[c.Batches * c.Units];
        }

        public int[] Hidden { get; }
        public int[] Cell { get; }

        /// <summary>How many cell values the clip changed (so that a test can show the clip was exercised).</summary>
        public int ClipHits { get; set; }
    }

    /// <summary>sigmoid_table_uint16 of TFLM's common.h: sigmoid(i / 24) in 0.16 fixed point.</summary>
    private static readonly ushort[] SigmoidTable =
    {
        32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
        43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
        51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
        57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
        61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
        63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
        64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
        64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
        65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
        65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
        65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
        65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
        65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
        65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
        65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
        65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
    };

    private static int Mbqm(int x, (int M, int S) q) => TransposeConvCases.MultiplyByQuantizedMultiplier(x, q.M, q.S);

    private static short Sat16(int v) => (short)Math.Clamp(v, short.MinValue, short.MaxValue);

    /// <summary>reference_integer_ops::Logistic(0, 0, ...) on int16.</summary>
    private static short Logistic(short v)
    {
        int input = v * 3;
        uint abs = (uint)Math.Abs(input), uh = abs >> 9;
        uint result = uh >= 255 ? 0x7FFFu << 10 : ((uint)SigmoidTable[uh] << 9) + (abs & 0x1FF) * (uint)(SigmoidTable[uh + 1] - SigmoidTable[uh]);
        result = input >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1;
        return unchecked((short)(result >> 10));
    }

    /// <summary>reference_integer_ops::Tanh(multiplier, left shift, ...) on int16.</summary>
    private static short Tanh(short v, int multiplier, int leftShift)
    {
        if (multiplier == 0) { multiplier = 3 << leftShift; leftShift = 0; }
        int round = leftShift > 0 ? 1 << (leftShift - 1) : 0;
        int input = (v * multiplier + round) >> leftShift;
        uint abs = (uint)Math.Abs(input), uh = abs >> 8;
        int result = uh >= 255 ? 0xFFFF << 8 : (int)(((uint)SigmoidTable[uh] << 8) + (abs & 0xFF) * (uint)(SigmoidTable[uh + 1] - SigmoidTable[uh]));
        result = input >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
        return unchecked((short)(result >> 8));
    }

    /// <summary>lstm_internal::Tanh: the input shift from the cell state's scale power.</summary>
    private static short TanhOfPower(short v, int power)
    {
        int shift = 15 + power - 3;
        return shift < 0 ? Tanh(v, 3, -shift) : Tanh(v, 0, shift);
    }

    /// <summary>One invoke of TFLM's 8x8 LSTM on <paramref name="input"/>, updating <paramref name="state"/>.</summary>
    internal static sbyte[] Reference(Case c, sbyte[] input, State state) =>
        Run(c, input.Select(v => (int)v).ToArray(), state).Select(v => (sbyte)v).ToArray();

    /// <summary>One invoke of TFLM's 16x8 LSTM on <paramref name="input"/>, updating <paramref name="state"/>.</summary>
    internal static short[] Reference16(Case c, short[] input, State state) =>
        Run(c, input.Select(v => (int)v).ToArray(), state).Select(v => (short)v).ToArray();

    private static int Mbqm64(long x, (int M, int S) q) => TransposeConvCases.MultiplyByQuantizedMultiplier64(x, q.M, q.S);

    /// <summary>
    /// A gate FC's int16 result: 8x8 (int32 accumulator with the input offset, 32-bit requantization, saturated) or
    /// 16x8 (int64 accumulator with no input offset, int64 bias, 64-bit requantization, clamped).
    /// </summary>
    private static int GateFc(Case c, int[] x, int xOffset, int depth, int zeroPoint, sbyte[] w, int row, long bias, (int M, int S) q)
    {
        if (c.Wide)
        {
            long wide = bias;
            for (int d = 0; d < depth; d++) wide += w[row * depth + d] * x[xOffset + d];
            return Sat16(Mbqm64(wide, q));
        }
        int acc = (int)bias;
        for (int d = 0; d < depth; d++) acc += w[row * depth + d] * (x[xOffset + d] - zeroPoint);
        return Sat16(Mbqm(acc, q));
    }

    private static int[] Run(Case c, int[] input, State state)
    {
        // Prepare (lstm_eval_common.cc).
        const float GateScale = 1f / 4096, Q15 = 1f / 32768;
        var inQ = Enumerable.Range(0, 4).Select(g => QuantMath.QuantizeMultiplier((double)(float)(c.InScale * c.WScales[g]) / GateScale)).ToArray();
        var recQ = Enumerable.Range(0, 4).Select(g => QuantMath.QuantizeMultiplier((double)(float)(c.HiddenScale * c.WScales[4 + g]) / GateScale)).ToArray();
        var forgetQ = QuantMath.QuantizeMultiplier((double)Q15 * c.CellScale / c.CellScale);
        var inputQ = QuantMath.QuantizeMultiplier((double)Q15 * Q15 / c.CellScale);
        var hiddenQ = QuantMath.QuantizeMultiplier((double)Q15 * Q15 / c.HiddenScale);
        int power = (int)Math.Round(Math.Log(c.CellScale, 2));
        short clip = (short)Math.Min(Math.Max((double)c.CellClip / c.CellScale, -32768.0), 32767.0);

        int n = c.Units, perStep = c.TimeMajor ? c.Batches : 1;
        var output = new int[c.Batches * c.Steps * n];
        int inputOffset = 0, outputOffset = 0;
        for (int seq = 0; seq < (c.TimeMajor ? 1 : c.Batches); seq++)
        {
            int stateOffset = seq * n;
            for (int t = 0; t < c.Steps; t++)
            {
                short[] Gate(int g)
                {
                    var gate = new short[perStep * n];
                    for (int b = 0; b < perStep; b++)
                        for (int r = 0; r < n; r++)
                        {
                            int fromInput = GateFc(c, input, inputOffset + b * c.InputSize, c.InputSize, c.InZp, c.Weights[g], r, c.Biases[g][r], inQ[g]);
                            int fromHidden = GateFc(c, state.Hidden, stateOffset + b * n, n, c.HiddenZp, c.Weights[4 + g], r, 0, recQ[g]);
                            short sum = Sat16(fromInput + fromHidden);
                            gate[b * n + r] = g == 2 ? TanhOfPower(sum, -12) : Logistic(sum);
                        }
                    return gate;
                }
                var forget = Gate(1);
                var inGate = Gate(0);
                var cellGate = Gate(2);
                for (int i = 0; i < perStep * n; i++)
                {
                    int s = stateOffset + i;
                    int kept = Sat16(Mbqm(forget[i] * state.Cell[s], forgetQ));
                    int added = Sat16(Mbqm(inGate[i] * cellGate[i], inputQ));
                    int cell = Sat16(kept + added);
                    if (c.CellClip > 0 && Math.Abs(cell) > clip)
                    {
                        cell = Math.Clamp(cell, -clip, clip);
                        state.ClipHits++;
                    }
                    state.Cell[s] = cell;
                }
                var outGate = Gate(3);
                for (int i = 0; i < perStep * n; i++)
                {
                    int s = stateOffset + i;
                    short tanh = TanhOfPower((short)state.Cell[s], power);
                    int h = c.Wide ? Sat16(Mbqm(tanh * outGate[i], hiddenQ) + c.HiddenZp) : Math.Clamp(Mbqm(tanh * outGate[i], hiddenQ) + c.HiddenZp, -128, 127);
                    state.Hidden[s] = h;
                    output[outputOffset + i] = h;
                }
                inputOffset += perStep * c.InputSize;
                outputOffset += perStep * n;
            }
        }
        return output;
    }

    internal static byte[] RandomInput(Case c, Random rng) =>
        Enumerable.Range(0, c.Batches * c.Steps * c.InputSize * (c.Wide ? 2 : 1)).Select(_ => (byte)rng.Next(256)).ToArray();

    internal static short[] AsShorts(byte[] bytes) => MemoryMarshal.Cast<byte, short>(bytes).ToArray();

    internal static sbyte[] AsSbytes(byte[] bytes) => MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray();
}
