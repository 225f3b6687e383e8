// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Cli;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Samples;
using Xunit;

namespace TinyML.Tests;

/// <summary>
/// The Fashion-MNIST reader (the Debian package dataset-fashion-mnist, installed by ./build.sh setup) and a short run
/// of the float CNN trainer: it learns, masks held-out classes, and its TFLite model computes what it computes.
/// </summary>
public class FashionMnistTests
{
    private static readonly Lazy<FashionMnist> Data = new(() => FashionMnist.Load());
    private static readonly int[] SourceClasses = { 0, 1, 2, 3, 4, 5, 6, 7 };
    private const int Seed = 7, ShortRunImages = 6000;
    private static readonly Lazy<FashionCnn> ShortRun = new(() =>
    {
        var network = new FashionCnn(Seed);
        network.TrainEpoch(Data.Value.Train, Enumerable.Range(0, ShortRunImages).ToArray(), SourceClasses, 0.002f, 16, Seed);
        return network;
    });

    [Fact]
    public void Load_ReadsBothSplits_SixThousandAndOneThousandImagesPerClass()
    {
        var data = Data.Value;
        Assert.Equal(60000, data.Train.Count);
        Assert.Equal(10000, data.Test.Count);
        // The dataset is balanced: 6,000 training and 1,000 test images of each of the 10 classes.
        var trainHistogram = new int[10];
        foreach (byte label in data.Train.Labels) trainHistogram[label]++;
        var testHistogram = new int[10];
        foreach (byte label in data.Test.Labels) testHistogram[label]++;
        Assert.All(trainHistogram, n => Assert.Equal(6000, n));
        Assert.All(testHistogram, n => Assert.Equal(1000, n));
        Assert.Equal(10, FashionMnist.ClassNames.Length);
        Assert.Equal(784, data.Test.Image(9999).Length);
        // Pixels are real images: a dark background with a brighter object, not all zero or all one value.
        var first = data.Train.Image(0);
        Assert.Equal(0, first[0]);
        Assert.True(first.ToArray().Max() > 200, "the first training image has no bright pixel");
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Test.Image(10000).Length);
    }

    [Fact]
    public void Load_MissingDirectory_NamesTheFileAndTheDebianPackage()
    {
        string directory = Path.Combine(Path.GetTempPath(), "no-fashion-mnist-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(directory));
        Assert.Contains(Path.Combine(directory, "train-images-idx3-ubyte.gz"), e.Message);
        Assert.Contains("dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void Load_WrongMagicNumber_IsInvalidDataNamingTheFile()
    {
        string directory = Path.Combine(Path.GetTempPath(), "bad-fashion-mnist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            void Write(string name, byte[] bytes)
            {
                using var gz = new GZipStream(File.Create(Path.Combine(directory, name)), CompressionLevel.Fastest);
                gz.Write(bytes);
            }
            // One 28x28 image, but the labels file claims the images' magic number.
            Write("train-images-idx3-ubyte.gz", new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28 }.Concat(new byte[784]).ToArray());
            Write("train-labels-idx1-ubyte.gz", new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 5 });
            var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(directory));
            Assert.Contains("train-labels-idx1-ubyte.gz", e.Message);
            Assert.Contains("magic number", e.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void TrainEpoch_SixThousandImages_BeatsSeventyPercent_AndLeavesHeldOutRowsUntouched()
    {
        var network = ShortRun.Value;
        Assert.True(network.MacsPerInference <= 250_000, $"{network.MacsPerInference} MACs per inference");
        var test = Data.Value.Test;
        int correct = 0, total = 0;
        for (int i = 0; i < test.Count && total < 1000; i++)
        {
            if (test.Labels[i] > 7) continue;
            var p = network.Forward(test.Image(i));
            Assert.Equal(1.0, p.Sum(), 4);
            if (Array.IndexOf(p, p.Max()) == test.Labels[i]) correct++;
            total++;
        }
        Assert.True(correct > 700, $"{correct} of {total} test images of classes 0-7 right after one short epoch");

        // Classes 8 and 9 took no part: their head rows are the initial ones and their bias is still zero.
        var untrained = new FashionCnn(Seed);
        int hidden = network.Hidden;
        Assert.Equal(untrained.HeadWeights.AsSpan(8 * hidden).ToArray(), network.HeadWeights.AsSpan(8 * hidden).ToArray());
        Assert.Equal(new[] { 0f, 0f }, network.HeadBias.AsSpan(8).ToArray());
        Assert.NotEqual(untrained.HeadWeights.AsSpan(0, 8 * hidden).ToArray(), network.HeadWeights.AsSpan(0, 8 * hidden).ToArray());

        // The float upper reference starts from the same head: it predicts what the network does.
        var head = new SoftmaxHead(network);
        for (int i = 0; i < 20; i++)
        {
            var p = network.Forward(test.Image(i));
            Assert.Equal(Array.IndexOf(p, p.Max()), head.Predict(network.HeadInput(test.Image(i))));
        }
    }

    [Fact]
    public void TrainEpoch_SameSeed_SameBits()
    {
        var indices = Enumerable.Range(0, 500).ToArray();
        float[] Train()
        {
            var network = new FashionCnn(11, c1: 4, c2: 8, hidden: 16);
            double loss = network.TrainEpoch(Data.Value.Train, indices, SourceClasses, 0.002f, 16, 3);
            Assert.True(loss > 0 && double.IsFinite(loss), $"mean loss {loss}");
            return network.HeadInput(Data.Value.Test.Image(0)).Concat(network.HeadWeights).Concat(network.HeadBias).ToArray();
        }
        var first = Train();
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), Train().Select(BitConverter.SingleToInt32Bits));
        var other = new FashionCnn(12, c1: 4, c2: 8, hidden: 16);
        Assert.NotEqual(new FashionCnn(11, c1: 4, c2: 8, hidden: 16).HeadWeights, other.HeadWeights);
    }

    [Fact]
    public void SoftmaxHead_LearnsAHeldOutClass_FromItsHeadInputs()
    {
        var network = ShortRun.Value;
        var train = Data.Value.Train;
        var head = new SoftmaxHead(network);
        // A few passes over 200 images of classes 0-9 (8 and 9 unseen by the network) teach the head class 9.
        var samples = Enumerable.Range(3000, 200).Select(i => (Input: network.HeadInput(train.Image(i)), Label: (int)train.Labels[i])).ToArray();
        for (int pass = 0; pass < 5; pass++)
            foreach (var (input, label) in samples) head.Step(input, label, 0.01f);
        var test = Data.Value.Test;
        int correct = 0, total = 0;
        for (int i = 0; i < test.Count && total < 100; i++)
        {
            if (test.Labels[i] != 9) continue;
            if (head.Predict(network.HeadInput(test.Image(i))) == 9) correct++;
            total++;
        }
        Assert.True(correct > 50, $"{correct} of {total} ankle boots recognized after training the head");
    }

    [Fact]
    public void ToModel_PassesTheValidator_AndMatchesForwardThroughThePlan()
    {
        var network = ShortRun.Value;
        // Through the .tflite bytes, as a user would load it.
        var model = TfliteReader.Read(TfliteWriter.Write(network.ToModel())).Value!;
        Assert.Empty(ModelValidator.Validate(model));
        var prepared = new PlanModelRunner().Prepare(model, model.Main.Outputs.ToArray());
        Assert.True(prepared.Value is not null, string.Join("; ", prepared.Diagnostics));
        using var session = prepared.Value!;
        var test = Data.Value.Test;
        for (int i = 0; i < 50; i++)
        {
            var pixels = new float[784];
            var image = test.Image(i);
            for (int k = 0; k < pixels.Length; k++) pixels[k] = image[k] / 255f;
            var output = MemoryMarshal.Cast<byte, float>(session.Run(new[] { MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray() })[0]).ToArray();
            var expected = network.Forward(image);
            Assert.Equal(10, output.Length);
            for (int k = 0; k < 10; k++)
                Assert.True(Math.Abs(output[k] - expected[k]) <= 1e-4f, $"image {i}, class {k}: plan {output[k]}, trainer {expected[k]}");
        }
    }
}
