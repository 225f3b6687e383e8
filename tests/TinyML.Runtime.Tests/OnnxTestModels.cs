// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using TinyML.Compiler.Onnx.Proto;

namespace TinyML.Runtime.Tests;

/// <summary>Rewrites of ONNX test models.</summary>
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
}
