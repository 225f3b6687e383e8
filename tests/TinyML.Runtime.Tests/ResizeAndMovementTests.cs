// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Building;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Runtime;
using TinyML.Runtime.Tests;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, DEPTH_TO_SPACE, SPACE_TO_DEPTH, ELU and LOG_SOFTMAX have no TFLM goldens
/// in ../shared, so random models (ResizeAndMovementCases: batches, sizes up and down, every allowed flag combination)
/// are held bit for bit to the C# transcription of TFLM's reference arithmetic under every memory technique, and to
/// TFLite 2.9's interpreter where its kernels compute the same (its float bilinear is within rounding, see
/// <see cref="CloseToReference"/>). ELU and LOG_SOFTMAX call the C library as TFLM does; on the host that is glibc for
/// the kernels, the transcription and TFLite alike, so they too must match bit for bit.
/// </summary>
public sealed class ResizeAndMovementTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TfliteInterpreterTests.Tflite _tflite = TfliteInterpreterTests.Tflite.Load();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-resize-{Guid.NewGuid():N}");

    public ResizeAndMovementTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        _tflite.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string> Variants() => new(ResizeAndMovementCases.Variants.Select(ResizeAndMovementCases.Name));

    private static TinyML.Compiler.Plan.ExecutionPlan Lower(Model model, LoweringOptions options)
    {
        var lowered = Lowerer.Lower(model, null, options);
        Assert.True(lowered.Value is not null, string.Join("\n", lowered.Diagnostics));
        return lowered.Value!;
    }

    private static int FirstDifference(byte[] a, byte[] b) => Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(i => a[i] != b[i]);

    /// <summary>TFLite 2.9 runs its optimized float kernels: RESIZE_BILINEAR weights the corners in another operation
    /// order than TFLM's reference, LOG_SOFTMAX takes Eigen's exp and log for the C library's. Their values may differ
    /// in the last bits, never by more than 4 float steps of the largest input (bilinear) or of the largest magnitude
    /// of input and output (log softmax, whose output spans the input's range plus log(depth)). Returns how many differ.</summary>
    private static int CloseToReference(ResizeAndMovementCases.Case c, byte[] tflite, byte[] expected, byte[] input)
    {
        var t = MemoryMarshal.Cast<byte, float>(tflite).ToArray();
        var e = MemoryMarshal.Cast<byte, float>(expected).ToArray();
        var magnitudes = MemoryMarshal.Cast<byte, float>(input).ToArray().Select(MathF.Abs);
        if (c.Kind == OpKind.LogSoftmax) magnitudes = magnitudes.Concat(e.Select(MathF.Abs));
        float largest = magnitudes.DefaultIfEmpty(0f).Max();
        int differing = 0;
        for (int i = 0; i < e.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(t[i]) == BitConverter.SingleToInt32Bits(e[i])) continue;
            Assert.True(MathF.Abs(t[i] - e[i]) <= 4 * (MathF.BitIncrement(largest) - largest),
                $"{c.Label}: TFLite 2.9 gives {t[i]:R} at {i}, the TFLM reference {e[i]:R}: more than rounding apart");
            differing++;
        }
        return differing;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void RandomModels_MatchTflmReference_WithEveryTechnique_AndTflite(string variantName)
    {
        var variant = ResizeAndMovementCases.Parse(variantName);
        var rng = new Random(83 + variantName.Length * 7 + (int)variant.Kind);
        int runs = 0, nonConstant = 0, rounded = 0;
        foreach (var c in ResizeAndMovementCases.Cases(variant, 7001 + (int)variant.Kind * 10 + (int)variant.Type, 40))
        {
            byte[] file = TfliteWriter.Write(c.Model);
            var read = TfliteReader.Read(file).Value!;
            Assert.Empty(ModelValidator.Validate(read));
            for (int k = 0; k < 2; k++)
            {
                byte[] input = ResizeAndMovementCases.RandomInput(c, rng);
                byte[] expected = c.Reference(input);
                foreach (var (technique, options) in ConformanceTests.Techniques)
                {
                    byte[] ours = PatchTests.Run(Lower(read, options), input);
                    Assert.True(expected.SequenceEqual(ours), $"{c.Label} ({technique}): differs from the TFLM reference arithmetic at byte {FirstDifference(ours, expected)}");
                }
                // TFLite 2.9 has no int16 DEPTH_TO_SPACE or SPACE_TO_DEPTH (its Prepare refuses them).
                if (!(c.Type == DataType.Int16 && c.Kind is OpKind.DepthToSpace or OpKind.SpaceToDepth))
                {
                    byte[] tflite = _tflite.Run(file, input);
                    if (c.Kind is OpKind.ResizeBilinear or OpKind.LogSoftmax && c.Type == DataType.Float32)
                        rounded += CloseToReference(c, tflite, expected, input);
                    else
                        Assert.True(tflite.SequenceEqual(expected), $"{c.Label}: TFLite 2.9 differs at byte {FirstDifference(tflite, expected)}");
                }
                runs++;
                if (expected.Distinct().Count() > 2) nonConstant++;
            }
            _output.WriteLine(c.Label);
        }
        _output.WriteLine($"{runs} runs, {nonConstant} with varied output bytes; TFLite's optimized float bilinear rounded {rounded} values differently");
        Assert.True(nonConstant >= runs * 7 / 10, "too many trivial outputs to prove anything");
    }

    /// <summary>The emitted C, compiled for the host with the kernel library, gives the reference bytes on the first
    /// two models of each operator and type.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void EmittedC_MatchesTheReference(string variantName)
    {
        var variant = ResizeAndMovementCases.Parse(variantName);
        var rng = new Random(89 + (int)variant.Kind);
        foreach (var (c, n) in ResizeAndMovementCases.Cases(variant, 7101 + (int)variant.Kind * 10 + (int)variant.Type, 2).Select((c, n) => (c, n)))
        {
            var plan = Lower(TfliteReader.Read(TfliteWriter.Write(c.Model)).Value!, LoweringOptions.Default);
            string dir = Path.Combine(_dir, $"{variant.Kind}_{variant.Type}_{n}");
            Directory.CreateDirectory(dir);
            string exe = CEmitterHostTests.BuildHostProgram(plan, dir).Executable;
            byte[] input = ResizeAndMovementCases.RandomInput(c, rng);
            string inputFile = Path.Combine(dir, "in.bin"), outputFile = Path.Combine(dir, "out.bin");
            File.WriteAllBytes(inputFile, input);
            var run = CEmitterHostTests.Run(exe, inputFile, outputFile);
            Assert.True(run.Code == 0, $"{c.Label}: exit {run.Code} {run.Output}");
            Assert.True(c.Reference(input).SequenceEqual(File.ReadAllBytes(outputFile)), $"{c.Label}: the emitted C differs from the TFLM reference");
        }
    }

    /// <summary>The quantizer does not quantize these operators: a float model with one is refused by name (TML2006).</summary>
    [Theory]
    [InlineData(nameof(OpKind.ResizeNearestNeighbor))]
    [InlineData(nameof(OpKind.ResizeBilinear))]
    [InlineData(nameof(OpKind.DepthToSpace))]
    [InlineData(nameof(OpKind.SpaceToDepth))]
    [InlineData(nameof(OpKind.Elu))]
    [InlineData(nameof(OpKind.LogSoftmax))]
    public void Quantizer_RefusesWhatItCannotQuantize_ByName(string kindName)
    {
        var kind = Enum.Parse<OpKind>(kindName);
        var c = ResizeAndMovementCases.Cases((kind, DataType.Float32), 7201, 1).Single();
        var samples = new CalibrationSet(Enumerable.Range(0, 2).Select(_ => new[] { new float[c.InputBytes / 4] }).ToList(), Array.Empty<string>());
        var result = PostTrainingQuantizer.Quantize(c.Model, samples, new TinyML.Cli.PlanModelRunner());
        Assert.Null(result.Value);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.UnsupportedFloatOperator, d.Id);
        Assert.Equal(OpKinds.Name(kind), d.OperatorType);
    }

    private static Model ResizeModel(OpKind kind, DataType type, int[] input, int[] size, int[] output, OperatorOptions options, int sizeLength = 2)
    {
        var q = type == DataType.Float32 ? null : Quantization.PerTensor(0.1f, 0);
        var b = new ModelBuilder();
        int x = b.Tensor("x", type, input, q);
        int s = b.Constant("size", new[] { sizeLength }, size);
        int y = b.Tensor("y", type, output, q);
        b.Operator(kind, new[] { x, s }, new[] { y }, options);
        return b.Inputs(x).Outputs(y).Build();
    }

    private static void AssertLoweringRefuses(Model model, string message)
    {
        var lowered = Lowerer.Lower(model);
        Assert.Null(lowered.Value);
        Assert.Contains(lowered.Diagnostics, e => e.Id == DiagnosticIds.InvalidOperator && e.Message.Contains(message));
    }

    /// <summary>What stays unsupported or is invalid is refused with a diagnostic, never a crash.</summary>
    [Fact]
    public void Unsupported_IsRefusedWithADiagnostic()
    {
        // Bilinear with both flags: TFLM's Prepare fails (the validator, TML1015-class InvalidOperator).
        var both = ResizeModel(OpKind.ResizeBilinear, DataType.Float32, new[] { 1, 2, 2, 1 }, new[] { 4, 4 }, new[] { 1, 4, 4, 1 }, new ResizeBilinearOptions(true, true));
        Assert.Contains(ModelValidator.Validate(both), e => e.Id == DiagnosticIds.InvalidOperator && e.Message.Contains("align_corners and half_pixel_centers"));
        // int16 bilinear: TFLM has no int16 kernel.
        var wide = ResizeModel(OpKind.ResizeBilinear, DataType.Int16, new[] { 1, 2, 2, 1 }, new[] { 4, 4 }, new[] { 1, 4, 4, 1 }, new ResizeBilinearOptions(false, false));
        Assert.Contains(ModelValidator.Validate(wide), e => e.Id == DiagnosticIds.UnsupportedTypeCombination);
        // int8 LOG_SOFTMAX: an output other than TFLM's 16/256 and 127 (the validator), an input scale too small
        // for its Q5.26 rescale (lowering); int16 is not supported (TFLM has no int16 kernel).
        foreach (var (type, inputScale, outputQuantization, id, message) in new[]
        {
            (DataType.Int8, 0.1f, Quantization.PerTensor(0.1f, 127), DiagnosticIds.QuantizationSpecViolation, ""),
            (DataType.Int8, 1e-9f, Quantization.PerTensor(16f / 256, 127), DiagnosticIds.InvalidOperator, "too small"),
            (DataType.Int16, 0.1f, Quantization.PerTensor(16f / 256, 0), DiagnosticIds.UnsupportedTypeCombination, ""),
        })
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", type, new[] { 1, 4 }, Quantization.PerTensor(inputScale, 0));
            int y = b.Tensor("y", type, new[] { 1, 4 }, outputQuantization);
            b.Operator(OpKind.LogSoftmax, new[] { x }, new[] { y });
            var model = b.Inputs(x).Outputs(y).Build();
            var found = id == DiagnosticIds.InvalidOperator ? Lowerer.Lower(model).Diagnostics : ModelValidator.Validate(model);
            Assert.Contains(found, e => e.Id == id && e.Message.Contains(message));
        }
        // A size of 3 values, a size that disagrees with the output, a rank-3 input, a zero size.
        AssertLoweringRefuses(ResizeModel(OpKind.ResizeNearestNeighbor, DataType.Int8, new[] { 1, 2, 2, 1 }, new[] { 4, 4, 4 }, new[] { 1, 4, 4, 1 }, new ResizeNearestNeighborOptions(false, false), 3), "2 values");
        AssertLoweringRefuses(ResizeModel(OpKind.ResizeNearestNeighbor, DataType.Int8, new[] { 1, 2, 2, 1 }, new[] { 4, 5 }, new[] { 1, 4, 4, 1 }, new ResizeNearestNeighborOptions(false, false)), "the operator produces [1,4,5,1]");
        AssertLoweringRefuses(ResizeModel(OpKind.ResizeBilinear, DataType.Float32, new[] { 2, 2, 1 }, new[] { 4, 4 }, new[] { 4, 4, 1 }, new ResizeBilinearOptions(false, false)), "rank 4");
        AssertLoweringRefuses(ResizeModel(OpKind.ResizeBilinear, DataType.Float32, new[] { 1, 2, 2, 1 }, new[] { 0, 4 }, new[] { 1, 0, 4, 1 }, new ResizeBilinearOptions(false, false)), "must be positive");
        // DEPTH_TO_SPACE of a depth that is not a multiple of block^2; SPACE_TO_DEPTH of a width not a multiple of the block; block 0.
        foreach (var (kind, input, output, block, message) in new[]
        {
            (OpKind.DepthToSpace, new[] { 1, 2, 2, 6 }, new[] { 1, 4, 4, 1 }, 2, "not a multiple of block_size^2"),
            (OpKind.SpaceToDepth, new[] { 1, 2, 3, 1 }, new[] { 1, 1, 1, 4 }, 2, "multiples of block_size"),
        })
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Float32, input);
            int y = b.Tensor("y", DataType.Float32, output);
            b.Operator(kind, new[] { x }, new[] { y }, kind == OpKind.DepthToSpace ? new DepthToSpaceOptions(block) : new SpaceToDepthOptions(block));
            AssertLoweringRefuses(b.Inputs(x).Outputs(y).Build(), message);
        }
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Float32, new[] { 1, 2, 2, 4 });
            int y = b.Tensor("y", DataType.Float32, new[] { 1, 2, 2, 4 });
            b.Operator(OpKind.DepthToSpace, new[] { x }, new[] { y }, new DepthToSpaceOptions(0));
            Assert.Contains(ModelValidator.Validate(b.Inputs(x).Outputs(y).Build()), e => e.Id == DiagnosticIds.InvalidOperator && e.Message.Contains("block_size 0"));
        }
    }

    /// <summary>The options are written to and read back from a .tflite file unchanged.</summary>
    [Fact]
    public void Options_RoundTripThroughTflite()
    {
        foreach (var options in new OperatorOptions[] { new ResizeBilinearOptions(true, false), new ResizeBilinearOptions(false, true), new ResizeNearestNeighborOptions(true, true) })
        {
            var kind = options is ResizeBilinearOptions ? OpKind.ResizeBilinear : OpKind.ResizeNearestNeighbor;
            var model = ResizeModel(kind, DataType.Float32, new[] { 1, 2, 2, 1 }, new[] { 3, 3 }, new[] { 1, 3, 3, 1 }, options);
            Assert.Equal(options, TfliteReader.Read(TfliteWriter.Write(model)).Value!.Subgraphs[0].Operators[0].Options);
        }
        foreach (var options in new OperatorOptions[] { new DepthToSpaceOptions(3), new SpaceToDepthOptions(2) })
        {
            var b = new ModelBuilder();
            int x = b.Tensor("x", DataType.Float32, new[] { 1, 2, 2, 9 });
            int y = b.Tensor("y", DataType.Float32, new[] { 1, 6, 6, 1 });
            b.Operator(options is DepthToSpaceOptions ? OpKind.DepthToSpace : OpKind.SpaceToDepth, new[] { x }, new[] { y }, options);
            Assert.Equal(options, TfliteReader.Read(TfliteWriter.Write(b.Inputs(x).Outputs(y).Build())).Value!.Subgraphs[0].Operators[0].Options);
        }
    }
}
