// SPDX-License-Identifier: Apache-2.0
namespace TinyML;

/// <summary>
/// The one registry of diagnostic codes. Each code has a page at docs/diagnostics/&lt;ID&gt;.md.
/// Ranges: 0xxx configuration, 1xxx model loading, 2xxx quantization, 3xxx planning and budgets,
/// 4xxx generator, 9xxx internal.
/// </summary>
public static class DiagnosticIds
{
    /// <summary>Where the diagnostic pages live; a code's help link is this followed by the code and ".md".</summary>
    public const string HelpLinkBase = "https://github.com/tinyml-sdk/TinyML.Sdk/blob/main/docs/diagnostics/";

    /// <summary>The help link of a code: its page under docs/diagnostics.</summary>
    public static string HelpLink(string id) => HelpLinkBase + id + ".md";

    /// <summary>A budget property or metadata is not a size (e.g. 64KB).</summary>
    public const string InvalidBudget = "TML0001";
    /// <summary>TinyMLBoard names no known board preset.</summary>
    public const string UnknownBoard = "TML0002";
    /// <summary>A TinyModel item's metadata is invalid (Access, Labels file, ClassName).</summary>
    public const string InvalidModelItem = "TML0003";
    /// <summary>TinyMLTarget or TargetCore names no supported core.</summary>
    public const string UnknownTarget = "TML0004";
    /// <summary>The Arm GNU toolchain (arm-none-eabi-gcc) is not installed or not found.</summary>
    public const string ArmToolchainNotFound = "TML0005";
    /// <summary>QEMU (qemu-system-arm) is not installed or not found.</summary>
    public const string QemuNotFound = "TML0006";
    /// <summary>The tinyml command that the SDK runs (a cross compile) could not be started or failed without a diagnostic of its own.</summary>
    public const string TinyMLCommandFailed = "TML0007";
    /// <summary>TinyMLOptimizeFor is neither speed nor size.</summary>
    public const string InvalidOptimizeFor = "TML0008";
    /// <summary>A TinyModel item has metadata the SDK does not know (a misspelling, most likely; warning).</summary>
    public const string UnknownModelMetadata = "TML0009";
    /// <summary>The build targets a runtime identifier for which the packages carry no native kernel library (warning).</summary>
    public const string NoNativeLibraryForRuntime = "TML0010";
    /// <summary>A TinyModel item names a model file that does not exist.</summary>
    public const string ModelFileNotFound = "TML0011";
    /// <summary>A Train or LearningRate setting is not one the SDK knows.</summary>
    public const string InvalidTrainMode = "TML0012";

    /// <summary>The native kernel library cannot be found or loaded.</summary>
    public const string NativeLibraryNotFound = "TML0100";
    /// <summary>The native kernel library has another ABI version than the runtime expects.</summary>
    public const string NativeLibraryAbiMismatch = "TML0101";
    /// <summary>A kernel failed at run time or a plan does not match the native library.</summary>
    public const string KernelFailed = "TML0102";

    /// <summary>The input data given to a run does not match the model's inputs.</summary>
    public const string InputMismatch = "TML0103";
    /// <summary>A device build failed to compile or link, or the program failed under QEMU (fault, timeout, exit code).</summary>
    public const string DeviceRunFailed = "TML0104";

    /// <summary>The file is not a TFLite flatbuffer.</summary>
    public const string NotATfliteFile = "TML1001";
    /// <summary>The flatbuffer is truncated or structurally corrupt.</summary>
    public const string CorruptFlatBuffer = "TML1002";
    /// <summary>A buffer index, or a buffer's offset and size, points outside the file.</summary>
    public const string BufferOutOfRange = "TML1003";
    /// <summary>The TFLite schema version is not 3.</summary>
    public const string UnsupportedSchemaVersion = "TML1004";
    /// <summary>The model uses an operator we do not run.</summary>
    public const string UnsupportedOperator = "TML1005";
    /// <summary>The model uses a version of an operator we do not run.</summary>
    public const string UnsupportedOperatorVersion = "TML1006";
    /// <summary>A tensor has a dynamic shape (-1 in shape_signature).</summary>
    public const string DynamicShape = "TML1007";
    /// <summary>An operator has a combination of tensor types we do not run.</summary>
    public const string UnsupportedTypeCombination = "TML1008";
    /// <summary>A tensor that must be quantized has no quantization parameters.</summary>
    public const string MissingQuantization = "TML1009";
    /// <summary>Quantization parameters are inconsistent (scale count, zero points, dimension).</summary>
    public const string InconsistentQuantization = "TML1010";
    /// <summary>A tensor, buffer or operator-code index is out of range.</summary>
    public const string IndexOutOfRange = "TML1011";
    /// <summary>A tensor shape is invalid (negative or too large).</summary>
    public const string InvalidShape = "TML1012";
    /// <summary>The model's graph structure is not supported (no subgraph, several subgraphs, sparsity).</summary>
    public const string UnsupportedModelStructure = "TML1013";
    /// <summary>A constant tensor's data does not match its shape and type.</summary>
    public const string ConstantSizeMismatch = "TML1014";
    /// <summary>An operator has invalid options or inputs (a zero stride, a wrong input count).</summary>
    public const string InvalidOperator = "TML1015";
    /// <summary>The model file cannot be read.</summary>
    public const string UnreadableFile = "TML1016";
    /// <summary>The model breaks the TFLite int8 quantization specification.</summary>
    public const string QuantizationSpecViolation = "TML1017";
    /// <summary>The model deviates from the TFLite specification in a way that does not change the arithmetic; it runs as TFLM runs it (warning).</summary>
    public const string ToleratedSpecDeviation = "TML1018";
    /// <summary>The file is not a readable ONNX model (corrupt protobuf, no graph, a value defined twice or never).</summary>
    public const string CorruptOnnxModel = "TML1020";
    /// <summary>An ONNX graph input's dynamic first dimension (a symbolic batch) is taken as 1 (warning).</summary>
    public const string DynamicDimensionFixed = "TML1021";
    /// <summary>The model cannot be trained in the requested mode (no int8 FULLY_CONNECTED before a SOFTMAX output, ...).</summary>
    public const string ModelNotTrainable = "TML1030";

    /// <summary>A float model must be quantized but no calibration data was given or found.</summary>
    public const string MissingCalibrationData = "TML2001";
    /// <summary>A calibration file cannot be read: not a float32 .npy or raw .bin, or a malformed header.</summary>
    public const string InvalidCalibrationFile = "TML2002";
    /// <summary>A calibration file's shape or size does not match the model input.</summary>
    public const string CalibrationShapeMismatch = "TML2003";
    /// <summary>Calibration data (or a float value computed from it) is NaN or infinite.</summary>
    public const string NonFiniteCalibrationData = "TML2004";
    /// <summary>The quantized model's SQNR against the float model is under the threshold (warning).</summary>
    public const string LowQuantizationAccuracy = "TML2005";
    /// <summary>The float model has an operator the quantizer cannot quantize or the float kernels cannot observe.</summary>
    public const string UnsupportedFloatOperator = "TML2006";
    /// <summary>The model has no float activations to quantize (it is already quantized).</summary>
    public const string NothingToQuantize = "TML2007";
    /// <summary>The float model cannot be run to observe ranges, or the quantized model fails validation.</summary>
    public const string QuantizationFailed = "TML2008";

    /// <summary>The model needs more RAM than its budget.</summary>
    public const string RamBudgetExceeded = "TML3001";
    /// <summary>The model needs more flash than its budget.</summary>
    public const string FlashBudgetExceeded = "TML3002";
    /// <summary>The model uses more than 90% of its RAM budget.</summary>
    public const string RamBudgetNearlyFull = "TML3003";
    /// <summary>The model uses more than 90% of its flash budget.</summary>
    public const string FlashBudgetNearlyFull = "TML3004";
    /// <summary>The model fits the RAM budget for inference, but not with what training adds.</summary>
    public const string TrainingRamBudgetExceeded = "TML3005";

    /// <summary>A compiled plan container (.tmlmodel) is corrupt or of another format version.</summary>
    public const string InvalidPlanContainer = "TML3010";

    /// <summary>A requested patch split and grid (patch-based inference) does not fit the graph.</summary>
    public const string PatchNotApplicable = "TML3020";

    /// <summary>A model manifest (.tmlmodel.json) cannot be read or is malformed.</summary>
    public const string InvalidManifest = "TML4001";
    /// <summary>A model's class name is not a valid C# identifier.</summary>
    public const string InvalidClassName = "TML4002";
    /// <summary>A model's namespace is not a valid C# namespace.</summary>
    public const string InvalidNamespace = "TML4003";
    /// <summary>Two models generate the same class (namespace and class name).</summary>
    public const string DuplicateModelClass = "TML4004";
    /// <summary>A model input or output has a tensor type the generator cannot type.</summary>
    public const string UnsupportedTensorType = "TML4005";
    /// <summary>A model's label count differs from the element count of its first output (warning).</summary>
    public const string LabelCountMismatch = "TML4006";
    /// <summary>A model's access is neither public nor internal.</summary>
    public const string InvalidAccess = "TML4007";

    /// <summary>An unexpected internal error; please report it.</summary>
    public const string InternalError = "TML9001";
    /// <summary>Building TinyML.Sdk itself: a part the package needs was not built.</summary>
    public const string IncompleteSdkBuild = "TML9002";
}
