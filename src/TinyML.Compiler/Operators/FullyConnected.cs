// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>FULLY_CONNECTED: rows of the input times weights [units, depth], optional bias.</summary>
internal sealed class FullyConnected : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.FullyConnected };

    private static readonly OperatorRule FullyConnectedRule = new(12, 2, 3, WeightedOperator.Types, FullyConnectedOptions.Union, new[] { 2 });

    public override OperatorRule Rule(OpKind kind) => FullyConnectedRule;

    // TFLM's 16x8 FULLY_CONNECTED takes an int64 or an int32 bias (FullyConnected<int64_t> / <int32_t>, per channel too).
    private static readonly DataType[] Int16Biases = { DataType.Int64, DataType.Int32 };

    public override void CheckWeights(OperatorValidation validation, Operator op, Tensor input) =>
        WeightedOperator.CheckWeights(validation, op, input, expectedRank: 2, channelDim: 0, int16Biases: Int16Biases);

    public override void CheckOptions(OperatorValidation validation, Operator op)
    {
        if (op.Options is FullyConnectedOptions { WeightsFormat: not 0 })
            validation.Report(DiagnosticIds.InvalidOperator, "shuffled fully-connected weights are not supported");
    }

    public override int? QuantizedVersion(OpKind kind) => 4;

    public override WeightLayout Weights(OpKind kind) => new(ChannelDimension: 0, PerChannel: false);

    public override Activation FusedActivation(Operator op) => op.OptionsAs<FullyConnectedOptions>()?.Activation ?? Activation.None;

    public override OperatorOptions? WithFusedActivation(Operator op, Activation activation) =>
        op.OptionsAs<FullyConnectedOptions>() is { } o ? o with { Activation = activation } : null;

    public override long Macs(Graph graph, Operator op)
    {
        // Every output value is a dot product over the weights' depth.
        return graph.Input(op, 1) is { Shape: { Count: 2 } w } ? graph.Output(op, 0).ElementCount * w[1] : 0;
    }

    /// <summary>The weights [units, depth] when the call is tml_fully_connected_s8_packed (as <see cref="Lower"/> decides).</summary>
    public override PackedWeights? PackedMatrixWeights(LoweringContext context, Operator op)
    {
        if (op.Inputs.Count < 2 || op.Inputs[1] < 0 || context.IsFloat(op) || context.T(op.Inputs[0]).Type != I8
            || WeightedOperator.UsesOnnxRuntimeRounding(context, op)) return null;
        var weights = context.T(op.Inputs[1]);
        int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
        if (weights.Shape.Count != 2 || weights.Quantization is not { HasScales: true } wq
            || !PackedMatrix.Applies(context, op.Inputs[1], bias, wq.IsPerChannel)) return null;
        return new PackedWeights(op.Inputs[1], weights.Shape[0], weights.Shape[1]);
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var weights = context.T(op.Inputs[1]);
        var output = context.T(op.Outputs[0]);
        bool isFloat = context.IsFloat(op);
        int bias = op.Inputs.Count > 2 ? op.Inputs[2] : -1;
        var opt = op.OptionsAs<FullyConnectedOptions>() ?? throw Fail("missing FullyConnectedOptions");
        int depth = weights.Shape[1], units = weights.Shape[0];
        Expect(depth > 0 && ElementCount(input) % depth == 0, $"input {input.Shape} does not split into rows of {depth}");
        int batches = ElementCount(input) / depth;
        Expect(ElementCount(output) == batches * units && output.Shape[output.Shape.Count - 1] == units,
            $"output {output.Shape} does not hold {batches} x {units} values");
        string comment = $"{depth} -> {units} x{batches} {opt.Activation}";
        if (isFloat)
        {
            var (min, max) = QuantMath.ActivationRangeFloat(opt.Activation);
            bool packed = PackedMatrix.AppliesFloat(context, op.Inputs[1]);
            context.Call(packed ? "tml_fully_connected_f32_packed" : "tml_fully_connected_f32", packed ? comment + ", weights packed for the host" : comment,
                Arg.Struct("tml_fully_connected_f32_params", Field.F("activation_min", min), Field.F("activation_max", max)),
                Arg.Int32(batches), Arg.Int32(depth), Arg.Int32(units),
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(packed ? PackedMatrix.FloatConstant(context, op.Inputs[1], units, depth) : context.Ptr(op.Inputs[1])),
                Arg.Ptr(context.Ptr(bias)), Arg.Ptr(context.Ptr(op.Outputs[0])));
            return;
        }
        var oq = Q(output);
        var wq = Q(weights);
        var (actMin, actMax) = QuantMath.ActivationRange(opt.Activation, oq.Scale, oq.ZeroPoint, output.Type);
        var fields = new[]
        {
            Field.I("input_offset", -Q(input).ZeroPoint), Field.I("filter_offset", -wq.ZeroPoint),
            Field.I("output_offset", oq.ZeroPoint), Field.I("activation_min", actMin),
            Field.I("activation_max", actMax), Field.I("per_channel", wq.IsPerChannel ? 1 : 0),
        };
        if (WeightedOperator.UsesOnnxRuntimeRounding(context, op))
        {
            context.Call("tml_fully_connected_s8_float_requant", comment + ", onnxruntime rounding",
                Arg.Struct("tml_fully_connected_params", fields),
                Arg.Ptr(WeightedOperator.OnnxRuntimeScales(context, input, weights, output, wq.IsPerChannel ? units : 1)),
                Arg.Int32(batches), Arg.Int32(depth), Arg.Int32(units),
                Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Inputs[1])), Arg.Ptr(context.Ptr(bias)), Arg.Ptr(context.Ptr(op.Outputs[0])),
                Arg.Ptr(Pointer.Null));
            return;
        }
        var (multipliers, shifts) = WeightedOperator.ChannelMultipliers(context, input, weights, output, wq.IsPerChannel ? units : 1, floatProduct: !wq.IsPerChannel);
        if (input.Type == DataType.Int8 && PackedMatrix.Applies(context, op.Inputs[1], bias, wq.IsPerChannel))
        {
            PackedMatrix.Call(context, comment, op.Inputs[1], bias, batches, depth, units, Q(input).ZeroPoint, oq.ZeroPoint, actMin, actMax,
                wq.IsPerChannel, (multipliers, shifts), context.Ptr(op.Inputs[0]), context.Ptr(op.Outputs[0]));
            return;
        }
        // TFLM's 16x8 FULLY_CONNECTED without an int64 bias accumulates in int32 (tml_fully_connected_s16_bias32).
        string kernel = input.Type != I16 ? "tml_fully_connected_s8"
            : bias >= 0 && context.T(bias).Type == DataType.Int64 ? "tml_fully_connected_s16" : "tml_fully_connected_s16_bias32";
        context.Call(kernel, comment,
            Arg.Struct("tml_fully_connected_params", fields),
            PerChannel(multipliers, shifts), Arg.Int32(batches), Arg.Int32(depth), Arg.Int32(units),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Inputs[1])), Arg.Ptr(context.Ptr(bias)), Arg.Ptr(context.Ptr(op.Outputs[0])),
            Arg.Ptr(Pointer.Null));
    }
}
