// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.LoweringChecks;
using static TinyML.Compiler.Operators.OperatorTypes;

namespace TinyML.Compiler.Operators;

/// <summary>SVDF (keyword spotting), int8, with int16 time weights and an int16 state variable (input 4), or int8
/// time weights and an int8 state (TFLM's EvalIntegerSvdfReference for either type).</summary>
internal sealed class Svdf : OperatorDefinition
{
    public override IReadOnlyList<OpKind> Kinds { get; } = new[] { OpKind.Svdf };

    private static readonly OperatorRule SvdfRule = new(4, 5, 5, Int8Only, SvdfOptions.Union, new[] { 3 });

    public override OperatorRule Rule(OpKind kind) => SvdfRule;

    private static readonly int[] State = { 4 };

    public override IReadOnlyList<int> StateInputs(OpKind kind) => State;

    public override Activation FusedActivation(Operator op) => op.OptionsAs<SvdfOptions>()?.Activation ?? Activation.None;

    public override bool CheckOperands(OperatorValidation validation, Operator op)
    {
        if (validation.Graph.Input(op, 4) is not { } state || validation.Graph.Input(op, 2) is not { } time) return true;
        // TFLM keeps the state in the time weights' type: INT16 with INT16, INT8 with INT8.
        if ((state.Type, time.Type) is (I16, I16) or (I8, I8)) return true;
        validation.Report(DiagnosticIds.InvalidOperator,
            $"SVDF state is {DataTypes.Name(state.Type)} with {DataTypes.Name(time.Type)} time weights; supported: an INT16 state with INT16 time weights, or an INT8 state with INT8 time weights", state);
        return false;
    }

    public override long Macs(Graph graph, Operator op)
    {
        // Feature projection: every filter reads the whole input; time projection: every filter reads its memory.
        var input = graph.Input(op, 0);
        var feature = graph.Input(op, 1);
        var time = graph.Input(op, 2);
        if (input is not { Shape.Count: 2 } || feature is not { Shape.Count: 2 } || time is not { Shape.Count: 2 }) return 0;
        long batch = input.Shape[0];
        return batch * feature.Shape[0] * feature.Shape[1] + batch * time.Shape[0] * time.Shape[1];
    }

    private static (int Batches, int InputSize, int Filters, int Rank, int Memory) Shape(LoweringContext context, Operator op)
    {
        var input = context.T(op.Inputs[0]);
        var feature = context.T(op.Inputs[1]);
        var time = context.T(op.Inputs[2]);
        var state = context.T(op.Inputs[4]);
        int rank = op.OptionsAs<SvdfOptions>()?.Rank ?? throw Fail("missing SVDFOptions");
        Expect(input.Shape.Count == 2 && feature.Shape.Count == 2 && time.Shape.Count == 2, "SVDF input, feature and time weights must have rank 2");
        int batches = input.Shape[0], inputSize = input.Shape[1], filters = feature.Shape[0], memory = time.Shape[1];
        Expect(feature.Shape[1] == inputSize && time.Shape[0] == filters && rank > 0 && filters % rank == 0, "SVDF weight shapes do not match");
        Expect(state.IsVariable && state.ElementCount == (long)batches * memory * filters && state.Type is DataType.Int16 or DataType.Int8, "the SVDF state must be an INT16 or INT8 variable of batches x memory x filters");
        Expect(feature.Type == DataType.Int8 && time.Type == state.Type, "SVDF needs INT8 feature weights and time weights of the state's type");
        int units = filters / rank;
        ExpectShape(context.T(op.Outputs[0]), new[] { batches, units });
        return (batches, inputSize, filters, rank, memory);
    }

    /// <summary>tml_svdf_s8's scratch (tml_svdf_s8_get_buffer_size): int32 per filter and per unit, per batch.</summary>
    public override long ScratchBytes(LoweringContext context, Operator op)
    {
        var (batches, _, filters, _, _) = Shape(context, op);
        int units = context.T(op.Outputs[0]).Shape[1];
        return 4L * batches * (filters + units);
    }

    public override void Lower(LoweringContext context, Operator op)
    {
        var (batches, inputSize, filters, rank, memory) = Shape(context, op);
        var input = context.T(op.Inputs[0]);
        var feature = context.T(op.Inputs[1]);
        var time = context.T(op.Inputs[2]);
        var state = context.T(op.Inputs[4]);
        var output = context.T(op.Outputs[0]);
        var iq = Q(input);
        var sq = Q(state);
        var oq = Q(output);
        // svdf_common.cc: both multipliers come from float products.
        float featureScale = iq.Scale * Q(feature).Scale / sq.Scale;
        float timeScale = sq.Scale * Q(time).Scale / oq.Scale;
        var (m1, s1) = Multiplier(featureScale);
        var (m2, s2) = Multiplier(timeScale);
        // The int8 state is kept offset by its zero point, so that the zeroed state region is TFLM's reset value.
        string kernel = state.Type == DataType.Int8 ? "tml_svdf_s8_state_s8" : "tml_svdf_s8";
        context.Call(kernel, $"{filters} filters, rank {rank}, memory {memory}", Arg.Struct("tml_svdf_params",
            Field.I("batches", batches), Field.I("input_size", inputSize), Field.I("num_filters", filters), Field.I("rank", rank),
            Field.I("memory_size", memory), Field.I("input_zero_point", iq.ZeroPoint), Field.I("output_zero_point", oq.ZeroPoint),
            Field.I("state_zero_point", sq.ZeroPoint), Field.I("multiplier_1", m1), Field.I("shift_1", s1),
            Field.I("multiplier_2", m2), Field.I("shift_2", s2)),
            Arg.Ptr(context.Ptr(op.Inputs[0])), Arg.Ptr(context.Ptr(op.Inputs[1])), Arg.Ptr(context.Ptr(op.Inputs[2])), Arg.Ptr(context.Ptr(op.Inputs[3])),
            Arg.Ptr(context.Ptr(op.Inputs[4])), Arg.Ptr(context.Scratch), Arg.Ptr(context.Ptr(op.Outputs[0])));
    }
}
