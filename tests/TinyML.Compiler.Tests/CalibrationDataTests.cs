// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;
using TinyML.Compiler.PostTraining;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>Calibration files: .npy parsing, raw .bin, shapes, batches, globs, and the errors.</summary>
public sealed class CalibrationDataTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tml-calib-" + Guid.NewGuid().ToString("N"));

    public CalibrationDataTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>float32 [1, 4, 2, 1] → FULLY_CONNECTED is not needed: loading only looks at the input.</summary>
    private static Model FloatModel(DataType type = DataType.Float32)
    {
        var b = new ModelBuilder();
        int input = b.Tensor("image", type, new[] { 1, 4, 2, 1 });
        return b.Inputs(input).Outputs(input).Build();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Npy(string dict, byte[] data)
    {
        var header = dict + "\n";
        var bytes = new byte[10 + header.Length + data.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }.CopyTo(bytes, 0);
        BitConverter.GetBytes((ushort)header.Length).CopyTo(bytes, 8);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        data.CopyTo(bytes, 10 + header.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Npy_RoundTrips_AndParsesAHandWrittenHeader()
    {
        var array = NpyFile.Read(NpyFile.Write(new[] { 2, 3 }, new[] { 1f, 2f, 3f, 4f, 5f, -6f }));
        Assert.Equal(new[] { 2, 3 }, array.Shape);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f, -6f }, array.Values);
        var handWritten = NpyFile.Read(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", Floats(0.5f, 1.5f, 2.5f)));
        Assert.Equal(new[] { 3 }, handWritten.Shape);
        Assert.Equal(new[] { 0.5f, 1.5f, 2.5f }, handWritten.Values);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, "dtype '<f8'")]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", 2, "float32")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "fortran_order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "needs 12 data bytes")]
    [InlineData("{'descr': '<f4', 'shape': (2,), }", 8, "lacks")]
    [InlineData("['descr', '<f4']", 8, "not a dict")]
    public void Npy_ErrorsNameTheProblem(string dict, int dataBytes, string expected)
    {
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.Read(Npy(dict, new byte[dataBytes])));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Npy_WithoutTheMagic_IsRefused() =>
        Assert.Contains("magic", Assert.Throws<NpyFormatException>(() => NpyFile.Read(new byte[20])).Message);

    [Fact]
    public void Load_AcceptsShapesThatMatchApartFromSizeOneDimensions_AndBatches()
    {
        Write("a.npy", NpyFile.Write(new[] { 4, 2 }, Enumerable.Range(0, 8).Select(i => (float)i).ToArray()));
        Write("b.npy", NpyFile.Write(new[] { 3, 1, 4, 2, 1 }, new float[24]));
        Write("c.bin", Floats(Enumerable.Range(0, 16).Select(i => (float)-i).ToArray()));
        var result = CalibrationData.Load(_dir, FloatModel());
        Assert.Empty(result.Diagnostics);
        Assert.Equal(1 + 3 + 2, result.Value!.Samples.Count);
        Assert.Equal(new[] { 0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f }, result.Value.Samples[0][0]);
        Assert.Equal(-15f, result.Value.Samples[5][0][7]);
    }

    [Fact]
    public void Load_WrongNpyShape_IsTML2003()
    {
        Write("x.npy", NpyFile.Write(new[] { 2, 4 }, new float[8]));
        var d = Assert.Single(CalibrationData.Load(_dir, FloatModel()).Diagnostics);
        Assert.Equal(DiagnosticIds.CalibrationShapeMismatch, d.Id);
        Assert.Contains("(2, 4)", d.Message);
        Assert.Contains("[1,4,2,1]", d.Message);
    }

    [Fact]
    public void Load_WrongBinSize_IsTML2003()
    {
        Write("x.bin", new byte[12]);
        var d = Assert.Single(CalibrationData.Load(_dir, FloatModel()).Diagnostics);
        Assert.Equal(DiagnosticIds.CalibrationShapeMismatch, d.Id);
        Assert.Contains("multiple of 32", d.Message);
    }

    [Fact]
    public void Load_WrongDtype_IsTML2002()
    {
        Write("x.npy", Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (8,), }", new byte[32]));
        var d = Assert.Single(CalibrationData.Load(_dir, FloatModel()).Diagnostics);
        Assert.Equal(DiagnosticIds.InvalidCalibrationFile, d.Id);
        Assert.EndsWith("x.npy", d.File);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Load_NonFiniteValues_AreTML2004(float bad)
    {
        var values = new float[8];
        values[5] = bad;
        Write("x.npy", NpyFile.Write(new[] { 1, 4, 2, 1 }, values));
        var d = Assert.Single(CalibrationData.Load(_dir, FloatModel()).Diagnostics);
        Assert.Equal(DiagnosticIds.NonFiniteCalibrationData, d.Id);
        Assert.Contains("element 5", d.Message);
    }

    [Fact]
    public void Load_NothingFound_IsTML2001()
    {
        var d = Assert.Single(CalibrationData.Load(Path.Combine(_dir, "*.npy"), FloatModel()).Diagnostics);
        Assert.Equal(DiagnosticIds.MissingCalibrationData, d.Id);
    }

    [Fact]
    public void Globs_MatchAcrossFolders()
    {
        Write("a/one.bin", new byte[32]);
        Write("a/b/two.bin", new byte[32]);
        Write("a/b/skip.npy", NpyFile.Write(new[] { 8 }, new float[8]));
        Write("top.bin", new byte[32]);
        Assert.Equal(new[] { "a/b/two.bin", "a/one.bin" }, Relative(CalibrationData.ResolveFiles(Path.Combine(_dir, "a", "**", "*.bin"))));
        Assert.Equal(new[] { "a/one.bin" }, Relative(CalibrationData.ResolveFiles(Path.Combine(_dir, "a", "*.bin"))));
        Assert.Equal(new[] { "top.bin" }, Relative(CalibrationData.ResolveFiles(Path.Combine(_dir, "t?p.bin"))));
        Assert.Equal(4, CalibrationData.ResolveFiles(_dir).Count);
    }

    private string[] Relative(System.Collections.Generic.IEnumerable<string> files) =>
        files.Select(f => Path.GetRelativePath(_dir, f).Replace('\\', '/')).ToArray();
}
