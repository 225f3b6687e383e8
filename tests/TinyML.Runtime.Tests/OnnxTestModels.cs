// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using TinyML.Compiler.Onnx.Proto;
using W = TinyML.Runtime.Tests.OnnxGraphWriter;

namespace TinyML.Runtime.Tests;

/// <summary>ONNX test models: rewrites of the node tests' and graphs built for the QDQ tests.</summary>
internal static class OnnxTestModels
{
    /// <summary>
    /// The model with graph inputs 1.. bound to <paramref name="values"/> (serialized TensorProtos) as initializers;
    /// input 0 stays an input.
    /// </summary>
    public static byte[] WithInputsAsInitializers(byte[] model, IReadOnlyList<byte[]> values)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var graph = proto.Graph;
        var initialized = new HashSet<string>(graph.Initializer.Select(t => t.Name));
        var inputs = graph.Input.Where(i => !initialized.Contains(i.Name)).ToList();
        for (int i = 1; i < inputs.Count && i - 1 < values.Count; i++)
        {
            var tensor = TensorProto.Parser.ParseFrom(values[i - 1]);
            tensor.Name = inputs[i].Name;
            graph.Initializer.Add(tensor);
            graph.Input.Remove(inputs[i]);
        }
        return proto.ToByteArray();
    }

    /// <summary>Adds QuantizeLinear and DequantizeLinear after <paramref name="value"/> with its own scale and zero point.</summary>
    private static string Qdq(W w, string value, float scale, int zeroPoint, int type)
    {
        string s = w.Scalar(scale), z = w.ZeroPoint(type, zeroPoint);
        return w.Node("DequantizeLinear", new[] { w.Node("QuantizeLinear", new[] { value, s, z }), s, z });
    }

    private static (string Weights, string Bias) QuantizedWeights(W w, Random random, int filters, int perFilter, int kernel, float inputScale)
    {
        var scales = Enumerable.Range(0, filters).Select(_ => 0.004f + (float)random.NextDouble() * 0.01f).ToArray();
        var shape = kernel == 0 ? new[] { filters, perFilter } : new[] { filters, perFilter, kernel, kernel };
        var weights = Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (sbyte)random.Next(-63, 64)).ToArray();
        string wd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int8, shape, weights), w.Initializer(W.Float, new[] { filters }, scales), w.Initializer(W.Int8, new[] { filters }, new sbyte[filters]) }, ("axis", 0L));
        var biasScales = scales.Select(s => inputScale * s).ToArray();
        string bd = w.Node("DequantizeLinear", new[] { w.Initializer(W.Int32, new[] { filters }, Enumerable.Range(0, filters).Select(_ => random.Next(-500, 501)).ToArray()),
            w.Initializer(W.Float, new[] { filters }, biasScales), w.Initializer(W.Int32, new[] { filters }, new int[filters]) }, ("axis", 0L));
        return (wd, bd);
    }

    /// <summary>
    /// The CNN: conv 3→8 (+ReLU), max pool, grouped conv 8→8 in 2 groups, depthwise conv, global average pool in its own
    /// scale, flatten, Gemm 8→5. Also emitted as C (OnnxCEmitterTests).
    /// </summary>
    public static byte[] QdqCnn(int seed, int type, out float inputScale, out int inputZeroPoint, out float outputScale)
    {
        var random = new Random(seed);
        int zp(int signedZeroPoint) => type == W.UInt8 ? signedZeroPoint + 128 : signedZeroPoint;
        var w = new W();
        string x = w.Input("x", W.Float, 1, 3, 12, 12);
        float s0 = 0.02f, s1 = 0.05f, s2 = 0.04f, s3 = 0.03f, s4 = 0.05f, s5 = 0.045f;
        string h = Qdq(w, x, s0, zp(3), type);
        var (w1, b1) = QuantizedWeights(w, random, 8, 3, 3, s0);
        h = w.Node("Conv", new[] { h, w1, b1 }, ("pads", new long[] { 1, 1, 1, 1 }));
        h = Qdq(w, w.Node("Relu", new[] { h }), s1, zp(-128), type);
        h = Qdq(w, w.Node("MaxPool", new[] { h }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })), s1, zp(-128), type);
        var (wg, bg) = QuantizedWeights(w, random, 8, 4, 3, s1);
        h = Qdq(w, w.Node("Conv", new[] { h, wg, bg }, ("pads", new long[] { 1, 1, 1, 1 }), ("group", 2L)), s5, zp(-7), type);
        var (w2, b2) = QuantizedWeights(w, random, 8, 1, 3, s5);
        h = Qdq(w, w.Node("Conv", new[] { h, w2, b2 }, ("pads", new long[] { 1, 1, 1, 1 }), ("group", 8L)), s2, zp(5), type);
        // A pooling output in its own scale, as onnxruntime's quantizer may give it: a requantization follows.
        h = Qdq(w, w.Node("GlobalAveragePool", new[] { h }), s3, zp(-2), type);
        h = Qdq(w, w.Node("Flatten", new[] { h }), s3, zp(-2), type);
        var (w3, b3) = QuantizedWeights(w, random, 5, 8, 0, s3);
        h = Qdq(w, w.Node("Gemm", new[] { h, w3, b3 }, ("transB", 1L)), s4, zp(0), type);
        w.Node("Identity", new[] { h });
        w.RenameLastOutput("y");
        w.Output("y", W.Float, 1, 5);
        (inputScale, inputZeroPoint, outputScale) = (s0, zp(3), s4);
        return w.Write();
    }
}
