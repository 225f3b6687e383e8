// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Tflite;
using TinyML.Compiler.Validation;
using TinyML.Tests;
using Xunit;

namespace TinyML.Compiler.Tests;

/// <summary>
/// Hostile models are data: every truncation on a coarse grid and 2,000 seeded byte mutations of each real model
/// end in diagnostics or a valid graph, never an exception, within 2 s and 256 MB each.
/// </summary>
public class RobustnessTests
{
    private const int MutationsPerModel = 2000;
    private const int TruncationGridPoints = 200;
    private static readonly TimeSpan MaxCaseTime = TimeSpan.FromSeconds(2);
    private const long MaxCaseAllocatedBytes = 256L << 20;

    public static TheoryData<string> Models() => new(RealModelTests.Models);

    /// <summary>Everything the compiler does with a model today: read, validate, summarize.</summary>
    private static void Pipeline(byte[] bytes)
    {
        var result = TfliteReader.Read(bytes);
        if (result.Value is null)
        {
            Assert.True(result.HasErrors, "no model and no error");
            return;
        }
        _ = ModelValidator.Validate(result.Value);
        _ = ModelSummary.Of(result.Value); // inspect summarizes models we cannot run, too
    }

    private static string? RunCase(byte[] bytes, string label)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            Pipeline(bytes);
        }
        catch (Exception e)
        {
            return $"{label}: {e.GetType().Name}: {e.Message}";
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore - bytes.Length;
        if (clock.Elapsed > MaxCaseTime) return $"{label}: took {clock.Elapsed.TotalSeconds:F2} s";
        if (allocated > MaxCaseAllocatedBytes) return $"{label}: allocated {allocated >> 20} MB";
        return null;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryTruncation_EndsInDiagnostics(string name)
    {
        byte[] original = File.ReadAllBytes(SharedData.Model(name));
        var lengths = Enumerable.Range(0, 64)
            .Concat(Enumerable.Range(0, TruncationGridPoints).Select(i => (int)((long)original.Length * i / TruncationGridPoints)))
            .Where(n => n < original.Length).Distinct().ToList();
        var failures = new List<string>();
        foreach (int length in lengths)
        {
            byte[] cut = original.AsSpan(0, length).ToArray();
            var failure = RunCase(cut, $"{name} truncated to {length}");
            if (failure is not null) failures.Add(failure);
            else Assert.True(TfliteReader.Read(cut).HasErrors, $"{name} truncated to {length} bytes was accepted");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void RandomMutations_EndInDiagnosticsOrAValidGraph(string name)
    {
        byte[] original = File.ReadAllBytes(SharedData.Model(name));
        var structure = StructuralPositions(original);
        // One seed per model, so that a failure names a case that can be replayed alone.
        var random = new Random(StableSeed(name, 20261124));
        var failures = new List<string>();
        int rejected = 0;
        for (int i = 0; i < MutationsPerModel; i++)
        {
            byte[] mutated = (byte[])original.Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                // Mostly the flatbuffer's tables and offsets, where a mutation is interesting; sometimes anywhere.
                int at = random.Next(4) == 0 ? random.Next(mutated.Length) : structure[random.Next(structure.Length)];
                switch (random.Next(4))
                {
                    case 0: mutated[at] = (byte)random.Next(256); break;
                    case 1: mutated[at] ^= (byte)(1 << random.Next(8)); break;
                    case 2: mutated[at] = random.Next(2) == 0 ? (byte)0 : (byte)0xFF; break;
                    default:
                        // An interesting 32-bit value: offsets and counts that point far away or nowhere.
                        int[] values = { 0, -1, int.MaxValue, int.MinValue, 1, 0x7FFF, mutated.Length, mutated.Length - 4 };
                        int position = Math.Min(at, mutated.Length - 4);
                        BitConverter.GetBytes(values[random.Next(values.Length)]).CopyTo(mutated, position);
                        break;
                }
            }
            var failure = RunCase(mutated, $"{name} mutation {i}");
            if (failure is not null) failures.Add(failure);
            else if (TfliteReader.Read(mutated).HasErrors) rejected++;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(rejected > 0, "no mutation was rejected: the mutations do not reach the structure");
    }

    /// <summary>A seed that is the same in every process (string.GetHashCode and HashCode are not), so a failure replays.</summary>
    internal static int StableSeed(string name, int salt)
    {
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;
        return (int)((hash ^ (uint)salt) * 16777619);
    }

    /// <summary>Byte positions outside constant data, where the flatbuffer's structure lives.</summary>
    private static int[] StructuralPositions(byte[] file)
    {
        var data = new bool[file.Length];
        foreach (var tensor in TfliteReader.Read(file).Value!.Main.Tensors)
            if (tensor.Data is { } memory && MemoryMarshal.TryGetArray(memory, out var segment))
                for (int i = segment.Offset; i < segment.Offset + segment.Count; i++) data[i] = true;
        return Enumerable.Range(0, file.Length).Where(i => !data[i]).ToArray();
    }
}
