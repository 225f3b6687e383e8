// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Validation;

namespace TinyML.Compiler.Operators;

/// <summary>
/// One operator family's answers to every question a stage asks: what the validator accepts, what the int8
/// specification fixes, how many MACs it does, how it lowers to kernel calls and how much scratch they need, whether
/// it can run in place or on patches, and what the quantizer and float preparation must know. The stages keep their
/// generic logic and ask <see cref="OperatorRegistry"/>; adding an operator is adding a definition (docs/operators.md).
/// </summary>
internal abstract class OperatorDefinition
{
    /// <summary>The operator codes this definition answers for.</summary>
    public abstract IReadOnlyList<OpKind> Kinds { get; }

    // ---- validation ------------------------------------------------------------------------------------

    /// <summary>What the validator checks for every operator; null for a code this family knows but we do not run
    /// (RELU_N1_TO_1, which float preparation folds away).</summary>
    public abstract OperatorRule? Rule(OpKind kind);

    /// <summary>The inputs that are the operator's persistent state (variable tensors), none by default: no other
    /// operator may read a variable.</summary>
    public virtual IReadOnlyList<int> StateInputs(OpKind kind) => System.Array.Empty<int>();

    /// <summary>Checks of the operands before their quantization is looked at; false stops validating the operator.</summary>
    public virtual bool CheckOperands(OperatorValidation validation, Operator op) => true;

    /// <summary>Checks of the weights and bias, after the activations' quantization.</summary>
    public virtual void CheckWeights(OperatorValidation validation, Operator op, Tensor input) { }

    /// <summary>Checks of the builtin options (the fused activation is checked generically after these).</summary>
    public virtual void CheckOptions(OperatorValidation validation, Operator op) { }

    /// <summary>Int8 specification checks beyond <see cref="SameScale"/> and <see cref="FixedOutput"/>.</summary>
    public virtual void CheckSpecification(OperatorValidation validation, Operator op, Tensor input, Tensor output) { }

    // ---- the int8 specification: the validator checks it, the quantizer writes it ------------------------

    /// <summary>Which tensors must share one scale and zero point.</summary>
    public virtual SameScale SameScale(OpKind kind) => Operators.SameScale.None;

    /// <summary>True when the kernel copies the input's bytes unchanged, exactly as TFLM's kernel does, which checks no
    /// <see cref="SameScale.OutputAsInput"/> rule: a model that breaks the rule then gets TFLM's bytes, and the validator
    /// warns (TML1018) instead of refusing it (TML1017).</summary>
    public virtual bool CopiesBytesAsTflm(OpKind kind) => false;

    /// <summary>The output quantization the specification fixes for an output type, or null if the data choose it.</summary>
    public virtual Quantization? FixedOutput(OpKind kind, DataType output) => null;

    /// <summary>The version TFLite's converter writes for the int8 operator; null when the quantizer does not quantize it.</summary>
    public virtual int? QuantizedVersion(OpKind kind) => null;

    // ---- float preparation and the quantizer -------------------------------------------------------------

    /// <summary>Where the constant weights (input 1) keep their output channels, or null for operators without weights.</summary>
    public virtual WeightLayout? Weights(OpKind kind) => null;

    /// <summary>The fused activation in the operator's options (None when it has none).</summary>
    public virtual Activation FusedActivation(Operator op) => Activation.None;

    /// <summary>The options with another fused activation, or null when float preparation may not fold one in.</summary>
    public virtual OperatorOptions? WithFusedActivation(Operator op, Activation activation) => null;

    /// <summary>The fused activation a standalone activation operator equals, or null.</summary>
    public virtual Activation? AsFusedActivation(OpKind kind) => null;

    // ---- analysis ----------------------------------------------------------------------------------------

    /// <summary>Multiply-accumulates of one operator (0 for operators that do none); see <see cref="Analysis.Macs"/>.</summary>
    public virtual long Macs(Graph graph, Operator op) => 0;

    // ---- lowering ----------------------------------------------------------------------------------------

    /// <summary>The constant int8 weights, as a matrix [units, depth], that the operator's call reads packed
    /// (tml_fully_connected_s8_packed, tml_conv_s8_packed), or null: what <see cref="WeightWidening"/> may widen.</summary>
    public virtual PackedWeights? PackedMatrixWeights(LoweringContext context, Operator op) => null;

    /// <summary>Scratch bytes of the operator's kernel call; must equal the kernel's _get_buffer_size.</summary>
    public virtual long ScratchBytes(LoweringContext context, Operator op) => 0;

    /// <summary>Checks the shapes and adds the operator's kernel call(s) (none for an alias).</summary>
    public abstract void Lower(LoweringContext context, Operator op);

    // ---- memory planning -------------------------------------------------------------------------------

    /// <summary>True when the output is input 0's bytes under another shape: both share one buffer and nothing runs.</summary>
    public virtual bool IsAlias(OpKind kind) => false;

    /// <summary>How many inputs (from input 0) the operator reads element by element, each element i of the output
    /// from element i of each of them; 0 when it is not element-wise. Such operators can run in place (int8 and int16;
    /// <see cref="Planning.InPlace"/>) and on tiles (when <see cref="RunsOnTiles"/>).</summary>
    public virtual int ElementwiseInputs(OpKind kind) => 0;

    /// <summary>The input positions the output may overwrite and how, or null. The default is the element-wise rule
    /// of <see cref="Planning.InPlace.Elementwise"/>.</summary>
    public virtual (InPlaceKind Kind, int[] Positions)? InPlace(Graph graph, Operator op, bool depthwise, bool elementwise) =>
        elementwise ? Planning.InPlace.Elementwise(graph, op, ElementwiseInputs(op.Kind)) : null;

    /// <summary>The sliding windows along height and width of an operator that runs on tiles of its input, or null.</summary>
    public virtual (Window Height, Window Width)? PatchWindows(Graph graph, Operator op) => null;

    /// <summary>True when the element-wise kernel for <paramref name="type"/> can be pointed at tiles (the int8 ones can).</summary>
    public virtual bool RunsOnTiles(OpKind kind, DataType type) => ElementwiseInputs(kind) > 0 && type == DataType.Int8;
}

/// <summary>What every operator of a kind must satisfy: versions 1 to <paramref name="MaxVersion"/>, an input count,
/// the accepted (input 0, output 0) types, the builtin options' union type, and which inputs may be omitted (-1).</summary>
internal sealed record OperatorRule(int MaxVersion, int MinInputs, int MaxInputs, (DataType In, DataType Out)[] Types,
    byte? OptionsUnion = null, int[]? OptionalInputs = null)
{
    /// <summary>True when input <paramref name="position"/> may be omitted.</summary>
    public bool IsOptional(int position) => OptionalInputs is not null && System.Array.IndexOf(OptionalInputs, position) >= 0;
}

/// <summary>The int8 specification's "same scale" rules.</summary>
internal enum SameScale
{
    /// <summary>The data choose the output quantization.</summary>
    None,
    /// <summary>The output keeps input 0's scale and zero point (pooling, reshapes, padding).</summary>
    OutputAsInput,
    /// <summary>Every input has the output's scale and zero point (concatenation).</summary>
    InputsAsOutput,
}

/// <summary>Where constant weights keep their output channels: <paramref name="ChannelDimension"/>; the quantizer
/// quantizes them per channel when <paramref name="PerChannel"/>, per tensor otherwise (as TFLite's converter does).</summary>
internal sealed record WeightLayout(int ChannelDimension, bool PerChannel);

/// <summary>Type pairs shared by several rules.</summary>
internal static class OperatorTypes
{
    public const DataType F32 = DataType.Float32, I8 = DataType.Int8, I16 = DataType.Int16, I32 = DataType.Int32;
    public static readonly (DataType, DataType)[] Int8OrFloat = { (I8, I8), (F32, F32) };
    public static readonly (DataType, DataType)[] Int8Only = { (I8, I8) };
    /// <summary>Data movement copies bytes of any of these types.</summary>
    public static readonly (DataType, DataType)[] AnyMovable = { (I8, I8), (F32, F32), (I16, I16), (I32, I32) };
}
