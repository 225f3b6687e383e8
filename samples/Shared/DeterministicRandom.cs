// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Samples;

/// <summary>
/// SplitMix64: a tiny generator whose output is fixed by its seed on every platform and .NET version (unlike the
/// algorithm behind <see cref="Random"/>, which .NET may change). Only integer arithmetic and exact scaling, so the
/// weights derived from it are the same bits everywhere.
/// </summary>
internal sealed class DeterministicRandom
{
    private ulong _state;

    /// <summary>Seeds the generator.</summary>
    public DeterministicRandom(ulong seed) => _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A double uniform in [0, 1), from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A double uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();
}
