// SPDX-License-Identifier: Apache-2.0
using Google.FlatBuffers;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Tests;

/// <summary>Small models the tests build themselves.</summary>
internal static class TestModels
{
    /// <summary>int8 [1,4] -> FULLY_CONNECTED (3 units, bias) -> int8 [1,3].</summary>
    public static Model FullyConnected()
    {
        var b = new ModelBuilder();
        int input = b.Tensor("input", DataType.Int8, new[] { 1, 4 }, Quantization.PerTensor(0.5f, -3));
        int weights = b.Constant("weights", new[] { 3, 4 }, new sbyte[] { 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12 },
            Quantization.PerTensor(0.02f, 0));
        int bias = b.Constant("bias", new[] { 3 }, new[] { 10, -20, 30 }, Quantization.PerTensor(0.01f, 0));
        int output = b.Tensor("output", DataType.Int8, new[] { 1, 3 }, Quantization.PerTensor(0.25f, 5));
        b.Operator(OpKind.FullyConnected, new[] { input, weights, bias }, new[] { output },
            new FullyConnectedOptions(Activation.None, 0, false, false), version: 4);
        return b.Inputs(input).Outputs(output).Signature("serving_default", new[] { "x" }, new[] { "y" }).Build();
    }
}

/// <summary>
/// Writes raw TFLite flatbuffers with exactly the fields a test needs, including ones the IR cannot express
/// (a buffer index past the end, data placed after the flatbuffer).
/// </summary>
internal static class RawTflite
{
    /// <summary>One INT8 [4] tensor with buffer <paramref name="bufferIndex"/>, a RELU on it, and
    /// <paramref name="bufferCount"/> buffers; buffer 1 may point past the flatbuffer with offset and size.</summary>
    public static byte[] SingleRelu(uint bufferIndex, int bufferCount, ulong externalOffset = 0, ulong externalSize = 0,
        uint opcodeIndex = 0, int tensorIndex = 0)
    {
        var b = new FlatBufferBuilder(1024);
        var buffers = new int[bufferCount];
        for (int i = 0; i < bufferCount; i++)
        {
            b.StartTable(3);
            if (i == 1 && externalOffset > 0)
            {
                b.AddUlong(1, externalOffset, 0);
                b.AddUlong(2, externalSize, 0);
            }
            buffers[i] = b.EndTable();
        }
        int shape = Ints(b, 4);
        b.StartTable(10);
        b.AddOffset(0, shape, 0);
        b.AddByte(1, (byte)DataType.Int8, 0);
        b.AddUint(2, bufferIndex, 0);
        int tensor = b.EndTable();
        int tensors = Offsets(b, tensor);
        int io = Ints(b, tensorIndex);
        int inputs = Ints(b, tensorIndex);
        int outputs = Ints(b, tensorIndex);
        b.StartTable(9);
        b.AddUint(0, opcodeIndex, 0);
        b.AddOffset(1, inputs, 0);
        b.AddOffset(2, outputs, 0);
        int op = b.EndTable();
        int ops = Offsets(b, op);
        b.StartTable(5);
        b.AddOffset(0, tensors, 0);
        b.AddOffset(1, io, 0);
        b.AddOffset(2, io, 0);
        b.AddOffset(3, ops, 0);
        int subgraph = b.EndTable();
        b.StartTable(4);
        b.AddSbyte(0, (sbyte)OpKind.Relu, 0);
        b.AddInt(2, 1, 1);
        int code = b.EndTable();
        int codes = Offsets(b, code);
        int subgraphs = Offsets(b, subgraph);
        int bufferVector = Offsets(b, buffers);
        b.StartTable(8);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codes, 0);
        b.AddOffset(2, subgraphs, 0);
        b.AddOffset(4, bufferVector, 0);
        b.Finish(b.EndTable(), "TFL3");
        return b.SizedByteArray();
    }

    private static int Ints(FlatBufferBuilder b, params int[] values)
    {
        b.StartVector(4, values.Length, 4);
        for (int i = values.Length - 1; i >= 0; i--) b.AddInt(values[i]);
        return b.EndVector().Value;
    }

    private static int Offsets(FlatBufferBuilder b, params int[] offsets)
    {
        b.StartVector(4, offsets.Length, 4);
        for (int i = offsets.Length - 1; i >= 0; i--) b.AddOffset(offsets[i]);
        return b.EndVector().Value;
    }
}
