// SPDX-License-Identifier: Apache-2.0
using Microsoft.CodeAnalysis.Text;

namespace TinyML.Generators;

// The pipeline models. They are value-equatable (records of strings, numbers and EquatableArray) and hold no
// ISymbol, SyntaxNode, Compilation or Location, so that an unchanged manifest leaves every later step cached.

/// <summary>The element types the generator can give a tensor.</summary>
internal enum TensorType
{
    Int8,
    Int16,
    Int32,
    Float32,
}

/// <summary>One input or output of a model, with the member name chosen for it.</summary>
/// <param name="Name">The tensor's name in the model (for documentation).</param>
/// <param name="Member">The C# name its members derive from: Input, Output, or one made from <paramref name="Name"/>.</param>
/// <param name="Index">Its index among the model's inputs or outputs.</param>
/// <param name="Type">Its element type.</param>
/// <param name="Shape">Its static shape.</param>
/// <param name="Elements">The product of the shape.</param>
/// <param name="Bytes">Elements × element size.</param>
/// <param name="Scale">Quantization scale (0 when not quantized).</param>
/// <param name="ZeroPoint">Quantization zero point.</param>
internal sealed record TensorSpec(
    string Name,
    string Member,
    int Index,
    TensorType Type,
    EquatableArray<int> Shape,
    int Elements,
    long Bytes,
    double Scale,
    int ZeroPoint)
{
    /// <summary>Whether real = scale × (q − zero point) applies (an integer tensor with a positive, finite scale).</summary>
    public bool IsQuantized => Type != TensorType.Float32 && Scale > 0 && !double.IsInfinity(Scale);

    /// <summary>Whether the float convenience methods (SetX, GetX) exist for it.</summary>
    public bool HasFloatAccess => Type == TensorType.Float32 || ((Type is TensorType.Int8 or TensorType.Int16) && IsQuantized);
}

/// <summary>A class label: the text from the manifest and the enum member made from it.</summary>
internal sealed record LabelSpec(string Text, string Member);

/// <summary>Training of a model built with Train (the manifest's "training"): its mode, classes, starting rate and region.</summary>
internal sealed record TrainingSpec(string Mode, int Classes, double LearningRate, long ParameterBytes);

/// <summary>Everything the emitter needs to write one model class.</summary>
internal sealed record ModelSpec(
    string Namespace,
    string ClassName,
    string Access,
    string ResourceName,
    string ModelFile,
    long ArenaBytes,
    long StateBytes,
    long FlashBytes,
    long Macs,
    EquatableArray<TensorSpec> Inputs,
    EquatableArray<TensorSpec> Outputs,
    EquatableArray<LabelSpec> Labels,
    bool HasPredict,
    TrainingSpec? Training = null)
{
    /// <summary>Namespace-qualified class name (the key that must be unique across models).</summary>
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    /// <summary>The generated file's hint name: {Namespace}.{Class}.g.cs.</summary>
    public string HintName => FullName + ".g.cs";
}

/// <summary>A diagnostic to report later, kept as plain data (no Location, which is not value-equatable).</summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan Lines, EquatableArray<string> Arguments);

/// <summary>The parse of one manifest: the model when it can be generated, and every diagnostic found.</summary>
internal sealed record ModelResult(string FilePath, ModelSpec? Model, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>A manifest that may not generate its class because another manifest (the owner) generates the same one.</summary>
internal sealed record ClassCollision(string FullName, string OwnerPath, string FilePath);
