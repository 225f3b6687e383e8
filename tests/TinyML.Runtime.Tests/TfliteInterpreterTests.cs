// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Cli;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace TinyML.Tests;

/// <summary>
/// TensorFlow Lite's own interpreter as an oracle for the models we write: every model the quantizer produces must
/// load in it (schema, operator versions, quantization, buffers), pass its Prepare checks, and compute what our
/// runtime computes. The library is TFLite 2.9's C API, fetched by <c>./build.sh setup</c> (build/tflite); TFLite
/// runs its optimized int8 kernels, which round differently from TFLM's reference kernels in places, so outputs are
/// compared within the difference TFLite itself shows against TFLM's golden outputs on the official int8 models.
/// </summary>
public sealed class TfliteInterpreterTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly Tflite _tflite = Tflite.Load();

    public TfliteInterpreterTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _tflite.Dispose();

    /// <summary>The largest difference in LSB between TFLite's int8 kernels and TFLM's reference kernels on the
    /// official int8 models (measured by <see cref="OfficialModels_TfliteStaysWithinTheBoundOfTflmGolden"/>).</summary>
    private const int KernelRoundingLsb = 3;

    public static TheoryData<string> FloatModels() => new(QuantizationCase.All.Select(c => c.FloatModel));

    [Fact]
    public void OfficialModels_TfliteStaysWithinTheBoundOfTflmGolden()
    {
        int worst = 0;
        foreach (var c in QuantizationCase.All)
            for (int k = 1; k <= 3; k++)
            {
                string folder = Path.Combine(SharedData.Root, "golden", c.Int8Model);
                var tflite = _tflite.Run(File.ReadAllBytes(SharedData.Model(c.Int8Model)), File.ReadAllBytes(Path.Combine(folder, $"input_{k}.bin")));
                int difference = MaxDifference(tflite, File.ReadAllBytes(Path.Combine(folder, $"output_{k}.bin")));
                _output.WriteLine($"{c.Int8Model} input {k}: TFLite vs TFLM golden, {difference} LSB");
                worst = Math.Max(worst, difference);
            }
        Assert.InRange(worst, 0, KernelRoundingLsb);
    }

    [Theory]
    [MemberData(nameof(FloatModels))]
    public void QuantizedModel_LoadsInTflite_AndComputesWhatOurRuntimeComputes(string name)
    {
        var c = QuantizationCase.All.Single(x => x.FloatModel == name);
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        var quantized = PostTrainingQuantizer.Quantize(model, c.Calibration(), new PlanModelRunner());
        Assert.True(quantized.Value is not null, string.Join("\n", quantized.Diagnostics));
        byte[] file = TfliteWriter.Write(quantized.Value!.Model);
        var plan = Lowerer.Lower(TfliteReader.Read(file).Value!).Value!;
        using var ours = new PlanExecutor(plan);
        for (int k = 1; k <= 3; k++)
        {
            // Any int8 bytes are a valid input of the int8 model; the golden input files are at hand.
            byte[] input = File.ReadAllBytes(c.GoldenInputFile(k));
            input.CopyTo(ours.Input(0));
            ours.Run();
            int difference = MaxDifference(_tflite.Run(file, input), ours.Output(0).ToArray());
            _output.WriteLine($"{name} input {k}: TFLite vs our runtime, {difference} LSB");
            Assert.InRange(difference, 0, KernelRoundingLsb);
        }
    }

    private static int MaxDifference(byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs((sbyte)x - (sbyte)y)).DefaultIfEmpty(0).Max();
    }

    /// <summary>The few entry points of TFLite's C API the tests need.</summary>
    internal sealed class Tflite : IDisposable
    {
        private delegate IntPtr ModelCreate(IntPtr data, UIntPtr size);
        private delegate IntPtr Create(IntPtr model, IntPtr options);
        private delegate IntPtr NoArgs();
        private delegate int WithHandle(IntPtr handle);
        private delegate void Delete(IntPtr handle);
        private delegate IntPtr TensorAt(IntPtr interpreter, int index);
        private delegate UIntPtr ByteSize(IntPtr tensor);
        private delegate int Copy(IntPtr tensor, byte[] buffer, UIntPtr size);

        private readonly IntPtr _library;

        private Tflite(IntPtr library) => _library = library;

        public static Tflite Load()
        {
            string path = Environment.GetEnvironmentVariable("TINYML_TFLITE_C") is { Length: > 0 } custom ? custom
                : Path.Combine(SharedData.Repo, "build", "tflite", "libtensorflowlite_c.so");
            Assert.True(File.Exists(path), $"TFLite's C library is not at {path}; ./build.sh setup fetches it (or set TINYML_TFLITE_C)");
            return new Tflite(NativeLibrary.Load(path));
        }

        private T Get<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(_library, name));

        /// <summary>Loads the model, allocates its tensors, runs one input, returns the first output's bytes.</summary>
        public byte[] Run(byte[] model, byte[] input)
        {
            // TfLiteModelCreate keeps reading the caller's buffer: pinned until the model is deleted, or the GC may move
            // it under the interpreter (seen as an intermittent "could not create an interpreter").
            var pinned = GCHandle.Alloc(model, GCHandleType.Pinned);
            try
            {
                return Run(pinned.AddrOfPinnedObject(), model.Length, input);
            }
            finally
            {
                pinned.Free();
            }
        }

        private byte[] Run(IntPtr model, int modelBytes, byte[] input)
        {
            IntPtr handle = Get<ModelCreate>("TfLiteModelCreate")(model, (UIntPtr)modelBytes);
            Assert.True(handle != IntPtr.Zero, "TFLite could not read the model");
            IntPtr options = Get<NoArgs>("TfLiteInterpreterOptionsCreate")();
            IntPtr interpreter = Get<Create>("TfLiteInterpreterCreate")(handle, options);
            try
            {
                Assert.True(interpreter != IntPtr.Zero, "TFLite could not create an interpreter for the model");
                Assert.True(Get<WithHandle>("TfLiteInterpreterAllocateTensors")(interpreter) == 0, "TFLite refused the model in AllocateTensors (Prepare)");
                IntPtr inputTensor = Get<TensorAt>("TfLiteInterpreterGetInputTensor")(interpreter, 0);
                Assert.Equal((ulong)input.Length, (ulong)Get<ByteSize>("TfLiteTensorByteSize")(inputTensor));
                Assert.Equal(0, Get<Copy>("TfLiteTensorCopyFromBuffer")(inputTensor, input, (UIntPtr)input.Length));
                Assert.Equal(0, Get<WithHandle>("TfLiteInterpreterInvoke")(interpreter));
                IntPtr outputTensor = Get<TensorAt>("TfLiteInterpreterGetOutputTensor")(interpreter, 0);
                var output = new byte[(int)(ulong)Get<ByteSize>("TfLiteTensorByteSize")(outputTensor)];
                Assert.Equal(0, Get<Copy>("TfLiteTensorCopyToBuffer")(outputTensor, output, (UIntPtr)output.Length));
                return output;
            }
            finally
            {
                if (interpreter != IntPtr.Zero) Get<Delete>("TfLiteInterpreterDelete")(interpreter);
                Get<Delete>("TfLiteInterpreterOptionsDelete")(options);
                Get<Delete>("TfLiteModelDelete")(handle);
            }
        }

        public void Dispose() => NativeLibrary.Free(_library);
    }
}
