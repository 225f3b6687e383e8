// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;

namespace TinyML.Compiler.Validation;

/// <summary>
/// Decides whether we can run a model that the reader loaded: operators and versions, tensor type combinations,
/// quantization (present, consistent, and as the TFLite int8 specification requires), static shapes, constants.
/// </summary>
public static class ModelValidator
{
    private const DataType I8 = DataType.Int8, I16 = DataType.Int16;

    /// <summary>The operators we run.</summary>
    public static IEnumerable<OpKind> SupportedOperators => OperatorRegistry.Supported;

    /// <summary>The operators with state inputs, as text: "SVDF (input 4)".</summary>
    private static readonly string StatefulOperators = string.Join(" or ", OperatorRegistry.Supported
        .Where(k => OperatorRegistry.Of(k)!.StateInputs(k).Count > 0)
        .Select(k => OperatorRegistry.Of(k)!.StateInputs(k) is var s && s.Count == 1
            ? $"{OpKinds.Name(k)} (input {s[0]})" : $"{OpKinds.Name(k)} (inputs {string.Join(" and ", OperatorRegistry.Of(k)!.StateInputs(k))})"));

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
                    bool outside = q.QuantizedDimension < 0 || q.QuantizedDimension >= tensor.Shape.Count;
                    // TML1018: what TFLM reads the same way whatever the dimension says is a warning (docs/diagnostics/TML1018.md).
                    // (0, the schema's default, on a scalar is no deviation.)
                    if (outside && q.QuantizedDimension != 0 && !q.IsPerChannel && q.HasScales)
                        Report(DiagnosticIds.ToleratedSpecDeviation,
                            $"quantized_dimension {q.QuantizedDimension} is outside rank {tensor.Shape.Count}; the tensor has one scale, so the dimension changes nothing", tensor: tensor, severity: Severity.Warning);
                    if (q.IsPerChannel)
                    {
                        if (outside && tensor.Shape.Count == 1 && tensor.Shape[0] == q.Scales.Count)
                            Report(DiagnosticIds.ToleratedSpecDeviation,
                                $"quantized_dimension {q.QuantizedDimension} is outside rank 1; its {q.Scales.Count} scales run along its only dimension", tensor: tensor, severity: Severity.Warning);
                        else if (outside)
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
                // Operators we do not run are refused on their own.
                var definition = OperatorRegistry.RuleOf(op.Kind) is null ? null : OperatorRegistry.Of(op.Kind);
                foreach (int t in op.Inputs.Where(t => t >= 0 && _graph.Tensors[t].IsVariable && definition is not null).Distinct())
                    if (!(definition!.StateInputs(op.Kind).Any(state => op.Inputs.Count > state && op.Inputs[state] == t) && op.Inputs.Count(x => x == t) == 1))
                        Report(DiagnosticIds.InvalidOperator, $"reads a variable tensor, which only {StatefulOperators} keeps as its state", i, _graph.Tensors[t]);
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
            if (OperatorRegistry.RuleOf(op.Kind) is not { } rule)
            {
                Report(DiagnosticIds.UnsupportedOperator, op.Kind == OpKind.Custom
                    ? $"custom operator '{op.CustomCode}' is not supported"
                    : $"operator {op.TypeName} is not supported; supported: {string.Join(", ", SupportedOperators.Select(OpKinds.Name))}", index);
                return;
            }
            var definition = OperatorRegistry.Of(op.Kind)!;
            var validation = new OperatorValidation(_graph, (id, message, tensor, severity) => Report(id, message, index, tensor, severity));
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
            // Only the inputs the rule names may be omitted; lowering reads every other input.
            for (int p = 0; p < op.Inputs.Count; p++)
                if (op.Inputs[p] < 0 && !rule.IsOptional(p))
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
            if (op.Options is { } options && rule.OptionsUnion is byte union && options.UnionType != union)
                Report(DiagnosticIds.InvalidOperator, $"has builtin options of union type {options.UnionType}, expected {union}", index);
            if (!definition.CheckOperands(validation, op)) return;
            CheckActivationQuantization(index, op);
            definition.CheckWeights(validation, op, input);
            definition.CheckOptions(validation, op);
            CheckFusedActivation(index, definition.FusedActivation(op));
            CheckSpecification(validation, definition, op, input, output);
        }

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

        private void CheckFusedActivation(int index, Activation activation)
        {
            if (activation is Activation.Tanh or Activation.SignBit || (byte)activation > (byte)Activation.SignBit)
                Report(DiagnosticIds.InvalidOperator, $"fused activation {activation} is not supported", index);
        }

        /// <summary>The int8 and int16 specification as the operator's definition states it: same-scale rules and fixed
        /// outputs.</summary>
        private static void CheckSpecification(OperatorValidation validation, OperatorDefinition definition, Operator op, Tensor input, Tensor output)
        {
            if (input.Type is not (I8 or I16) || input.Quantization is not { HasScales: true } iq || output.Quantization is not { HasScales: true } oq) return;
            bool Same(Quantization q, Quantization other) => q.Scale == other.Scale && q.ZeroPoint == other.ZeroPoint;
            string type = input.Type == I8 ? "int8" : "int16";
            switch (definition.SameScale(op.Kind))
            {
                case SameScale.OutputAsInput:
                    string keep = $"{type} {op.TypeName} must keep the input quantization (input scale {iq.Scale} zero point {iq.ZeroPoint}, output scale {oq.Scale} zero point {oq.ZeroPoint})";
                    if (Same(oq, iq)) break;
                    if (definition.CopiesBytesAsTflm(op.Kind))
                        validation.Tolerate($"{keep}; like TFLM's kernel, ours copies the input's bytes, so the output holds TFLM's bytes", output);
                    else
                        validation.Require(false, keep, output);
                    break;
                case SameScale.InputsAsOutput:
                    foreach (int t in op.Inputs)
                        if (t >= 0 && validation.Graph.Tensors[t].Quantization is { HasScales: true } q && !Same(q, oq))
                        {
                            validation.Require(false, $"{type} {op.TypeName} inputs must have the output's quantization (scale {oq.Scale} zero point {oq.ZeroPoint}); input '{validation.Graph.Tensors[t].Name}' has scale {q.Scale} zero point {q.ZeroPoint}; insert a QUANTIZE", output);
                            break;
                        }
                    break;
            }
            if (input.Type != I8) return;
            if (definition.FixedOutput(op.Kind, output.Type) is { } fixedOutput)
            {
                // TFLM accepts the fixed output scales within 0.1%, so converters may write 1/65535 for 1/65536.
                bool near = Math.Abs(oq.Scale - fixedOutput.Scale) <= 0.001f * fixedOutput.Scale;
                validation.Require(near && oq.ZeroPoint == fixedOutput.ZeroPoint,
                    $"{(output.Type == I16 ? "int16" : "int8")} {op.TypeName} output must have scale 1/{Math.Round(1 / fixedOutput.Scale)} and zero point {fixedOutput.ZeroPoint}, not {oq.Scale} and {oq.ZeroPoint}", output);
            }
            definition.CheckSpecification(validation, op, input, output);
        }
    }
}
