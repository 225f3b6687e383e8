// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;

namespace TinyML.Compiler.Ir;

/// <summary>Static shape helpers over a tensor's dimensions.</summary>
public static class Shapes
{
    /// <summary>
    /// The largest element count we accept: anything larger cannot fit a microcontroller or a test, and kernels
    /// count elements in int32 (2^31 itself would overflow that count).
    /// </summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>The product of the dimensions, or -1 if a dimension is negative or the product exceeds <see cref="MaxElements"/>.</summary>
    public static long ElementCount(IReadOnlyList<int> dims)
    {
        long count = 1;
        foreach (int d in dims)
        {
            if (d < 0) return -1;
            count *= d;
            if (count > MaxElements) return -1;
        }
        return count;
    }

    /// <summary>Formats as [1,49,10,1].</summary>
    public static string Format(IReadOnlyList<int> dims) => "[" + string.Join(",", dims) + "]";

    /// <summary>The dimension at <paramref name="axis"/>, counting from the end when negative.</summary>
    public static int Dim(IReadOnlyList<int> dims, int axis) => dims[axis < 0 ? dims.Count + axis : axis];

    /// <summary>Pads to rank 4 with leading 1s (NHWC), as 4-D kernels expect.</summary>
    public static int[] ToNhwc(IReadOnlyList<int> dims)
    {
        if (dims.Count > 4) throw new ArgumentException("rank above 4", nameof(dims));
        var result = new[] { 1, 1, 1, 1 };
        for (int i = 0; i < dims.Count; i++) result[4 - dims.Count + i] = dims[i];
        return result;
    }
}
