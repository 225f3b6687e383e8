// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace TinyML;

/// <summary>A tensor of a compiled model's API: what the generator needs to type it.</summary>
public sealed class ManifestTensor
{
    /// <summary>The tensor's name in the model (signature name when the model has one).</summary>
    public string Name { get; set; } = "";
    /// <summary>TFLite type spelling: INT8, INT16, INT32, FLOAT32.</summary>
    public string Type { get; set; } = "";
    /// <summary>The static shape.</summary>
    public int[] Shape { get; set; } = Array.Empty<int>();
    /// <summary>Bytes of the tensor.</summary>
    public long Bytes { get; set; }
    /// <summary>Quantization scale (0 for float tensors).</summary>
    public double Scale { get; set; }
    /// <summary>Quantization zero point.</summary>
    public int ZeroPoint { get; set; }
}

/// <summary>What a trainable model's manifest says about training (docs/training.md).</summary>
public sealed class ManifestTraining
{
    /// <summary>The Train mode the plan was built for ("head").</summary>
    public string Mode { get; set; } = "";
    /// <summary>The number of classes: a label is in [0, Classes).</summary>
    public int Classes { get; set; }
    /// <summary>The learning rate the model starts with.</summary>
    public double LearningRate { get; set; }
    /// <summary>Bytes of the parameter region (RAM on a device, its initial image in flash).</summary>
    public long ParameterBytes { get; set; }
}

/// <summary>
/// The text manifest (.tmlmodel.json) the compile task writes for each model and the source generator reads as an
/// AdditionalFile (Roslyn reads additional files as text, so the generator never sees the .tflite). The format is
/// plain JSON; this class writes and reads it without a JSON library so that the generator has no dependency.
/// </summary>
public sealed class ModelManifest
{
    /// <summary>Bumped when the manifest's meaning changes.</summary>
    public const int FormatVersion = 1;

    /// <summary>The format version read from the file.</summary>
    public int Version { get; set; } = FormatVersion;
    /// <summary>The model file the manifest describes (full path).</summary>
    public string ModelPath { get; set; } = "";
    /// <summary>The generated class name.</summary>
    public string ClassName { get; set; } = "";
    /// <summary>The generated class's namespace.</summary>
    public string Namespace { get; set; } = "";
    /// <summary>public or internal.</summary>
    public string Access { get; set; } = "public";
    /// <summary>The manifest resource name of the embedded plan container.</summary>
    public string ResourceName { get; set; } = "";
    /// <summary>Activation arena bytes.</summary>
    public long ArenaBytes { get; set; }
    /// <summary>Persistent state bytes.</summary>
    public long StateBytes { get; set; }
    /// <summary>Flash bytes (weights and precomputed constants).</summary>
    public long FlashBytes { get; set; }
    /// <summary>Multiply-accumulates of one inference.</summary>
    public long Macs { get; set; }
    /// <summary>The graph inputs.</summary>
    public List<ManifestTensor> Inputs { get; } = new();
    /// <summary>The graph outputs.</summary>
    public List<ManifestTensor> Outputs { get; } = new();
    /// <summary>Class labels (one per element of the first output), or empty.</summary>
    public List<string> Labels { get; } = new();
    /// <summary>Training, for a model built with Train; null for inference only (the field is then not written).</summary>
    public ManifestTraining? Training { get; set; }

    /// <summary>Writes the manifest as indented JSON with a fixed field order (deterministic bytes).</summary>
    public string ToJson()
    {
        var b = new StringBuilder();
        b.Append("{\n");
        void Field(string name, string value, bool last = false) => b.Append("  \"").Append(name).Append("\": ").Append(value).Append(last ? "\n" : ",\n");
        Field("version", Version.ToString(CultureInfo.InvariantCulture));
        Field("model", Quote(ModelPath));
        Field("class_name", Quote(ClassName));
        Field("namespace", Quote(Namespace));
        Field("access", Quote(Access));
        Field("resource", Quote(ResourceName));
        Field("arena_bytes", ArenaBytes.ToString(CultureInfo.InvariantCulture));
        Field("state_bytes", StateBytes.ToString(CultureInfo.InvariantCulture));
        Field("flash_bytes", FlashBytes.ToString(CultureInfo.InvariantCulture));
        Field("macs", Macs.ToString(CultureInfo.InvariantCulture));
        Field("inputs", Tensors(Inputs));
        Field("outputs", Tensors(Outputs));
        Field("labels", "[" + string.Join(", ", Labels.Select(Quote)) + "]", last: Training is null);
        if (Training is { } t)
            Field("training", $"{{\"mode\": {Quote(t.Mode)}, \"classes\": {t.Classes.ToString(CultureInfo.InvariantCulture)}, " +
                $"\"learning_rate\": {t.LearningRate.ToString("R", CultureInfo.InvariantCulture)}, \"parameter_bytes\": {t.ParameterBytes.ToString(CultureInfo.InvariantCulture)}}}", last: true);
        b.Append("}\n");
        return b.ToString();
    }

    private static string Tensors(List<ManifestTensor> tensors) =>
        "[" + string.Join(",", tensors.Select(t =>
            $"\n    {{\"name\": {Quote(t.Name)}, \"type\": {Quote(t.Type)}, \"shape\": [{string.Join(", ", t.Shape)}], " +
            $"\"bytes\": {t.Bytes}, \"scale\": {t.Scale.ToString("R", CultureInfo.InvariantCulture)}, \"zero_point\": {t.ZeroPoint}}}")) +
        (tensors.Count > 0 ? "\n  ]" : "]");

    private static string Quote(string text)
    {
        var b = new StringBuilder("\"");
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                default:
                    if (c < 0x20) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        return b.Append('"').ToString();
    }

    /// <summary>Parses a manifest; throws <see cref="FormatException"/> with a message on malformed input.</summary>
    public static ModelManifest Parse(string json)
    {
        var root = new JsonReader(json).ReadDocument() as Dictionary<string, object?> ?? throw new FormatException("the manifest is not a JSON object");
        string Str(Dictionary<string, object?> o, string key) => o.TryGetValue(key, out var v) && v is string s ? s : throw new FormatException($"'{key}' is missing or not a string");
        double Num(Dictionary<string, object?> o, string key) => o.TryGetValue(key, out var v) && v is double d ? d : throw new FormatException($"'{key}' is missing or not a number");
        List<object?> Arr(Dictionary<string, object?> o, string key) => o.TryGetValue(key, out var v) && v is List<object?> a ? a : throw new FormatException($"'{key}' is missing or not an array");
        ManifestTensor Tensor(object? item)
        {
            var o = item as Dictionary<string, object?> ?? throw new FormatException("a tensor is not an object");
            return new ManifestTensor
            {
                Name = Str(o, "name"),
                Type = Str(o, "type"),
                Shape = Arr(o, "shape").Select(x => x is double d ? (int)d : throw new FormatException("a shape entry is not a number")).ToArray(),
                Bytes = (long)Num(o, "bytes"),
                Scale = Num(o, "scale"),
                ZeroPoint = (int)Num(o, "zero_point"),
            };
        }
        var manifest = new ModelManifest
        {
            Version = (int)Num(root, "version"),
            ModelPath = Str(root, "model"),
            ClassName = Str(root, "class_name"),
            Namespace = Str(root, "namespace"),
            Access = Str(root, "access"),
            ResourceName = Str(root, "resource"),
            ArenaBytes = (long)Num(root, "arena_bytes"),
            StateBytes = (long)Num(root, "state_bytes"),
            FlashBytes = (long)Num(root, "flash_bytes"),
            Macs = (long)Num(root, "macs"),
        };
        if (manifest.Version != FormatVersion) throw new FormatException($"manifest version {manifest.Version}; expected {FormatVersion}");
        manifest.Inputs.AddRange(Arr(root, "inputs").Select(Tensor));
        manifest.Outputs.AddRange(Arr(root, "outputs").Select(Tensor));
        manifest.Labels.AddRange(Arr(root, "labels").Select(x => x as string ?? throw new FormatException("a label is not a string")));
        if (root.TryGetValue("training", out var training) && training is not null)
        {
            var o = training as Dictionary<string, object?> ?? throw new FormatException("'training' is not an object");
            manifest.Training = new ManifestTraining
            {
                Mode = Str(o, "mode"),
                Classes = (int)Num(o, "classes"),
                LearningRate = Num(o, "learning_rate"),
                ParameterBytes = (long)Num(o, "parameter_bytes"),
            };
        }
        return manifest;
    }

    /// <summary>A small strict JSON reader: objects, arrays, strings, numbers, true, false, null.</summary>
    private sealed class JsonReader
    {
        private readonly string _text;
        private int _at;

        public JsonReader(string text) => _text = text;

        public object? ReadDocument()
        {
            var value = ReadValue(0);
            SkipSpace();
            if (_at != _text.Length) throw Error("text after the JSON value");
            return value;
        }

        private FormatException Error(string what) => new($"malformed manifest at character {_at}: {what}");

        private void SkipSpace()
        {
            while (_at < _text.Length && char.IsWhiteSpace(_text[_at])) _at++;
        }

        private object? ReadValue(int depth)
        {
            if (depth > 32) throw Error("nested too deeply");
            SkipSpace();
            if (_at >= _text.Length) throw Error("unexpected end");
            char c = _text[_at];
            if (c == '{') return ReadObject(depth);
            if (c == '[') return ReadArray(depth);
            if (c == '"') return ReadString();
            if (Match("true")) return true;
            if (Match("false")) return false;
            if (Match("null")) return null;
            return ReadNumber();
        }

        private bool Match(string word)
        {
            if (string.CompareOrdinal(_text, _at, word, 0, word.Length) != 0) return false;
            _at += word.Length;
            return true;
        }

        private Dictionary<string, object?> ReadObject(int depth)
        {
            var result = new Dictionary<string, object?>();
            _at++;
            SkipSpace();
            if (_at < _text.Length && _text[_at] == '}') { _at++; return result; }
            while (true)
            {
                SkipSpace();
                if (_at >= _text.Length || _text[_at] != '"') throw Error("expected a property name");
                string key = ReadString();
                SkipSpace();
                if (_at >= _text.Length || _text[_at] != ':') throw Error("expected ':'");
                _at++;
                result[key] = ReadValue(depth + 1);
                SkipSpace();
                if (_at < _text.Length && _text[_at] == ',') { _at++; continue; }
                if (_at < _text.Length && _text[_at] == '}') { _at++; return result; }
                throw Error("expected ',' or '}'");
            }
        }

        private List<object?> ReadArray(int depth)
        {
            var result = new List<object?>();
            _at++;
            SkipSpace();
            if (_at < _text.Length && _text[_at] == ']') { _at++; return result; }
            while (true)
            {
                result.Add(ReadValue(depth + 1));
                SkipSpace();
                if (_at < _text.Length && _text[_at] == ',') { _at++; continue; }
                if (_at < _text.Length && _text[_at] == ']') { _at++; return result; }
                throw Error("expected ',' or ']'");
            }
        }

        private string ReadString()
        {
            var b = new StringBuilder();
            _at++;
            while (_at < _text.Length)
            {
                char c = _text[_at++];
                if (c == '"') return b.ToString();
                if (c != '\\') { b.Append(c); continue; }
                if (_at >= _text.Length) break;
                char e = _text[_at++];
                switch (e)
                {
                    case '"': b.Append('"'); break;
                    case '\\': b.Append('\\'); break;
                    case '/': b.Append('/'); break;
                    case 'n': b.Append('\n'); break;
                    case 'r': b.Append('\r'); break;
                    case 't': b.Append('\t'); break;
                    case 'b': b.Append('\b'); break;
                    case 'f': b.Append('\f'); break;
                    case 'u':
                        if (_at + 4 > _text.Length) throw Error("short \\u escape");
                        b.Append((char)int.Parse(_text.Substring(_at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        _at += 4;
                        break;
                    default: throw Error($"unknown escape \\{e}");
                }
            }
            throw Error("unterminated string");
        }

        private double ReadNumber()
        {
            int start = _at;
            while (_at < _text.Length && "+-0123456789.eE".IndexOf(_text[_at]) >= 0) _at++;
            if (start == _at || !double.TryParse(_text.Substring(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw Error("expected a value");
            return value;
        }
    }
}
