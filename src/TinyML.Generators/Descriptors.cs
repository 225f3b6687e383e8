// SPDX-License-Identifier: Apache-2.0
using Microsoft.CodeAnalysis;

namespace TinyML.Generators;

/// <summary>The generator's diagnostics (TML4xxx). Each has a page at docs/diagnostics/&lt;ID&gt;.md.</summary>
internal static class Descriptors
{
    private const string Category = "TinyML";

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true, helpLinkUri: DiagnosticIds.HelpLink(id));

    /// <summary>{0} manifest path, {1} the reason.</summary>
    public static readonly DiagnosticDescriptor InvalidManifest = Create(
        DiagnosticIds.InvalidManifest, "Invalid model manifest",
        "The model manifest '{0}' cannot be read: {1}");

    /// <summary>{0} model file, {1} class name.</summary>
    public static readonly DiagnosticDescriptor InvalidClassName = Create(
        DiagnosticIds.InvalidClassName, "Invalid model class name",
        "The model '{0}' asks for the class name '{1}', which is not a valid C# type name{2}; set the TinyModel's ClassName metadata to a C# identifier");

    /// <summary>{0} model file, {1} namespace.</summary>
    public static readonly DiagnosticDescriptor InvalidNamespace = Create(
        DiagnosticIds.InvalidNamespace, "Invalid model namespace",
        "The model '{0}' asks for the namespace '{1}', which is not a valid C# namespace; set the TinyModel's Namespace metadata to dot-separated C# identifiers");

    /// <summary>{0} model file, {1} full class name, {2} the other manifest.</summary>
    public static readonly DiagnosticDescriptor DuplicateModelClass = Create(
        DiagnosticIds.DuplicateModelClass, "Two models generate the same class",
        "The model '{0}' generates the class '{1}', which the manifest '{2}' already generates; give one of the TinyModel items another ClassName or Namespace");

    /// <summary>{0} model file, {1} input/output, {2} index, {3} tensor name, {4} type.</summary>
    public static readonly DiagnosticDescriptor UnsupportedTensorType = Create(
        DiagnosticIds.UnsupportedTensorType, "Unsupported tensor type",
        "The model '{0}' has {1} {2} ('{3}') of type {4}, which the generated class cannot type; supported types are INT8, INT16, INT32 and FLOAT32");

    /// <summary>{0} model file, {1} label count, {2} output element count.</summary>
    public static readonly DiagnosticDescriptor LabelCountMismatch = Create(
        DiagnosticIds.LabelCountMismatch, "Label count does not match the output",
        "The model '{0}' has {1} labels but its first output has {2} elements; the labels are ignored (no Label enum and no Predict)",
        DiagnosticSeverity.Warning);

    /// <summary>{0} model file, {1} access.</summary>
    public static readonly DiagnosticDescriptor InvalidAccess = Create(
        DiagnosticIds.InvalidAccess, "Invalid model class access",
        "The model '{0}' asks for the access '{1}'; the generated class can only be public or internal");

    /// <summary>{0} manifest path, {1} exception type and message.</summary>
    public static readonly DiagnosticDescriptor InternalError = Create(
        DiagnosticIds.InternalError, "Internal error in the TinyML generator",
        "The TinyML generator failed on '{0}': {1}; please report this");

    /// <summary>The descriptor of an ID.</summary>
    public static DiagnosticDescriptor ById(string id) => id switch
    {
        DiagnosticIds.InvalidManifest => InvalidManifest,
        DiagnosticIds.InvalidClassName => InvalidClassName,
        DiagnosticIds.InvalidNamespace => InvalidNamespace,
        DiagnosticIds.DuplicateModelClass => DuplicateModelClass,
        DiagnosticIds.UnsupportedTensorType => UnsupportedTensorType,
        DiagnosticIds.LabelCountMismatch => LabelCountMismatch,
        DiagnosticIds.InvalidAccess => InvalidAccess,
        _ => InternalError,
    };
}
