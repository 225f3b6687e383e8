// SPDX-License-Identifier: Apache-2.0
using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TinyML.Cli;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using TinyML.Compiler.Tflite;
using TinyML.Samples;

/// <summary>
/// Quantization on real data: FashionCnn trained on all 10 Fashion-MNIST classes, quantized by our
/// PostTrainingQuantizer with each range method (calibrated on training images only), and the top-1 accuracy of the
/// float network and of each int8 model on the 10,000 test images.
/// </summary>
internal static class FashionBench
{
    private const int Seed = 1, Epochs = 3, Batch = 32, CalibrationImages = 300;
    private const float LearningRate = 0.002f;

    public static void Run()
    {
        var data = FashionMnist.Load();
        var network = new FashionCnn(Seed);
        var allClasses = Enumerable.Range(0, FashionMnist.ClassCount).ToArray();
        var allTraining = Enumerable.Range(0, data.Train.Count).ToArray();
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            double loss = network.TrainEpoch(data.Train, allTraining, allClasses, LearningRate, Batch, Seed + epoch);
            Console.WriteLine($"epoch {epoch + 1}: mean loss {loss.ToString("F4", CultureInfo.InvariantCulture)} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        int floatCorrect = 0;
        for (int i = 0; i < data.Test.Count; i++)
            if (ArgMax(network.Forward(data.Test.Image(i))) == data.Test.Labels[i]) floatCorrect++;

        // Calibration: every 200th training image (300 images, all classes), never a test image.
        var calibration = new CalibrationSet(
            Enumerable.Range(0, CalibrationImages).Select(k => new[] { Pixels(data.Train.Image(k * (data.Train.Count / CalibrationImages))) }).ToArray(),
            Array.Empty<string>());
        var floatModel = network.ToModel();
        var runner = new PlanModelRunner();
        Console.WriteLine();
        Console.WriteLine($"Fashion-MNIST: FashionCnn (CONV 3x3/2 {network.C1} → CONV 3x3/2 {network.C2} → FC {network.Hidden} → FC 10 → SOFTMAX, " +
            $"{network.MacsPerInference:N0} MACs), seed {Seed}, {Epochs} epochs of Adam (lr {LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {Batch}) " +
            $"on the 60,000 training images; int8 calibrated on {CalibrationImages} training images; top-1 on the 10,000 test images.");
        Console.WriteLine();
        Console.WriteLine("| model | range method | top-1 | vs float (points) | agrees with float |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        Console.WriteLine($"| float32 | - | {Percent(floatCorrect, data.Test.Count)} | - | - |");
        foreach (var method in new[] { RangeMethod.MinMax, RangeMethod.Percentile, RangeMethod.Mse })
        {
            var quantized = PostTrainingQuantizer.Quantize(floatModel, calibration, runner, new QuantizationOptions { Method = method });
            if (quantized.Value is not { } q)
            {
                Console.WriteLine($"| int8 | {MethodName(method)} | failed: {quantized.Diagnostics[0]} | | |");
                continue;
            }
            // Through the .tflite bytes, as a user would deploy it.
            var int8 = TfliteReader.Read(TfliteWriter.Write(q.Model)).Value!;
            var input = int8.Main.Tensors[int8.Main.Inputs[0]];
            if (input.Type != DataType.Int8 || input.Quantization is not { HasScales: true } inputQuantization)
                throw new InvalidOperationException($"the quantized model's input is {input}, not int8 with a scale");
            var prepared = runner.Prepare(int8, int8.Main.Outputs.ToArray());
            using var session = prepared.Value ?? throw new InvalidOperationException(string.Join("; ", prepared.Diagnostics));
            int correct = 0, agree = 0;
            var bytes = new byte[FashionMnist.ImageSize];
            for (int i = 0; i < data.Test.Count; i++)
            {
                var image = data.Test.Image(i);
                for (int k = 0; k < bytes.Length; k++)
                    bytes[k] = (byte)Quantize(image[k] / 255f, inputQuantization.Scale, inputQuantization.ZeroPoints[0]);
                var output = session.Run(new[] { bytes })[0];
                int predicted = ArgMax(Array.ConvertAll(output, b => (float)(sbyte)b));
                if (predicted == data.Test.Labels[i]) correct++;
                if (predicted == ArgMax(network.Forward(image))) agree++;
            }
            Console.WriteLine($"| int8 | {MethodName(method)} | {Percent(correct, data.Test.Count)} | " +
                $"{(100.0 * (correct - floatCorrect) / data.Test.Count).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture)} | {Percent(agree, data.Test.Count)} |");
        }
    }

    // As --method spells it.
    private static string MethodName(RangeMethod method) => method.ToString().ToLowerInvariant();

    private static float[] Pixels(ReadOnlySpan<byte> image)
    {
        var pixels = new float[image.Length];
        for (int k = 0; k < pixels.Length; k++) pixels[k] = image[k] / 255f;
        return pixels;
    }

    // TFLite's input quantization: round half away from zero, add the zero point, saturate to int8.
    private static sbyte Quantize(float x, float scale, long zeroPoint) =>
        (sbyte)Math.Clamp(Math.Round(x / scale, MidpointRounding.AwayFromZero) + zeroPoint, sbyte.MinValue, sbyte.MaxValue);

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++)
            if (values[k] > values[best]) best = k;
        return best;
    }

    private static string Percent(int count, int total) => (100.0 * count / total).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
