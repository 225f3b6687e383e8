// SPDX-License-Identifier: Apache-2.0
using System.Linq;
using TinyML.Compiler.Operators;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>The build-time weight packing of tml_fully_connected_s8_packed: the layout tml_kernels.h documents,
/// written out by hand for a small matrix, and the folded bias.</summary>
public class PackedMatrixTests
{
    // w[r][k] = 10r + k: 5 rows (one group of four and a spare row) of depth 6.
    private static readonly sbyte[] Weights = Enumerable.Range(0, 5).SelectMany(r => Enumerable.Range(0, 6).Select(k => (sbyte)(10 * r + k))).ToArray();

    [Fact]
    public void Pack_WordChunks_InterleavesFourRowsAWordAtATime_ThenTheDepthTail_ThenTheSpareRow()
    {
        byte[] expected =
        {
            0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33, // k 0..3 of rows 0..3
            4, 14, 24, 34, 5, 15, 25, 35,                                 // k 4 and 5, a byte per row
            40, 41, 42, 43, 44, 45,                                       // row 4 as it was
        };
        Assert.Equal(expected, PackedMatrix.Pack(Weights, units: 5, depth: 6, chunk: 4));
    }

    [Fact]
    public void Pack_VectorChunks_LeaveADepthShorterThanAChunkAsTail()
    {
        byte[] expected =
        {
            0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32, 3, 13, 23, 33, 4, 14, 24, 34, 5, 15, 25, 35,
            40, 41, 42, 43, 44, 45,
        };
        Assert.Equal(expected, PackedMatrix.Pack(Weights, units: 5, depth: 6, chunk: 16));
    }

    [Fact]
    public void PackWidened_PairsEachRowsWeightsInSxtb16LaneOrder_AsLittleEndianInt16_ThenTheTail_ThenTheSpareRowAsInt8()
    {
        // Weights made negative too, so the sign extension shows: v = -(10r + k) for odd k.
        var w = Weights.Select((v, i) => (sbyte)(i % 2 == 1 ? -v : v)).ToArray();
        static byte[] S16(params int[] values) => values.SelectMany(v => new[] { (byte)(v & 0xFF), (byte)((v >> 8) & 0xFF) }).ToArray();
        byte[] expected = S16(
                0, 2, -1, -3, 10, 12, -11, -13, 20, 22, -21, -23, 30, 32, -31, -33, // k 0..3: {k, k+2}, {k+1, k+3} per row
                4, 14, 24, 34, -5, -15, -25, -35)                                   // k 4 and 5, one int16 per row
            .Concat(new byte[] { 40, unchecked((byte)-41), 42, unchecked((byte)-43), 44, unchecked((byte)-45) }) // row 4 as it was
            .ToArray();
        Assert.Equal(expected, PackedMatrix.PackWidened(w, units: 5, depth: 6));
    }

    [Fact]
    public void FoldBias_AddsInputOffsetTimesRowSums_WrappingLikeTheInt32Accumulator()
    {
        // Row sums: 15, 75, 135, 195, 255.
        var folded = PackedMatrix.FoldBias(Weights, new[] { 1, 2, 3, int.MaxValue, -7 }, units: 5, depth: 6, inputOffset: 128);
        Assert.Equal(new[] { 1 + 128 * 15, 2 + 128 * 75, 3 + 128 * 135, unchecked(int.MaxValue + 128 * 195), -7 + 128 * 255 }, folded);
        Assert.Equal(new[] { -15, -75, -135, -195, -255 }, PackedMatrix.FoldBias(Weights, null, 5, 6, -1));
    }
}
