// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.IO.Compression;

namespace TinyML.Samples;

/// <summary>
/// Fashion-MNIST (Zalando; 28x28 grey images of 10 clothing classes) read from the gzipped IDX files that the Debian
/// package <c>dataset-fashion-mnist</c> installs: 60,000 training and 10,000 test images.
/// </summary>
internal sealed class FashionMnist
{
    /// <summary>Where the Debian package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package that ships the files.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Image height and width.</summary>
    public const int Side = 28;

    /// <summary>Bytes per image.</summary>
    public const int ImageSize = Side * Side;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>The class names, by label.</summary>
    public static readonly string[] ClassNames =
        { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    // IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    private FashionMnist(Split train, Split test) => (Train, Test) = (train, test);

    /// <summary>The training split.</summary>
    public Split Train { get; }

    /// <summary>The test split.</summary>
    public Split Test { get; }

    /// <summary>
    /// Reads both splits from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>). A missing file is a
    /// <see cref="FileNotFoundException"/> naming it and the Debian package; a malformed one an <see cref="InvalidDataException"/>.
    /// </summary>
    public static FashionMnist Load(string? directory = null)
    {
        directory ??= DefaultDirectory;
        return new FashionMnist(ReadSplit(directory, "train"), ReadSplit(directory, "t10k"));
    }

    private static Split ReadSplit(string directory, string prefix)
    {
        string imagesFile = Path.Combine(directory, prefix + "-images-idx3-ubyte.gz");
        string labelsFile = Path.Combine(directory, prefix + "-labels-idx1-ubyte.gz");
        var images = Decompress(imagesFile);
        var labels = Decompress(labelsFile);

        Expect(images.Length >= 16, imagesFile, $"{images.Length} bytes, shorter than the 16-byte IDX header");
        Expect(labels.Length >= 8, labelsFile, $"{labels.Length} bytes, shorter than the 8-byte IDX header");
        int imagesMagic = BigEndian(images, 0), labelsMagic = BigEndian(labels, 0);
        Expect(imagesMagic == ImagesMagic, imagesFile, $"magic number 0x{imagesMagic:X8}, expected 0x{ImagesMagic:X8} (3-D unsigned bytes)");
        Expect(labelsMagic == LabelsMagic, labelsFile, $"magic number 0x{labelsMagic:X8}, expected 0x{LabelsMagic:X8} (1-D unsigned bytes)");
        int count = BigEndian(images, 4), rows = BigEndian(images, 8), columns = BigEndian(images, 12);
        int labelCount = BigEndian(labels, 4);
        Expect(rows == Side && columns == Side, imagesFile, $"images of {rows}x{columns}, expected {Side}x{Side}");
        Expect(count > 0 && count == labelCount, imagesFile, $"{count} images but {labelCount} labels in {Path.GetFileName(labelsFile)}");
        Expect(images.Length == 16 + (long)count * ImageSize, imagesFile, $"{images.Length - 16} pixel bytes, expected {count} x {ImageSize}");
        Expect(labels.Length == 8 + count, labelsFile, $"{labels.Length - 8} label bytes, expected {count}");

        var labelBytes = labels.AsSpan(8).ToArray();
        for (int i = 0; i < labelBytes.Length; i++)
            Expect(labelBytes[i] < ClassCount, labelsFile, $"label {labelBytes[i]} at index {i}, expected 0-{ClassCount - 1}");
        return new Split(images.AsMemory(16), labelBytes);
    }

    private static byte[] Decompress(string file)
    {
        if (!File.Exists(file))
            throw new FileNotFoundException(
                $"Fashion-MNIST file {file} is missing. Install the Debian package {DebianPackage} " +
                $"(apt-get install {DebianPackage}; ./build.sh setup does) or pass the directory that holds the four IDX .gz files.", file);
        using var stream = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        try
        {
            stream.CopyTo(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Fashion-MNIST file {file} is not a valid gzip file: {e.Message}", e);
        }
        return buffer.ToArray();
    }

    private static int BigEndian(byte[] data, int offset) =>
        data[offset] << 24 | data[offset + 1] << 16 | data[offset + 2] << 8 | data[offset + 3];

    private static void Expect(bool condition, string file, string problem)
    {
        if (!condition) throw new InvalidDataException($"Fashion-MNIST file {file} is malformed: {problem}.");
    }

    /// <summary>One split: images and their labels.</summary>
    public sealed class Split
    {
        private readonly ReadOnlyMemory<byte> _pixels;

        internal Split(ReadOnlyMemory<byte> pixels, byte[] labels) => (_pixels, Labels) = (pixels, labels);

        /// <summary>Number of images.</summary>
        public int Count => Labels.Length;

        /// <summary>The label (0-9) of each image.</summary>
        public byte[] Labels { get; }

        /// <summary>Image <paramref name="i"/>: 784 grey values, row-major, 0 = background.</summary>
        public ReadOnlySpan<byte> Image(int i)
        {
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"the split has {Count} images");
            return _pixels.Span.Slice(i * ImageSize, ImageSize);
        }
    }
}
