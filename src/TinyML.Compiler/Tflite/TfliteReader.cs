// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Tflite;

/// <summary>
/// Reads TFLite flatbuffers (schema v3) into the IR. Structural problems (not TFLite, truncated, offsets or indices
/// out of range, wrong schema version) are diagnostics, never exceptions. Whether we can run the model is a
/// separate question, answered by <see cref="Validation.ModelValidator"/>.
/// </summary>
public static class TfliteReader
{
    /// <summary>Files larger than this are refused before reading: no microcontroller model comes near it.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Reads a model file.</summary>
    public static Result<Model> ReadFile(string path)
    {
        var (bytes, failure) = ModelReader.ReadBytes(path);
        return bytes is null ? failure! : Read(bytes, path);
    }

    /// <summary>Reads a model from memory. The model's constant data refers to <paramref name="bytes"/>.</summary>
    public static Result<Model> Read(byte[] bytes, string? fileName = null)
    {
        if (!HasTfliteIdentifier(bytes) && OnnxModel.Describe(bytes, fileName) is { } onnx)
            return Fail(DiagnosticIds.NotATfliteFile, onnx, fileName);
        var reader = new Reader(bytes, fileName);
        var model = reader.Run();
        var diagnostics = reader.Diagnostics.Items.ToList();
        return new Result<Model>(reader.Diagnostics.HasErrors ? null : model, diagnostics);
    }

    internal static bool HasTfliteIdentifier(byte[] bytes) =>
        bytes.Length >= 8 && bytes[4] == 'T' && bytes[5] == 'F' && bytes[6] == 'L' && bytes[7] == '3';

    private static Result<Model> Fail(string id, string message, string? file) =>
        new(null, new[] { new Diagnostic(id, Severity.Error, message) { File = file } });

    private sealed class Reader
    {
        private readonly byte[] _bytes;
        private readonly string? _file;
        private FbVector? _buffers;

        public Reader(byte[] bytes, string? file)
        {
            _bytes = bytes;
            _file = file;
        }

        public DiagnosticBag Diagnostics { get; } = new();

        private void Error(string id, string message, int? op = null, string? opType = null, string? tensor = null) =>
            Diagnostics.Add(new Diagnostic(id, Severity.Error, message)
            {
                File = _file, OperatorIndex = op, OperatorType = opType, TensorName = tensor,
            });

        public Model? Run()
        {
            if (_bytes.Length < 8)
            {
                Error(DiagnosticIds.NotATfliteFile, $"not a TFLite file: only {_bytes.Length} bytes");
                return null;
            }
            if (_bytes[4] != 'T' || _bytes[5] != 'F' || _bytes[6] != 'L' || _bytes[7] != '3')
            {
                Error(DiagnosticIds.NotATfliteFile, "not a TFLite file: the flatbuffer identifier 'TFL3' is missing at byte 4");
                return null;
            }
            string stage = "the model table";
            try
            {
                var root = FbTable.Root(_bytes);
                var model = new Model { Version = root.UInt(0) };
                if (model.Version != Model.SchemaVersion)
                {
                    Error(DiagnosticIds.UnsupportedSchemaVersion,
                        $"TFLite schema version {model.Version} is not supported; only version {Model.SchemaVersion} is");
                    return null;
                }
                stage = "the buffers";
                _buffers = root.Vector(4, 4, "buffers");
                stage = "the operator codes";
                var codes = ReadOperatorCodes(root);
                stage = "the description";
                model.Description = root.String(3, "description");
                var subgraphs = root.Vector(2, 4, "subgraphs");
                if (subgraphs is null || subgraphs.Value.Count == 0)
                {
                    Error(DiagnosticIds.UnsupportedModelStructure, "the model has no subgraph");
                    return null;
                }
                for (int s = 0; s < subgraphs.Value.Count; s++)
                {
                    stage = $"subgraph {s}";
                    model.Subgraphs.Add(ReadGraph(subgraphs.Value.Table(s), s, codes));
                }
                stage = "the metadata";
                var metadata = root.Vector(6, 4, "metadata");
                for (int i = 0; i < (metadata?.Count ?? 0); i++)
                {
                    var entry = metadata!.Value.Table(i);
                    string name = entry.String(0, "metadata name") ?? "";
                    var data = BufferData(entry.UInt(1), $"metadata '{name}'", null);
                    model.Metadata.Add(new ModelMetadata(name, data ?? ReadOnlyMemory<byte>.Empty));
                }
                stage = "the signature defs";
                var signatures = root.Vector(7, 4, "signature_defs");
                for (int i = 0; i < (signatures?.Count ?? 0); i++)
                    model.Signatures.Add(ReadSignature(signatures!.Value.Table(i), model));
                return model;
            }
            catch (FlatBufferFormatException e)
            {
                Error(DiagnosticIds.CorruptFlatBuffer, $"truncated or corrupt model while reading {stage}: {e.Message}");
                return null;
            }
        }

        private List<(OpKind Kind, string? Custom, int Version)> ReadOperatorCodes(FbTable root)
        {
            var result = new List<(OpKind, string?, int)>();
            var codes = root.Vector(1, 4, "operator_codes");
            for (int i = 0; i < (codes?.Count ?? 0); i++)
            {
                var code = codes!.Value.Table(i);
                // The wide builtin_code field supersedes the deprecated byte once codes pass 127; readers take the larger.
                int kind = Math.Max((sbyte)code.Byte(0), code.Int(3));
                result.Add(((OpKind)kind, code.String(1, "custom_code"), code.Int(2, 1)));
            }
            return result;
        }

        private ReadOnlyMemory<byte>? BufferData(uint index, string owner, int? tensorIndex)
        {
            if (index == 0) return null;
            if (_buffers is null || index >= _buffers.Value.Count)
            {
                Error(DiagnosticIds.BufferOutOfRange,
                    $"{owner} refers to buffer {index}, but the model has {_buffers?.Count ?? 0} buffers");
                return null;
            }
            var buffer = _buffers.Value.Table((int)index);
            ulong offset = buffer.ULong(1), size = buffer.ULong(2);
            if (offset > 1)
            {
                // Large models keep data after the flatbuffer; the offset counts from the start of the file.
                if (offset + size > (ulong)_bytes.Length || offset + size < offset)
                {
                    Error(DiagnosticIds.BufferOutOfRange,
                        $"{owner}: buffer {index} at offset {offset} with {size} bytes lies outside the {_bytes.Length}-byte file");
                    return null;
                }
                if (size == 0) return null;
                return new ReadOnlyMemory<byte>(_bytes, (int)offset, (int)size);
            }
            var data = buffer.Vector(0, 1, $"buffer {index}");
            if (data is null || data.Value.Count == 0) return null;
            return data.Value.Bytes;
        }

        private Graph ReadGraph(FbTable table, int subgraphIndex, List<(OpKind Kind, string? Custom, int Version)> codes)
        {
            var graph = new Graph { Name = table.String(4, "subgraph name") ?? "" };
            var tensors = table.Vector(0, 4, "tensors");
            for (int t = 0; t < (tensors?.Count ?? 0); t++)
                graph.Tensors.Add(ReadTensor(tensors!.Value.Table(t), t));
            graph.Inputs = TensorIndices(table.Vector(1, 4, "subgraph inputs"), graph, "subgraph input", allowOmitted: false);
            graph.Outputs = TensorIndices(table.Vector(2, 4, "subgraph outputs"), graph, "subgraph output", allowOmitted: false);
            var operators = table.Vector(3, 4, "operators");
            for (int o = 0; o < (operators?.Count ?? 0); o++)
            {
                var op = ReadOperator(operators!.Value.Table(o), o, codes, graph);
                if (op is not null) graph.Operators.Add(op);
            }
            if (subgraphIndex == 0 && graph.Operators.Count == 0 && !Diagnostics.HasErrors)
                Error(DiagnosticIds.UnsupportedModelStructure, "the main subgraph has no operators");
            return graph;
        }

        private Tensor ReadTensor(FbTable table, int index)
        {
            string name = table.String(3, $"tensor {index} name") ?? "";
            var shape = table.Vector(0, 4, $"tensor '{name}' shape")?.Ints() ?? Array.Empty<int>();
            var type = (DataType)table.Byte(1);
            var tensor = new Tensor(name, type, shape)
            {
                IsVariable = table.Bool(5),
                IsSparse = table.Has(6),
                HasRank = table.Bool(8),
            };
            var signature = table.Vector(7, 4, $"tensor '{name}' shape_signature");
            if (signature is not null) tensor.ShapeSignature = signature.Value.Ints();
            if (!DataTypes.IsDefined(type))
                Error(DiagnosticIds.UnsupportedTypeCombination, $"unknown tensor type {(byte)type}", tensor: name);
            if (shape.Any(d => d < 0))
                Error(DiagnosticIds.InvalidShape, $"shape {Shapes.Format(shape)} has a negative dimension", tensor: name);
            else if (Shapes.ElementCount(shape) < 0)
                Error(DiagnosticIds.InvalidShape, $"shape {Shapes.Format(shape)} has more than {Shapes.MaxElements} elements", tensor: name);
            var quantization = table.Table(4, $"tensor '{name}' quantization");
            if (quantization is not null) tensor.Quantization = ReadQuantization(quantization.Value, name);
            tensor.Data = BufferData(table.UInt(2), $"tensor '{name}'", index);
            return tensor;
        }

        private Quantization? ReadQuantization(FbTable table, string tensorName)
        {
            if (table.Byte(4) != 0)
                Error(DiagnosticIds.InconsistentQuantization, "custom quantization details are not supported", tensor: tensorName);
            var scales = table.Vector(2, 4, "quantization scale")?.Floats() ?? Array.Empty<float>();
            var zeroPoints = table.Vector(3, 8, "quantization zero_point")?.Longs() ?? Array.Empty<long>();
            var min = table.Vector(0, 4, "quantization min")?.Floats() ?? Array.Empty<float>();
            var max = table.Vector(1, 4, "quantization max")?.Floats() ?? Array.Empty<float>();
            int dimension = table.Int(6);
            if (scales.Length == 0 && zeroPoints.Length == 0 && min.Length == 0 && max.Length == 0) return null;
            return new Quantization(scales, zeroPoints, dimension) { Min = min, Max = max };
        }

        private ValueArray<int> TensorIndices(FbVector? vector, Graph graph, string what, bool allowOmitted,
            int? op = null, string? opType = null)
        {
            var indices = vector?.Ints() ?? Array.Empty<int>();
            foreach (int index in indices)
            {
                if (index == -1 && allowOmitted) continue;
                if (index < 0 || index >= graph.Tensors.Count)
                    Error(DiagnosticIds.IndexOutOfRange,
                        $"{what} refers to tensor {index}, but the subgraph has {graph.Tensors.Count} tensors", op, opType);
            }
            return indices;
        }

        private Operator? ReadOperator(FbTable table, int index, List<(OpKind Kind, string? Custom, int Version)> codes, Graph graph)
        {
            uint codeIndex = table.UInt(0);
            if (codeIndex >= codes.Count)
            {
                Error(DiagnosticIds.IndexOutOfRange,
                    $"operator {index} uses operator code {codeIndex}, but the model has {codes.Count} codes", index);
                return null;
            }
            var (kind, custom, version) = codes[(int)codeIndex];
            string typeName = kind == OpKind.Custom && custom is not null ? custom : OpKinds.Name(kind);
            var op = new Operator(kind,
                TensorIndices(table.Vector(1, 4, "operator inputs"), graph, "input", allowOmitted: true, index, typeName),
                TensorIndices(table.Vector(2, 4, "operator outputs"), graph, "output", allowOmitted: false, index, typeName))
            {
                CustomCode = custom,
                Version = version,
                Intermediates = TensorIndices(table.Vector(8, 4, "operator intermediates"), graph, "intermediate", allowOmitted: false, index, typeName),
            };
            byte unionType = table.Byte(3);
            if (unionType != 0)
            {
                var options = table.Table(4, $"operator {index} options");
                op.Options = options is null ? new EmptyOptions(unionType) : ReadOptions(unionType, options.Value);
            }
            var customOptions = table.Vector(5, 1, "custom_options");
            if (customOptions is not null) op.CustomOptions = customOptions.Value.Bytes;
            return op;
        }

        private static OperatorOptions ReadOptions(byte union, FbTable t) => union switch
        {
            Conv2DOptions.Union => new Conv2DOptions((Padding)t.Byte(0), t.Int(1), t.Int(2), (Activation)t.Byte(3), t.Int(4, 1), t.Int(5, 1)),
            DepthwiseConv2DOptions.Union => new DepthwiseConv2DOptions((Padding)t.Byte(0), t.Int(1), t.Int(2), t.Int(3), (Activation)t.Byte(4), t.Int(5, 1), t.Int(6, 1)),
            TransposeConvOptions.Union => new TransposeConvOptions((Padding)t.Byte(0), t.Int(1), t.Int(2), (Activation)t.Byte(3)),
            Pool2DOptions.Union => new Pool2DOptions((Padding)t.Byte(0), t.Int(1), t.Int(2), t.Int(3), t.Int(4), (Activation)t.Byte(5)),
            SvdfOptions.Union => new SvdfOptions(t.Int(0), (Activation)t.Byte(1), t.Bool(2)),
            UnidirectionalSequenceLstmOptions.Union => new UnidirectionalSequenceLstmOptions((Activation)t.Byte(0), t.Float(1), t.Float(2), t.Bool(3), t.Bool(4)),
            FullyConnectedOptions.Union => new FullyConnectedOptions((Activation)t.Byte(0), t.Byte(1), t.Bool(2), t.Bool(3)),
            SoftmaxOptions.Union => new SoftmaxOptions(t.Float(0)),
            ConcatenationOptions.Union => new ConcatenationOptions(t.Int(0), (Activation)t.Byte(1)),
            AddOptions.Union => new AddOptions((Activation)t.Byte(0), t.Bool(1, true)),
            ReshapeOptions.Union => new ReshapeOptions(t.Vector(0, 4, "new_shape") is { } shape ? new ValueArray<int>(shape.Ints()) : (ValueArray<int>?)null),
            MulOptions.Union => new MulOptions((Activation)t.Byte(0)),
            DivOptions.Union => new DivOptions((Activation)t.Byte(0)),
            ReducerOptions.Union => new ReducerOptions(t.Bool(0)),
            SubOptions.Union => new SubOptions((Activation)t.Byte(0), t.Bool(1, true)),
            SqueezeOptions.Union => new SqueezeOptions(t.Vector(0, 4, "squeeze_dims")?.Ints() ?? Array.Empty<int>()),
            StridedSliceOptions.Union => new StridedSliceOptions(t.Int(0), t.Int(1), t.Int(2), t.Int(3), t.Int(4), t.Bool(5)),
            LeakyReluOptions.Union => new LeakyReluOptions(t.Float(0)),
            // Slots 0 and 1 are the deprecated new_height and new_width.
            ResizeBilinearOptions.Union => new ResizeBilinearOptions(t.Bool(2), t.Bool(3)),
            ResizeNearestNeighborOptions.Union => new ResizeNearestNeighborOptions(t.Bool(0), t.Bool(1)),
            DepthToSpaceOptions.Union => new DepthToSpaceOptions(t.Int(0)),
            SpaceToDepthOptions.Union => new SpaceToDepthOptions(t.Int(0)),
            _ => new EmptyOptions(union),
        };

        private Signature ReadSignature(FbTable table, Model model)
        {
            string key = table.String(2, "signature_key") ?? "";
            int subgraph = (int)table.UInt(4);
            ValueArray<SignatureTensor> Map(int slot, string what)
            {
                var vector = table.Vector(slot, 4, what);
                var list = new List<SignatureTensor>();
                for (int i = 0; i < (vector?.Count ?? 0); i++)
                {
                    var entry = vector!.Value.Table(i);
                    list.Add(new SignatureTensor(entry.String(0, "signature tensor name") ?? "", (int)entry.UInt(1)));
                }
                return list.ToArray();
            }
            var signature = new Signature(key, subgraph, Map(0, "signature inputs"), Map(1, "signature outputs"));
            if (subgraph >= model.Subgraphs.Count)
                Error(DiagnosticIds.IndexOutOfRange, $"signature '{key}' refers to subgraph {subgraph}, but the model has {model.Subgraphs.Count}");
            else
                foreach (var tensor in signature.Inputs.Concat(signature.Outputs))
                    if (tensor.TensorIndex >= model.Subgraphs[subgraph].Tensors.Count)
                        Error(DiagnosticIds.IndexOutOfRange, $"signature '{key}' names tensor {tensor.TensorIndex}, which does not exist");
            return signature;
        }
    }
}
