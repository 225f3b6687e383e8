// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Validation;

/// <summary>
/// Decides whether we can run a model that the reader loaded: operators and versions, tensor type combinations,
/// quantization (present, consistent, and as the TFLite int8 specification requires), static shapes, constants.
/// </summary>
public static class ModelValidator
{
    private const DataType F32 = DataType.Float32, I8 = DataType.Int8, I16 = DataType.Int16, I32 = DataType.Int32;

    /// <summary>An operator we run: the highest version we know, its input count range, and its accepted types
    /// (input 0, output 0).</summary>
    private sealed record OpRule(int MaxVersion, int MinInputs, int MaxInputs, (DataType In, DataType Out)[] Types);

    private static readonly (DataType, DataType)[] Int8OrFloat = { (I8, I8), (F32, F32) };
    private static readonly (DataType, DataType)[] Int8Only = { (I8, I8) };
    private static readonly (DataType, DataType)[] AnyMovable = { (I8, I8), (F32, F32), (I16, I16), (I32, I32) };

    private static readonly Dictionary<OpKind, OpRule> Rules = new()
    {
        [OpKind.Add] = new(5, 2, 2, Int8OrFloat),
        [OpKind.Sub] = new(5, 2, 2, Int8Only),
        [OpKind.Mul] = new(7, 2, 2, Int8Only),
        [OpKind.AveragePool2D] = new(3, 1, 1, Int8OrFloat),
        [OpKind.MaxPool2D] = new(3, 1, 1, Int8OrFloat),
        [OpKind.Conv2D] = new(8, 2, 3, Int8OrFloat),
        [OpKind.DepthwiseConv2D] = new(7, 2, 3, Int8OrFloat),
        [OpKind.FullyConnected] = new(12, 2, 3, Int8OrFloat),
        [OpKind.Softmax] = new(3, 1, 1, new[] { (I8, I8), (I8, I16), (F32, F32) }),
        [OpKind.Logistic] = new(3, 1, 1, Int8OrFloat),
        [OpKind.Tanh] = new(3, 1, 1, Int8OrFloat),
        [OpKind.HardSwish] = new(1, 1, 1, Int8Only),
        [OpKind.LeakyRelu] = new(2, 1, 1, Int8Only),
        [OpKind.Relu] = new(3, 1, 1, Int8Only),
        [OpKind.Relu6] = new(3, 1, 1, Int8Only),
        [OpKind.Reshape] = new(2, 1, 2, AnyMovable),
        [OpKind.Squeeze] = new(2, 1, 1, AnyMovable),
        [OpKind.Pad] = new(4, 2, 2, AnyMovable),
        [OpKind.PadV2] = new(4, 3, 3, AnyMovable),
        [OpKind.Transpose] = new(6, 2, 2, AnyMovable),
        [OpKind.StridedSlice] = new(8, 3, 4, AnyMovable),
        [OpKind.Concatenation] = new(4, 1, int.MaxValue, AnyMovable),
        [OpKind.Mean] = new(3, 2, 2, Int8Only),
        [OpKind.Quantize] = new(3, 1, 1, new[] { (F32, I8), (I8, I8), (I16, I8), (I8, I16), (I16, I16), (I16, I32), (I8, I32), (F32, I16) }),
        [OpKind.Dequantize] = new(6, 1, 1, new[] { (I8, F32), (I16, F32) }),
        [OpKind.Svdf] = new(4, 5, 5, Int8Only),
    };

    /// <summary>The operators we run.</summary>
    public static IEnumerable<OpKind> SupportedOperators => Rules.Keys.OrderBy(k => (int)k);

    /// <summary>Validates the main graph of a model.</summary>
    public static IReadOnlyList<Diagnostic> Validate(Model model, string? file = null)
    {
        var context = new Context(model.Main, file);
        if (model.Subgraphs.Count > 1)
            context.Report(DiagnosticIds.UnsupportedModelStructure,
                $"the model has {model.Subgraphs.Count} subgraphs; only single-subgraph models (no control flow) are supported");
        context.CheckTensors();
        context.CheckDataflow();
        for (int i = 0; i < model.Main.Operators.Count; i++) context.CheckOperator(i);
        return context.Diagnostics.Ordered().ToList();
    }

    private sealed class Context
    {
        private readonly Graph _graph;
        private readonly string? _file;

        public Context(Graph graph, string? file)
        {
            _graph = graph;
            _file = file;
        }

        public DiagnosticBag Diagnostics { get; } = new();

        public void Report(string id, string message, int? op = null, Tensor? tensor = null, Severity severity = Severity.Error) =>
            Diagnostics.Add(new Diagnostic(id, severity, message)
            {
                File = _file,
                OperatorIndex = op,
                OperatorType = op is int index ? _graph.Operators[index].TypeName : null,
                TensorName = tensor?.Name,
            });

        public void CheckTensors()
        {
            foreach (var tensor in _graph.Tensors)
            {
                if (tensor.IsSparse)
                    Report(DiagnosticIds.UnsupportedModelStructure, "sparse tensors are not supported", tensor: tensor);
                if (tensor.ShapeSignature is { } signature && !tensor.IsConstant)
                {
                    // A dynamic batch with a static batch of 1 compiles as batch 1, as TFLM runs it; anything else is dynamic.
                    bool dynamic = signature.Count != tensor.Shape.Count ||
                        signature.Select((d, i) => d < 0 && !(i == 0 && tensor.Shape[0] == 1)).Any(x => x);
                    if (dynamic)
                        Report(DiagnosticIds.DynamicShape,
                            $"dynamic shape {signature} (static shape {tensor.Shape}); only static shapes can be planned", tensor: tensor);
                }
                if (tensor.Data is { } data && tensor.Bytes >= 0 && data.Length != tensor.Bytes)
                    Report(DiagnosticIds.ConstantSizeMismatch,
                        $"constant holds {data.Length} bytes, but {DataTypes.Name(tensor.Type)}{tensor.Shape} needs {tensor.Bytes}", tensor: tensor);
                if (tensor.Quantization is { } q)
                {
                    if (q.ZeroPoints.Count != 0 && q.ZeroPoints.Count != q.Scales.Count)
                        Report(DiagnosticIds.InconsistentQuantization,
                            $"{q.Scales.Count} scales but {q.ZeroPoints.Count} zero points", tensor: tensor);
                    // The file holds int64 zero points; the plan and the kernels take them in the type's range (int32 at most).
                    var (low, high) = tensor.Type switch
                    {
                        I8 => (sbyte.MinValue, sbyte.MaxValue),
                        DataType.UInt8 => (byte.MinValue, byte.MaxValue),
                        I16 => (short.MinValue, short.MaxValue),
                        _ => (int.MinValue, (long)int.MaxValue),
                    };
                    foreach (long zero in q.ZeroPoints.Where(z => z < low || z > high).Take(1))
                        Report(DiagnosticIds.InconsistentQuantization,
                            $"zero point {zero} is outside the range of {DataTypes.Name(tensor.Type)} ({low} to {high})", tensor: tensor);
                    if (q.Scales.Any(s => !(s > 0) || float.IsInfinity(s)))
                        Report(DiagnosticIds.InconsistentQuantization, "a quantization scale is not a positive finite number", tensor: tensor);
                    if (q.IsPerChannel)
                    {
                        if (q.QuantizedDimension < 0 || q.QuantizedDimension >= tensor.Shape.Count)
                            Report(DiagnosticIds.InconsistentQuantization,
                                $"quantized_dimension {q.QuantizedDimension} is outside rank {tensor.Shape.Count}", tensor: tensor);
                        else if (tensor.Shape[q.QuantizedDimension] != q.Scales.Count)
                            Report(DiagnosticIds.InconsistentQuantization,
                                $"{q.Scales.Count} scales for {tensor.Shape[q.QuantizedDimension]} channels along dimension {q.QuantizedDimension}", tensor: tensor);
                    }
                }
            }
        }

        /// <summary>
        /// The planner and the reordering assume a dataflow graph in execution order: each activation is a graph
        /// input or written by one earlier operator, no operator writes a constant or a graph input, and the graph's
        /// inputs and outputs live in the arena. A model that breaks this would plan reads of bytes nobody wrote.
        /// </summary>
        public void CheckDataflow()
        {
            bool Activation(int t) => !_graph.Tensors[t].IsConstant && !_graph.Tensors[t].IsVariable;
            foreach (int t in _graph.Inputs.Concat(_graph.Outputs).Distinct())
                if (!Activation(t))
                    Report(DiagnosticIds.UnsupportedModelStructure,
                        $"graph {(_graph.Inputs.Contains(t) ? "input" : "output")} is a {(_graph.Tensors[t].IsConstant ? "constant" : "variable")} tensor; inputs and outputs must be activations", tensor: _graph.Tensors[t]);
            var producer = new Dictionary<int, int>();
            for (int i = 0; i < _graph.Operators.Count; i++)
                foreach (int t in _graph.Operators[i].Outputs)
                    if (t >= 0 && !producer.ContainsKey(t)) producer[t] = i;
            var written = new HashSet<int>(_graph.Inputs);
            for (int i = 0; i < _graph.Operators.Count; i++)
            {
                var op = _graph.Operators[i];
                // Operators we do not run are refused on their own (an LSTM keeps state too).
                foreach (int t in op.Inputs.Where(t => t >= 0 && _graph.Tensors[t].IsVariable && Rules.ContainsKey(op.Kind)).Distinct())
                    if (!(op.Kind == OpKind.Svdf && op.Inputs.Count > 4 && op.Inputs[4] == t && op.Inputs.Count(x => x == t) == 1))
                        Report(DiagnosticIds.InvalidOperator, "reads a variable tensor, which only SVDF keeps as its state (input 4)", i, _graph.Tensors[t]);
                foreach (int t in op.Inputs)
                {
                    if (t < 0 || !Activation(t) || written.Contains(t)) continue;
                    Report(DiagnosticIds.InvalidOperator, producer.TryGetValue(t, out int p)
                        ? $"reads a tensor that operator {p} writes, which runs {(p == i ? "as this operator" : "later")}"
                        : "reads a tensor that is neither a graph input, a constant, nor written by an operator", i, _graph.Tensors[t]);
                }
                foreach (int t in op.Outputs)
                {
                    if (t < 0) continue;
                    if (!Activation(t))
                        Report(DiagnosticIds.InvalidOperator, $"writes a {(_graph.Tensors[t].IsConstant ? "constant" : "variable")} tensor", i, _graph.Tensors[t]);
                    else if (!written.Add(t))
                        Report(DiagnosticIds.InvalidOperator, _graph.Inputs.Contains(t) ? "writes a graph input" : $"writes a tensor that operator {producer[t]} already wrote", i, _graph.Tensors[t]);
                }
            }
            foreach (int t in _graph.Outputs.Distinct())
                if (Activation(t) && !written.Contains(t))
                    Report(DiagnosticIds.UnsupportedModelStructure, "graph output is written by no operator", tensor: _graph.Tensors[t]);
        }

        public void CheckOperator(int index)
        {
            var op = _graph.Operators[index];
            if (!Rules.TryGetValue(op.Kind, out var rule))
            {
                Report(DiagnosticIds.UnsupportedOperator, op.Kind == OpKind.Custom
                    ? $"custom operator '{op.CustomCode}' is not supported"
                    : $"operator {op.TypeName} is not supported; supported: {string.Join(", ", SupportedOperators.Select(OpKinds.Name))}", index);
                return;
            }
            if (op.Version < 1 || op.Version > rule.MaxVersion)
                Report(DiagnosticIds.UnsupportedOperatorVersion,
                    $"{op.TypeName} version {op.Version} is not supported (versions 1 to {rule.MaxVersion} are)", index);
            if (op.Inputs.Count < rule.MinInputs || op.Inputs.Count > rule.MaxInputs || op.Outputs.Count != 1)
            {
                Report(DiagnosticIds.InvalidOperator,
                    $"has {op.Inputs.Count} inputs and {op.Outputs.Count} outputs; expected {rule.MinInputs}" +
                    (rule.MaxInputs == rule.MinInputs ? "" : rule.MaxInputs == int.MaxValue ? " or more" : $" to {rule.MaxInputs}") +
                    " inputs and 1 output", index);
                return;
            }
            // Only a bias (and RESHAPE's shape, which its options may replace) may be omitted; lowering reads every other input.
            for (int p = 0; p < op.Inputs.Count; p++)
                if (op.Inputs[p] < 0 && !IsOptionalInput(op.Kind, p))
                {
                    Report(DiagnosticIds.InvalidOperator, $"required input {p} is omitted", index);
                    return;
                }
            var input = _graph.Tensors[op.Inputs[0]];
            var output = _graph.Output(op, 0);
            if (!rule.Types.Contains((input.Type, output.Type)))
            {
                Report(DiagnosticIds.UnsupportedTypeCombination,
                    $"{DataTypes.Name(input.Type)} input with {DataTypes.Name(output.Type)} output is not supported; supported: " +
                    string.Join(", ", rule.Types.Select(t => $"{DataTypes.Name(t.In)}->{DataTypes.Name(t.Out)}")), index, input);
                return;
            }
            if (op.Options is { } options && ExpectedUnion(op.Kind) is byte union && options.UnionType != union)
                Report(DiagnosticIds.InvalidOperator, $"has builtin options of union type {options.UnionType}, expected {union}", index);
            if (op.Kind == OpKind.Svdf && _graph.Input(op, 4) is { Type: not I16 } state)
            {
                // Legal TFLite (TFLM runs an int8 state too), but our SVDF kernel keeps an int16 state.
                Report(DiagnosticIds.InvalidOperator,
                    $"SVDF state is {DataTypes.Name(state.Type)}; only an INT16 state (batches x memory x filters) is supported", index, state);
                return;
            }
            CheckActivationQuantization(index, op);
            CheckWeights(index, op, input);
            CheckOptions(index, op);
            CheckSpecification(index, op, input, output);
        }

        private static bool IsOptionalInput(OpKind kind, int position) => (kind, position) switch
        {
            (OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected, 2) => true,
            (OpKind.Svdf, 3) => true,
            (OpKind.Reshape, 1) => true,
            _ => false,
        };

        private static byte? ExpectedUnion(OpKind kind) => kind switch
        {
            OpKind.Conv2D => Conv2DOptions.Union,
            OpKind.DepthwiseConv2D => DepthwiseConv2DOptions.Union,
            OpKind.AveragePool2D or OpKind.MaxPool2D => Pool2DOptions.Union,
            OpKind.FullyConnected => FullyConnectedOptions.Union,
            OpKind.Softmax => SoftmaxOptions.Union,
            OpKind.Concatenation => ConcatenationOptions.Union,
            OpKind.Add => AddOptions.Union,
            OpKind.Sub => SubOptions.Union,
            OpKind.Mul => MulOptions.Union,
            OpKind.Mean => ReducerOptions.Union,
            OpKind.Squeeze => SqueezeOptions.Union,
            OpKind.StridedSlice => StridedSliceOptions.Union,
            OpKind.LeakyRelu => LeakyReluOptions.Union,
            OpKind.Svdf => SvdfOptions.Union,
            _ => null,
        };

        private static bool IsQuantizedType(DataType type) => type is I8 or I16 or DataType.UInt8;

        private void CheckActivationQuantization(int index, Operator op)
        {
            // Reshape-like and data-movement ops carry the quantization through; every other quantized tensor
            // an operator reads or writes needs per-tensor parameters.
            foreach (int t in op.Inputs.Concat(op.Outputs))
            {
                if (t < 0) continue;
                var tensor = _graph.Tensors[t];
                if (tensor.IsConstant || !IsQuantizedType(tensor.Type)) continue;
                if (tensor.Quantization is not { HasScales: true } q)
                    Report(DiagnosticIds.MissingQuantization, $"{DataTypes.Name(tensor.Type)} tensor has no quantization scale", index, tensor);
                else if (q.IsPerChannel)
                    Report(DiagnosticIds.InconsistentQuantization, "an activation tensor must be quantized per tensor", index, tensor);
            }
        }

        private void CheckWeights(int index, Operator op, Tensor input)
        {
            if (op.Kind is not (OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected)) return;
            var weights = _graph.Input(op, 1)!;
            var bias = _graph.Input(op, 2);
            if (input.Type == F32 && weights.Type != F32)
            {
                Report(DiagnosticIds.UnsupportedTypeCombination,
                    $"hybrid operator: FLOAT32 activations with {DataTypes.Name(weights.Type)} weights are not supported; " +
                    "quantize the whole model to int8 (tinyml quantize) or keep float32 weights", index, weights);
                return;
            }
            if (weights.Type != input.Type)
            {
                Report(DiagnosticIds.UnsupportedTypeCombination,
                    $"{DataTypes.Name(weights.Type)} weights with {DataTypes.Name(input.Type)} input are not supported", index, weights);
                return;
            }
            int expectedRank = op.Kind == OpKind.FullyConnected ? 2 : 4;
            if (weights.Shape.Count != expectedRank)
            {
                Report(DiagnosticIds.InvalidOperator, $"weights must have rank {expectedRank}, not {weights.Shape.Count}", index, weights);
                return;
            }
            int channelDim = op.Kind == OpKind.DepthwiseConv2D ? 3 : 0;
            int channels = weights.Shape[channelDim];
            if (bias is not null)
            {
                var expectedBias = input.Type == F32 ? F32 : I32;
                if (bias.Type != expectedBias)
                    Report(DiagnosticIds.UnsupportedTypeCombination, $"bias must be {DataTypes.Name(expectedBias)}, not {DataTypes.Name(bias.Type)}", index, bias);
                if (bias.ElementCount != channels)
                    Report(DiagnosticIds.InvalidOperator, $"bias has {bias.ElementCount} elements for {channels} output channels", index, bias);
            }
            if (input.Type != I8) return;
            if (weights.Quantization is not { HasScales: true } wq)
            {
                Report(DiagnosticIds.MissingQuantization, "int8 weights have no quantization scales", index, weights);
                return;
            }
            if (wq.IsPerChannel && (wq.QuantizedDimension != channelDim || wq.Scales.Count != channels))
                Report(DiagnosticIds.InconsistentQuantization,
                    $"per-channel weights must have {channels} scales along dimension {channelDim}; found {wq.Scales.Count} along {wq.QuantizedDimension}", index, weights);
            if (wq.ZeroPoints.Any(z => z != 0))
                Report(DiagnosticIds.QuantizationSpecViolation, "int8 weights must be symmetric (zero point 0)", index, weights);
            if (bias?.Quantization is { HasScales: true } bq && bq.Scales.Count != wq.Scales.Count)
                Report(DiagnosticIds.InconsistentQuantization,
                    $"bias has {bq.Scales.Count} scales but the weights have {wq.Scales.Count}", index, bias);
            else if (bias?.Quantization is { HasScales: true } biasQ && input.Quantization is { HasScales: true } iq &&
                     _graph.Output(op, 0).Quantization is { HasScales: true } oq)
            {
                // TFLM's GetQuantizedConvolutionMultipler: the bias scale must be input x weight scale within 2% of the output scale.
                for (int c = 0; c < wq.Scales.Count; c++)
                {
                    double expected = (double)iq.Scale * wq.Scales[c];
                    if (Math.Abs(expected - biasQ.Scales[c]) / oq.Scale > 0.02)
                    {
                        Report(DiagnosticIds.QuantizationSpecViolation,
                            $"bias scale {biasQ.Scales[c]} of channel {c} is not input scale x weight scale ({expected})", index, bias);
                        break;
                    }
                }
            }
        }

        private void CheckOptions(int index, Operator op)
        {
            string? problem = op.Options switch
            {
                Conv2DOptions o when o.StrideW < 1 || o.StrideH < 1 || o.DilationW < 1 || o.DilationH < 1 => "strides and dilations must be at least 1",
                DepthwiseConv2DOptions o when o.StrideW < 1 || o.StrideH < 1 || o.DilationW < 1 || o.DilationH < 1 => "strides and dilations must be at least 1",
                Pool2DOptions o when o.StrideW < 1 || o.StrideH < 1 || o.FilterW < 1 || o.FilterH < 1 => "strides and filter sizes must be at least 1",
                _ => null,
            };
            if (problem is not null) Report(DiagnosticIds.InvalidOperator, problem, index);
            var activation = op.Options switch
            {
                Conv2DOptions o => o.Activation,
                DepthwiseConv2DOptions o => o.Activation,
                Pool2DOptions o => o.Activation,
                FullyConnectedOptions o => o.Activation,
                AddOptions o => o.Activation,
                SubOptions o => o.Activation,
                MulOptions o => o.Activation,
                ConcatenationOptions o => o.Activation,
                SvdfOptions o => o.Activation,
                _ => Activation.None,
            };
            if (activation is Activation.Tanh or Activation.SignBit || (byte)activation > (byte)Activation.SignBit)
                Report(DiagnosticIds.InvalidOperator, $"fused activation {activation} is not supported", index);
            // The kernels and the emitted C take finite parameters only.
            if (op.Options is SoftmaxOptions { Beta: var beta } && (float.IsNaN(beta) || float.IsInfinity(beta)))
                Report(DiagnosticIds.InvalidOperator, $"SOFTMAX beta {beta} is not a finite number", index);
            if (op.Options is LeakyReluOptions { Alpha: var alpha } && (float.IsNaN(alpha) || float.IsInfinity(alpha)))
                Report(DiagnosticIds.InvalidOperator, $"LEAKY_RELU alpha {alpha} is not a finite number", index);
            if (op.Options is FullyConnectedOptions { WeightsFormat: not 0 })
                Report(DiagnosticIds.InvalidOperator, "shuffled fully-connected weights are not supported", index);
            if (op.Options is DepthwiseConv2DOptions dw && _graph.Input(op, 1) is { Shape.Count: 4 } w && _graph.Input(op, 0) is { Shape.Count: 4 } x
                && x.Shape[3] > 0 && w.Shape[3] % x.Shape[3] != 0)
                Report(DiagnosticIds.InvalidOperator, $"{w.Shape[3]} output channels are not a multiple of {x.Shape[3]} input channels (depth multiplier {dw.DepthMultiplier})", index);
        }

        private void CheckSpecification(int index, Operator op, Tensor input, Tensor output)
        {
            if (input.Type != I8 || input.Quantization is not { HasScales: true } iq || output.Quantization is not { HasScales: true } oq) return;
            void Require(bool ok, string message)
            {
                if (!ok) Report(DiagnosticIds.QuantizationSpecViolation, message, index, output);
            }
            // TFLM accepts the fixed output scales within 0.1%, so converters may write 1/65535 for 1/65536.
            bool NearScale(float scale, float expected) => Math.Abs(scale - expected) <= 0.001f * expected;
            bool SameAsInput(Tensor t) => t.Quantization is { HasScales: true } q && q.Scale == iq.Scale && q.ZeroPoint == iq.ZeroPoint;
            switch (op.Kind)
            {
                case OpKind.AveragePool2D or OpKind.MaxPool2D:
                    Require(SameAsInput(output), $"int8 pooling must keep the input quantization (input scale {iq.Scale} zero point {iq.ZeroPoint}, output scale {oq.Scale} zero point {oq.ZeroPoint})");
                    break;
                case OpKind.Reshape or OpKind.Squeeze:
                    Require(SameAsInput(output), "int8 reshape must keep the input quantization");
                    break;
                case OpKind.Concatenation:
                    foreach (int t in op.Inputs)
                        if (t >= 0 && _graph.Tensors[t].Quantization is { HasScales: true } q && (q.Scale != oq.Scale || q.ZeroPoint != oq.ZeroPoint))
                        {
                            Require(false, $"int8 concatenation inputs must have the output's quantization (scale {oq.Scale} zero point {oq.ZeroPoint}); input '{_graph.Tensors[t].Name}' has scale {q.Scale} zero point {q.ZeroPoint}; insert a QUANTIZE");
                            break;
                        }
                    break;
                case OpKind.Softmax when output.Type == I8:
                    Require(NearScale(oq.Scale, 1f / 256) && oq.ZeroPoint == -128, $"int8 SOFTMAX output must have scale 1/256 and zero point -128, not {oq.Scale} and {oq.ZeroPoint}");
                    break;
                case OpKind.Softmax when output.Type == I16:
                    Require(NearScale(oq.Scale, 1f / 65536) && oq.ZeroPoint == -32768, $"int16 SOFTMAX output must have scale 1/65536 and zero point -32768, not {oq.Scale} and {oq.ZeroPoint}");
                    break;
                case OpKind.Logistic:
                    Require(NearScale(oq.Scale, 1f / 256) && oq.ZeroPoint == -128, $"int8 LOGISTIC output must have scale 1/256 and zero point -128, not {oq.Scale} and {oq.ZeroPoint}");
                    break;
                case OpKind.Tanh:
                    Require(NearScale(oq.Scale, 1f / 128) && oq.ZeroPoint == 0, $"int8 TANH output must have scale 1/128 and zero point 0, not {oq.Scale} and {oq.ZeroPoint}");
                    break;
                case OpKind.PadV2 when _graph.Input(op, 2) is { } value:
                    Require(value.Quantization is { HasScales: true } vq && vq.Scale == oq.Scale && vq.ZeroPoint == oq.ZeroPoint,
                        "the PADV2 constant value must have the output's quantization");
                    break;
            }
        }
    }
}
