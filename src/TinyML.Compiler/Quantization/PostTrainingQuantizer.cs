// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;
using TinyML.Compiler.Validation;

namespace TinyML.Compiler.PostTraining;

/// <summary>Options of <see cref="PostTrainingQuantizer"/>.</summary>
public sealed record QuantizationOptions
{
    /// <summary>How observed values become ranges.</summary>
    public RangeMethod Method { get; init; } = RangeMethod.MinMax;
    /// <summary>The upper percentile for <see cref="RangeMethod.Percentile"/> (the lower one is 100 minus it).</summary>
    public double Percentile { get; init; } = 99.99;
    /// <summary>Keep float32 graph inputs and outputs, with QUANTIZE and DEQUANTIZE at the edges.</summary>
    public bool FloatIo { get; init; }
}

/// <summary>The quantized model, and the float model it was measured against.</summary>
public sealed class QuantizedModel
{
    internal QuantizedModel(Model model, Model floatReference, IReadOnlyList<string> notes)
    {
        Model = model;
        FloatReference = floatReference;
        Notes = notes;
    }

    /// <summary>The int8 model.</summary>
    public Model Model { get; }
    /// <summary>The prepared float model (weights dequantized, batch norm and activations folded): the reference
    /// that accuracy is measured against.</summary>
    public Model FloatReference { get; }
    /// <summary>What preparation folded.</summary>
    public IReadOnlyList<string> Notes { get; }
}

/// <summary>
/// Post-training int8 quantization to the TFLite int8 specification. Runs the float graph over calibration samples
/// to observe every activation, chooses asymmetric per-tensor activation parameters (tied where the specification
/// needs one scale: pooling, reshapes, concatenation; fixed for SOFTMAX, LOGISTIC and TANH), quantizes weights symmetrically (per channel
/// for convolutions, per tensor for fully-connected layers, as TFLite's converter writes them) and biases to int32.
/// </summary>
public static class PostTrainingQuantizer
{
    /// <summary>The operators we quantize, each with the int8 version TFLite's converter writes for it (its
    /// op_version rules; the official int8 models in ../shared/models agree for every operator they use). Each
    /// operator's definition states its version, its same-scale rule and its fixed output.</summary>
    internal static readonly IReadOnlyDictionary<OpKind, int> Int8Versions = Enum.GetValues(typeof(OpKind)).Cast<OpKind>()
        .Where(k => OperatorRegistry.Of(k)?.QuantizedVersion(k) is not null)
        .ToDictionary(k => k, k => OperatorRegistry.Of(k)!.QuantizedVersion(k)!.Value);

    /// <summary>SOFTMAX's fixed int8 output: scale 1/256, zero point -128.</summary>
    public static readonly Ir.Quantization SoftmaxOutput = Softmax.Int8Output;

    /// <summary>LOGISTIC's fixed int8 output (the TFLite int8 specification): scale 1/256, zero point -128.</summary>
    public static readonly Ir.Quantization LogisticOutput = LogisticOrTanh.LogisticOutput;

    /// <summary>TANH's fixed int8 output (the TFLite int8 specification): scale 1/128, zero point 0.</summary>
    public static readonly Ir.Quantization TanhOutput = LogisticOrTanh.TanhOutput;

    /// <summary>True when the model computes in float32 (so it can, and by default must, be quantized).</summary>
    public static bool HasFloatActivations(Model model) => model.Main.Tensors.Any(t => !t.IsConstant && t.Type == DataType.Float32);

    /// <summary>Quantizes <paramref name="model"/> with <paramref name="calibration"/>.</summary>
    public static Result<QuantizedModel> Quantize(Model model, CalibrationSet? calibration, IModelRunner runner, QuantizationOptions? options = null, string? file = null)
    {
        options ??= new QuantizationOptions();
        var diagnostics = new List<Diagnostic>();
        Result<QuantizedModel> Fail(string id, string message, int? op = null, string? opType = null, string? tensor = null)
        {
            diagnostics.Add(new Diagnostic(id, Severity.Error, message) { File = file, OperatorIndex = op, OperatorType = opType, TensorName = tensor });
            return new Result<QuantizedModel>(null, diagnostics);
        }

        var source = model.Main;
        if (!HasFloatActivations(model))
            return Fail(DiagnosticIds.NothingToQuantize, "the model has no float32 activations to quantize; it is already quantized");
        if (calibration is null || calibration.Samples.Count == 0)
            return Fail(DiagnosticIds.MissingCalibrationData,
                "the float model needs calibration data to be quantized (give --calibration, or run it in float32 with Quantize=\"none\")");

        var (prepared, notes) = FloatGraphPreparation.Prepare(model);
        var graph = prepared.Main;
        for (int i = 0; i < graph.Operators.Count; i++)
        {
            var op = graph.Operators[i];
            if (!Int8Versions.ContainsKey(op.Kind))
                Fail(DiagnosticIds.UnsupportedFloatOperator,
                    $"{op.TypeName} cannot be quantized; the quantizer supports {string.Join(", ", Int8Versions.Keys.Select(OpKinds.Name))}", i, op.TypeName);
            else if (graph.Output(op, 0).Type != DataType.Float32)
                Fail(DiagnosticIds.UnsupportedFloatOperator, $"{op.TypeName} has a {DataTypes.Name(graph.Output(op, 0).Type)} output; only float32 graphs can be quantized", i, op.TypeName);
        }
        foreach (int t in graph.Inputs.Concat(graph.Outputs))
            if (graph.Tensors[t].Type != DataType.Float32)
                Fail(DiagnosticIds.UnsupportedFloatOperator, $"graph input or output '{graph.Tensors[t].Name}' is {DataTypes.Name(graph.Tensors[t].Type)}, not FLOAT32", tensor: graph.Tensors[t].Name);
        if (diagnostics.Count > 0) return new Result<QuantizedModel>(null, diagnostics);

        // ---- observe --------------------------------------------------------------------------------------
        var activations = Enumerable.Range(0, graph.Tensors.Count).Where(t => !graph.Tensors[t].IsConstant && graph.Tensors[t].Type == DataType.Float32).ToList();
        var observed = activations.Where(t => !graph.Inputs.Contains(t)).ToList();
        var stats = activations.ToDictionary(t => t, _ => new TensorStatistics());
        var prepare = runner.Prepare(prepared, observed);
        if (prepare.Value is null)
            return Fail(DiagnosticIds.QuantizationFailed, "the float model cannot be run to observe its ranges: " +
                string.Join("; ", prepare.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.FullMessage)));
        using (var session = prepare.Value)
        {
            int passes = options.Method == RangeMethod.MinMax ? 1 : 2;
            for (int pass = 0; pass < passes; pass++)
                for (int s = 0; s < calibration.Samples.Count; s++)
                {
                    var sample = calibration.Samples[s];
                    var outputs = session.Run(sample.Select(Bytes).ToArray());
                    try
                    {
                        for (int i = 0; i < graph.Inputs.Count; i++) Record(stats[graph.Inputs[i]], sample[i], graph.Tensors[graph.Inputs[i]].Name, pass);
                        for (int i = 0; i < observed.Count; i++) Record(stats[observed[i]], Floats(outputs[i]), graph.Tensors[observed[i]].Name, pass);
                    }
                    catch (NonFiniteValueException e)
                    {
                        string from = s < calibration.Files.Count && calibration.Samples.Count == calibration.Files.Count ? $" (sample from {calibration.Files[s]})" : $" (sample {s})";
                        return Fail(DiagnosticIds.NonFiniteCalibrationData, $"the float model computes a non-finite value: {e.Message}{from}");
                    }
                }
        }

        // ---- choose parameters ----------------------------------------------------------------------------
        var groups = new UnionFind(graph.Tensors.Count);
        var fixedQuantization = new Dictionary<int, Ir.Quantization>();
        foreach (var op in graph.Operators)
        {
            var definition = OperatorRegistry.Of(op.Kind)!;
            var sameScale = definition.SameScale(op.Kind);
            if (sameScale != SameScale.None)
            {
                int limit = sameScale == SameScale.InputsAsOutput ? op.Inputs.Count : 1;
                for (int i = 0; i < limit; i++)
                    if (op.Inputs[i] >= 0 && graph.Tensors[op.Inputs[i]].Type == DataType.Float32) groups.Union(op.Inputs[i], op.Outputs[0]);
            }
            if (definition.FixedOutput(op.Kind, DataType.Int8) is { } fixedOutput) fixedQuantization[op.Outputs[0]] = fixedOutput;
        }
        var groupRange = new Dictionary<int, (double Min, double Max)>();
        var groupFixed = new Dictionary<int, Ir.Quantization>();
        foreach (var pair in fixedQuantization) groupFixed[groups.Find(pair.Key)] = pair.Value;
        void Widen(int tensor, double min, double max)
        {
            int root = groups.Find(tensor);
            groupRange[root] = groupRange.TryGetValue(root, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
        }
        foreach (int t in activations)
        {
            var (min, max) = stats[t].Range(options.Method, options.Percentile);
            Widen(t, min, max);
        }
        // Constants that join a tied group (a constant concatenated in) widen it with their own values.
        var tiedConstants = new HashSet<int>();
        foreach (var op in graph.Operators.Where(o => OperatorRegistry.Of(o.Kind)!.SameScale(o.Kind) == SameScale.InputsAsOutput))
            foreach (int t in op.Inputs)
                if (t >= 0 && graph.Tensors[t] is { IsConstant: true, Type: DataType.Float32 } c)
                {
                    tiedConstants.Add(t);
                    groups.Union(t, op.Outputs[0]);
                    var values = FloatGraphPreparation.Floats(c);
                    Widen(t, values.DefaultIfEmpty().Min(), values.DefaultIfEmpty().Max());
                }
        Ir.Quantization ActivationQuantization(int tensor)
        {
            int root = groups.Find(tensor);
            if (groupFixed.TryGetValue(root, out var q)) return q;
            var (min, max) = groupRange[root];
            return QuantizationMath.Asymmetric(min, max);
        }

        // ---- rewrite ---------------------------------------------------------------------------------------
        var result = FloatGraphPreparation.Clone(prepared);
        var target = result.Main;
        var newQuantization = new Dictionary<int, Ir.Quantization>();
        for (int t = 0; t < target.Tensors.Count; t++)
            if (target.Tensors[t].Type == DataType.Float32 && (!target.Tensors[t].IsConstant || tiedConstants.Contains(t)) &&
                (groupRange.ContainsKey(groups.Find(t)) || groupFixed.ContainsKey(groups.Find(t))))
                newQuantization[t] = ActivationQuantization(t);
        foreach (var pair in newQuantization)
        {
            var tensor = target.Tensors[pair.Key];
            tensor.Type = DataType.Int8;
            tensor.Quantization = pair.Value;
            if (!tensor.IsConstant) continue;
            var values = FloatGraphPreparation.Floats(tensor);
            tensor.Data = values.Select(v => (byte)QuantizationMath.Quantize(v, pair.Value.Scale, pair.Value.ZeroPoint)).ToArray();
        }
        try
        {
            for (int i = 0; i < target.Operators.Count; i++)
            {
                var op = target.Operators[i];
                op.Version = Int8Versions[op.Kind];
                if (OperatorRegistry.Of(op.Kind)!.Weights(op.Kind) is { } layout) QuantizeWeights(target, op, layout);
                else
                    foreach (int t in op.Inputs)
                        if (t >= 0 && target.Tensors[t] is { IsConstant: true, Type: DataType.Float32 } constant)
                            QuantizeConstantOperand(constant);
            }
        }
        catch (NonFiniteValueException e)
        {
            return Fail(DiagnosticIds.NonFiniteCalibrationData, $"the model's constants are not finite: {e.Message}");
        }
        if (options.FloatIo) AddFloatEdges(result);
        FloatGraphPreparation.Compact(result);
        result.Description = "TinyML.Sdk post-training int8 quantization";

        var problems = ModelValidator.Validate(result, file).Where(d => d.Severity == Severity.Error).ToList();
        if (problems.Count > 0)
            return Fail(DiagnosticIds.QuantizationFailed, "the quantized model does not validate: " + string.Join("; ", problems.Select(p => p.FullMessage)));
        return new Result<QuantizedModel>(new QuantizedModel(result, prepared, notes), diagnostics);
    }

    private static void Record(TensorStatistics statistics, float[] values, string name, int pass)
    {
        if (pass == 0) statistics.Observe(values, name);
        else statistics.Accumulate(values);
    }

    internal static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    internal static float[] Floats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes.AsSpan()).ToArray();

    private static void QuantizeWeights(Graph graph, Operator op, WeightLayout layout)
    {
        var input = graph.Input(op, 0)!;
        var weights = graph.Input(op, 1)!;
        var bias = graph.Input(op, 2);
        if (weights.Type != DataType.Float32 || !weights.IsConstant)
            throw new InvalidOperationException($"{op.TypeName} weights '{weights.Name}' are not float32 constants");
        int? channelDim = layout.PerChannel ? layout.ChannelDimension : null;
        var w = FloatGraphPreparation.Floats(weights);
        var shape = weights.Shape.ToArray();
        int channels = channelDim is int d ? shape[d] : 1;
        float inputScale = input.Quantization!.Scale;
        var b = bias is { IsConstant: true, Type: DataType.Float32 } ? FloatGraphPreparation.Floats(bias) : null;
        var minimum = new double[channels];
        if (b is not null)
            for (int c = 0; c < b.Length; c++)
            {
                int channel = channelDim is null ? 0 : c;
                minimum[channel] = Math.Max(minimum[channel], QuantizationMath.MinimumWeightScaleForBias(b[c], inputScale));
            }
        var (values, wq) = QuantizationMath.SymmetricWeights(w, shape, channelDim, minimum);
        weights.Type = DataType.Int8;
        weights.Data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        weights.Quantization = wq;
        if (b is null || bias is null) return;
        var (biasValues, bq) = QuantizationMath.Bias(b, inputScale, wq);
        bias.Type = DataType.Int32;
        bias.Data = MemoryMarshal.AsBytes(biasValues.AsSpan()).ToArray();
        bias.Quantization = bq;
    }

    /// <summary>A constant float operand of ADD (or another elementwise op): its own asymmetric parameters.</summary>
    private static void QuantizeConstantOperand(Tensor constant)
    {
        var values = FloatGraphPreparation.Floats(constant);
        QuantizationMath.EnsureFinite(values, $"constant '{constant.Name}'");
        var q = QuantizationMath.Asymmetric(values.DefaultIfEmpty().Min(), values.DefaultIfEmpty().Max());
        constant.Type = DataType.Int8;
        constant.Quantization = q;
        constant.Data = values.Select(v => (byte)QuantizationMath.Quantize(v, q.Scale, q.ZeroPoint)).ToArray();
    }

    /// <summary>Float32 graph inputs and outputs: QUANTIZE after each input, DEQUANTIZE before each output.</summary>
    private static void AddFloatEdges(Model model)
    {
        var graph = model.Main;
        var replaced = new Dictionary<int, int>();
        var inputs = graph.Inputs.ToArray();
        var quantizeOps = new List<Operator>();
        for (int i = 0; i < inputs.Length; i++)
        {
            var int8 = graph.Tensors[inputs[i]];
            var floatInput = new Tensor(int8.Name, DataType.Float32, int8.Shape) { ShapeSignature = int8.ShapeSignature, HasRank = int8.HasRank };
            int8.Name += "_int8";
            graph.Tensors.Add(floatInput);
            quantizeOps.Add(new Operator(OpKind.Quantize, new[] { graph.Tensors.Count - 1 }, new[] { inputs[i] })
            { Version = 1, Options = new EmptyOptions(EmptyOptionUnions.Quantize) });
            replaced[inputs[i]] = graph.Tensors.Count - 1;
            inputs[i] = graph.Tensors.Count - 1;
        }
        graph.Operators.InsertRange(0, quantizeOps);
        graph.Inputs = inputs;
        var outputs = graph.Outputs.ToArray();
        for (int i = 0; i < outputs.Length; i++)
        {
            var int8 = graph.Tensors[outputs[i]];
            var floatOutput = new Tensor(int8.Name, DataType.Float32, int8.Shape) { ShapeSignature = int8.ShapeSignature, HasRank = int8.HasRank };
            int8.Name += "_int8";
            graph.Tensors.Add(floatOutput);
            graph.Operators.Add(new Operator(OpKind.Dequantize, new[] { outputs[i] }, new[] { graph.Tensors.Count - 1 })
            { Version = 2, Options = new EmptyOptions(EmptyOptionUnions.Dequantize) });
            replaced[outputs[i]] = graph.Tensors.Count - 1;
            outputs[i] = graph.Tensors.Count - 1;
        }
        graph.Outputs = outputs;
        // Signatures name the graph's edges, which are now the float tensors.
        FloatGraphPreparation.RemapSignatures(model, t => replaced.TryGetValue(t, out int n) ? n : t);
    }

    private sealed class UnionFind
    {
        private readonly int[] _parent;

        public UnionFind(int count) => _parent = Enumerable.Range(0, count).ToArray();

        public int Find(int x)
        {
            while (_parent[x] != x) x = _parent[x] = _parent[_parent[x]];
            return x;
        }

        public void Union(int a, int b) => _parent[Find(a)] = Find(b);
    }
}
