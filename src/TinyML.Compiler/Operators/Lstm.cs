// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM as TFLM's kernel at the goldens' version (tflite-micro 90b983c) runs it: the standard
/// LSTM of Keras (four gates with input and recurrent weights and a bias each), int8 (int32 biases), 16x8 (int16
/// activations, int64 biases; both with int8 weights and an int16 cell state) or float32, time-major or batch-major.
/// The output state (input 18) and the cell state (input 19) are variables kept across invokes. TFLM refuses the
/// variants (CIFG, peephole, projection, layer norm) and so do we.
/// </summary>
internal sealed class Lstm : OperatorDefinition
{
    // TFLite's input positions (lstm_shared.h).
    private const int Input = 0, FirstWeight = 1, FirstBias = 12, OutputState = 18, CellState = 19;
    private static readonly int[] Peephole = { 9, 10, 11 }, Projection = { 16, 17 }, LayerNorm = { 20, 21, 22, 23 };

    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.UnidirectionalSequenceLstm };

    // Every variant's inputs may be omitted as far as the file goes; CheckOperands refuses the variants by name.
    private static readonly OperatorRule LstmRule = new(4, 24, 24, Int8OrFloat.Append((I16, I16)).ToArray(), UnidirectionalSequenceLstmOptions.Union,
        new[] { 1, 5 }.Concat(Peephole).Concat(Projection).Concat(LayerNorm).ToArray());

    private static readonly int[] States = { OutputState, CellState };

    public override OperatorRule Rule(OpKind kind) => LstmRule;

    public override IReadOnlyList<int> StateInputs(OpKind kind) => States;

    public override bool CheckOperands(OperatorValidation validation, Operator op)
    {
        var graph = validation.Graph;
        string? variant =
            graph.Input(op, 1) is null || graph.Input(op, 5) is null ? "CIFG (no input gate weights)" :
            Peephole.Any(p => graph.Input(op, p) is not null) ? "peephole weights (inputs 9 to 11)" :
            Projection.Any(p => graph.Input(op, p) is not null) ? "a projection (inputs 16 and 17)" :
            LayerNorm.Any(p => graph.Input(op, p) is not null) ? "layer normalization (inputs 20 to 23)" : null;
        if (variant is not null)
        {
            validation.Report(DiagnosticIds.InvalidOperator,
                $"UNIDIRECTIONAL_SEQUENCE_LSTM with {variant} is not supported: TFLM's kernel runs only the standard LSTM (all four gates, no peephole, projection or layer norm)");
            return false;
        }
        var input = graph.Input(op, Input)!;
        bool isFloat = input.Type == F32;
        DataType weightType = isFloat ? F32 : I8, biasType = isFloat ? F32 : input.Type == I16 ? DataType.Int64 : I32, cellType = isFloat ? F32 : I16;
        for (int p = FirstWeight; p < FirstWeight + 8; p++)
            if (graph.Input(op, p) is { } w && (w.Type != weightType || !w.IsConstant))
            {
                validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                    $"UNIDIRECTIONAL_SEQUENCE_LSTM with {DataTypes.Name(input.Type)} input needs constant {DataTypes.Name(weightType)} weights; input {p} is {(w.IsConstant ? "" : "non-constant ")}{DataTypes.Name(w.Type)} (hybrid LSTMs are not supported)", w);
                return false;
            }
        for (int p = FirstBias; p < FirstBias + 4; p++)
            if (graph.Input(op, p) is not { } b || b.Type != biasType || !b.IsConstant)
            {
                validation.Report(DiagnosticIds.UnsupportedTypeCombination,
                    $"UNIDIRECTIONAL_SEQUENCE_LSTM with {DataTypes.Name(input.Type)} input needs constant {DataTypes.Name(biasType)} gate biases (inputs 12 to 15); input {p} is not", graph.Input(op, p));
                return false;
            }
        var hidden = graph.Input(op, OutputState);
        var cell = graph.Input(op, CellState);
        if (hidden is null || cell is null || !hidden.IsVariable || !cell.IsVariable || hidden.Type != input.Type || cell.Type != cellType)
        {
            validation.Report(DiagnosticIds.InvalidOperator,
                $"UNIDIRECTIONAL_SEQUENCE_LSTM needs its output state (input 18) to be a variable tensor of type {DataTypes.Name(input.Type)} and its cell state (input 19) one of type {DataTypes.Name(cellType)}", hidden ?? cell);
            return false;
        }
        return true;
    }

    public override void CheckWeights(OperatorValidation validation, Operator op, Tensor input)
    {
        if (input.Type == F32) return;
        for (int p = FirstWeight; p < FirstWeight + 8; p++)
            if (validation.Graph.Input(op, p) is { } w && (w.Quantization is not { HasScales: true } q || q.IsPerChannel || q.ZeroPoint != 0))
                validation.Report(DiagnosticIds.QuantizationSpecViolation,
                    "UNIDIRECTIONAL_SEQUENCE_LSTM int8 weights must be quantized per tensor with zero point 0, as TFLM's gate FCs take them", w);
        if (input.Type != I16) return;
        // TFLM's 16x8 gate FC has no input offset: a zero point off 0 would be silently dropped.
        foreach (var t in new[] { input, validation.Graph.Input(op, OutputState), validation.Graph.Output(op, 0) })
            if (t?.Quantization is { HasScales: true } tq && tq.ZeroPoint != 0)
                validation.Report(DiagnosticIds.QuantizationSpecViolation,
                    $"int16 UNIDIRECTIONAL_SEQUENCE_LSTM activations must have zero point 0 (16x8 quantization is symmetric; TFLM's 16x8 gate FC has no input offset); '{t.Name}' has {tq.ZeroPoint}", t);
    }

    public override void CheckSpecification(OperatorValidation validation, Operator op, Tensor input, Tensor output)
    {
        // TFLM quantizes h with the output state's parameters and copies its bytes to the output, whatever the
        // output's own quantization says; we do the same, so a mismatch is tolerated (the bytes are TFLM's).
        if (validation.Graph.Input(op, OutputState)?.Quantization is { HasScales: true } hq && output.Quantization is { HasScales: true } oq &&
            (hq.Scale != oq.Scale || hq.ZeroPoint != oq.ZeroPoint))
            validation.Tolerate($"the LSTM output's quantization (scale {oq.Scale}, zero point {oq.ZeroPoint}) differs from its output state's (scale {hq.Scale}, zero point {hq.ZeroPoint}); like TFLM's kernel, ours writes the output state's bytes, so the output holds TFLM's bytes", output);
    }

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (op.OptionsAs<UnidirectionalSequenceLstmOptions>() is not { } o)
        {
            validation.Report(DiagnosticIds.InvalidOperator, "UNIDIRECTIONAL_SEQUENCE_LSTM has no UnidirectionalSequenceLSTMOptions");
            return;
        }
        // The schema's TANH is the only activation TFLM's gates take (its SIGMOID cannot be written in a file).
        if (o.Activation != Activation.Tanh)
            validation.Report(DiagnosticIds.InvalidOperator,
                $"UNIDIRECTIONAL_SEQUENCE_LSTM cell gate activation {o.Activation} is not supported; TFLM's kernel runs TANH");
        if (!(o.CellClip >= 0) || float.IsInfinity(o.CellClip))
            validation.Report(DiagnosticIds.InvalidOperator, $"UNIDIRECTIONAL_SEQUENCE_LSTM cell_clip is {o.CellClip}; it must be 0 (none) or positive");
    }

    public override long Macs(Graph graph, Operator op)
    {
        // Per step and sequence: four gates, each an FC of the input and one of the hidden state.
        if (graph.Input(op, Input) is not { Shape.Count: 3 } input || graph.Input(op, FirstWeight + 1) is not { Shape.Count: 2 } w) return 0;
        long units = w.Shape[0];
        return (long)input.Shape[0] * input.Shape[1] * 4 * units * (input.Shape[2] + units);
    }

    private sealed record Sizes(int Batches, int TimeSteps, int InputSize, int Units, bool TimeMajor);

    private static Sizes Shape(LoweringContext context, Operator op)
    {
        var o = op.OptionsAs<UnidirectionalSequenceLstmOptions>() ?? throw Fail("missing UnidirectionalSequenceLSTMOptions");
        var input = context.T(op.Inputs[Input]);
        Expect(input.Shape.Count == 3, $"the LSTM input must have rank 3, not {input.Shape.Count}");
        int batches = o.TimeMajor ? input.Shape[1] : input.Shape[0];
        int steps = o.TimeMajor ? input.Shape[0] : input.Shape[1];
        int inputSize = input.Shape[2];
        var forget = context.T(op.Inputs[FirstWeight + 1]);
        Expect(forget.Shape.Count == 2, "the LSTM weights must have rank 2");
        int units = forget.Shape[0];
        Expect(batches > 0 && steps > 0 && inputSize > 0 && units > 0, "the LSTM sizes must be positive");
        for (int g = 0; g < 4; g++)
        {
            Expect(context.T(op.Inputs[FirstWeight + g]).Shape.SequenceEqual(new[] { units, inputSize }), $"LSTM input weights {FirstWeight + g} must be [{units}, {inputSize}]");
            Expect(context.T(op.Inputs[FirstWeight + 4 + g]).Shape.SequenceEqual(new[] { units, units }), $"LSTM recurrent weights {FirstWeight + 4 + g} must be [{units}, {units}]");
            Expect(context.T(op.Inputs[FirstBias + g]).Shape.SequenceEqual(new[] { units }), $"LSTM bias {FirstBias + g} must be [{units}]");
        }
        long stateElements = (long)batches * units;
        Expect(context.T(op.Inputs[OutputState]).ElementCount == stateElements && context.T(op.Inputs[CellState]).ElementCount == stateElements,
            $"the LSTM output and cell states must hold batches x units = {stateElements} elements");
        ExpectShape(context.T(op.Outputs[0]), new[] { input.Shape[0], input.Shape[1], units });
        return new Sizes(batches, steps, inputSize, units, o.TimeMajor);
    }

    /// <summary>tml_lstm_*_get_buffer_size: TFLM's four buffers of batches x units cell-state elements.</summary>
    public override long ScratchBytes(LoweringContext context, Operator op)
    {
        var s = Shape(context, op);
        return 4L * s.Batches * s.Units * (context.IsFloat(op) ? 4 : 2);
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        var s = Shape(context, op);
        var o = op.OptionsAs<UnidirectionalSequenceLstmOptions>()!;
        const int cellGate = 0; // TML_LSTM_GATE_TANH, the validated activation
        var weights = Arg.PointerArray(Enumerable.Range(FirstWeight, 8).Select(p => context.Ptr(op.Inputs[p])).ToArray());
        var biases = Arg.PointerArray(Enumerable.Range(FirstBias, 4).Select(p => context.Ptr(op.Inputs[p])).ToArray());
        var sizes = new[] { Field.I("batches", s.Batches), Field.I("time_steps", s.TimeSteps), Field.I("input_size", s.InputSize),
            Field.I("state_size", s.Units), Field.I("time_major", s.TimeMajor ? 1 : 0) };
        string comment = $"{s.Units} units, {s.TimeSteps} steps, {(s.TimeMajor ? "time-major" : "batch-major")}";
        var tail = new[] { Arg.Ptr(context.Ptr(op.Inputs[OutputState])), Arg.Ptr(context.Ptr(op.Inputs[CellState])),
            Arg.Ptr(context.Scratch), Arg.Ptr(context.Ptr(op.Outputs[0])) };
        if (context.IsFloat(op))
        {
            context.Call("tml_lstm_f32", comment, new[] { Arg.Struct("tml_lstm_f32_params", sizes.Concat(new[] {
                Field.I("cell_gate_activation", cellGate), Field.F("cell_clip", o.CellClip) }).ToArray()),
                Arg.Ptr(context.Ptr(op.Inputs[Input])), weights, biases }.Concat(tail).ToArray());
            return;
        }
        var input = context.T(op.Inputs[Input]);
        var hidden = context.T(op.Inputs[OutputState]);
        var iq = Q(input);
        var hq = Q(hidden);
        float cellScale = Q(context.T(op.Inputs[CellState])).Scale;
        // CreateGateParams: each gate FC writes int16 at 2^-12; GetQuantizedConvolutionMultipler takes the scale
        // product in float.
        const float GateScale = 1f / 4096, ActivationScale = 1f / 32768;
        var gates = Enumerable.Range(0, 4).Select(g => (
            In: Multiplier((double)(float)(iq.Scale * Q(context.T(op.Inputs[FirstWeight + g])).Scale) / GateScale),
            Rec: Multiplier((double)(float)(hq.Scale * Q(context.T(op.Inputs[FirstWeight + 4 + g])).Scale) / GateScale))).ToArray();
        // CreateInterGateMulParams: the products in double.
        var forget = Multiplier((double)ActivationScale * cellScale / cellScale);
        var inputGate = Multiplier((double)ActivationScale * ActivationScale / cellScale);
        var hiddenMul = Multiplier((double)ActivationScale * ActivationScale / hq.Scale);
        // CreateLstmCellStateInfo: CheckedLog2 in float (its verdict unused; a power-of-two scale is exact), the clip
        // in double, truncated.
        float log2 = (float)Math.Log(cellScale) * (1f / (float)Math.Log(2.0));
        int scalePower = (int)Math.Round(log2, MidpointRounding.AwayFromZero);
        // The cell's tanh rescales it to Q3.12 by a shift the int16 TANH kernel can take.
        Expect(scalePower is >= -43 and <= 2, $"the LSTM cell state scale {cellScale} is outside 2^-43..2^2");
        bool wide = input.Type == I16;
        // The 16x8 gate FCs requantize with the 64-bit MultiplyByQuantizedMultiplier, which takes shifts in [-31, 7].
        if (wide)
            Expect(gates.All(g => g.In.Shift is >= -31 and <= 7 && g.Rec.Shift is >= -31 and <= 7),
                "a 16x8 LSTM gate's input or recurrent scale (scale product / 2^-12) is outside what TFLM's 64-bit requantization takes (shift -31..7)");
        int clip = (short)Math.Min(Math.Max((double)o.CellClip / cellScale, -32768.0), 32767.0);
        var fields = sizes.Concat(new[] { Field.I("input_zero_point", iq.ZeroPoint), Field.I("hidden_zero_point", hq.ZeroPoint) })
            .Concat(KernelArgs.FieldArray("input_multiplier", gates.Select(g => g.In.Multiplier).ToArray(), 4))
            .Concat(KernelArgs.FieldArray("input_shift", gates.Select(g => g.In.Shift).ToArray(), 4))
            .Concat(KernelArgs.FieldArray("recurrent_multiplier", gates.Select(g => g.Rec.Multiplier).ToArray(), 4))
            .Concat(KernelArgs.FieldArray("recurrent_shift", gates.Select(g => g.Rec.Shift).ToArray(), 4))
            .Concat(new[] {
                Field.I("cell_gate_activation", cellGate), Field.I("cell_scale_power", scalePower),
                Field.I("forget_multiplier", forget.Multiplier), Field.I("forget_shift", forget.Shift),
                Field.I("input_gate_multiplier", inputGate.Multiplier), Field.I("input_gate_shift", inputGate.Shift),
                Field.I("hidden_multiplier", hiddenMul.Multiplier), Field.I("hidden_shift", hiddenMul.Shift),
                Field.I("use_cell_clip", o.CellClip > 0 ? 1 : 0), Field.I("quantized_cell_clip", clip) });
        context.Call(wide ? "tml_lstm_s16" : "tml_lstm_s8", comment, new[] { Arg.Struct("tml_lstm_s8_params", fields.ToArray()),
            Arg.Ptr(context.Ptr(op.Inputs[Input])), weights, biases }.Concat(tail).ToArray());
    }
}
