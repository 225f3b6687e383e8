// SPDX-License-Identifier: Apache-2.0
namespace TinyML.Tests;

/// <summary>The input generator of ../shared/golden (xorshift32; an int8 value is the low byte of a draw), for
/// more inputs like the golden ones.</summary>
public static class GoldenInputs
{
    /// <summary>The int8 input of one seed, exactly as ../shared/golden/README.md defines the generator.</summary>
    public static sbyte[] Int8(uint seed, long elements)
    {
        uint state = unchecked(seed * 0x9E3779B9u);
        var values = new sbyte[elements];
        for (long i = 0; i < elements; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            values[i] = unchecked((sbyte)(state & 0xFF));
        }
        return values;
    }
}
