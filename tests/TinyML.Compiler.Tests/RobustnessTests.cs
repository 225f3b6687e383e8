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
/// end in diagnostics or a valid graph, never an exception, within 2 s and 256 MB each. The every-stage sweep takes
/// seeded IR mutations of every real model and op case, and byte mutations of the real models, through lowering with
/// every memory technique, budget-driven planning and C emission (<see cref="PipelineFuzz"/>); a failure names the
/// seed, and <c>new IrMutator(seed).Mutate(model)</c> on the named model replays it.
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
            MutateBytes(random, mutated, structure);
            var failure = RunCase(mutated, $"{name} mutation {i}");
            if (failure is not null) failures.Add(failure);
            else if (TfliteReader.Read(mutated).HasErrors) rejected++;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(rejected > 0, "no mutation was rejected: the mutations do not reach the structure");
    }

    /// <summary>One to four edits: random bytes, bit flips, 0 or 0xFF, and 32-bit values that point far away.</summary>
    private static void MutateBytes(Random random, byte[] mutated, int[] structure)
    {
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
    }

    // ---- every stage: read, validate, lower with every memory technique, fit to a budget, emit C -------------

    // TINYML_FUZZ_SCALE=n runs n times as many cases (a deeper local sweep); seeds of the default run stay the same.
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("TINYML_FUZZ_SCALE"), out int n) && n > 0 ? n : 1;
    private static readonly int IrMutationsPerOpCase = 40 * Scale;

    /// <summary>Cases per real model (IR, bytes): the models whose planning searches take about 2 s get fewer, to keep the sweep near a minute.</summary>
    private static (int Ir, int Bytes) CasesPerModel(string name) =>
        name switch
        {
            "ic_resnet" or "ic_resnet_float" => (20 * Scale, 12 * Scale),
            "ad_float" => (30 * Scale, 12 * Scale), // 1 MB of constants to print per plan
            _ => (100 * Scale, 50 * Scale),
        };

    public static TheoryData<string> OpCases() => new(SharedData.OpCases());

    /// <summary>A seed that is the same in every process (string.GetHashCode and HashCode are not), so a failure replays.</summary>
    internal static int StableSeed(string name, int salt)
    {
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;
        return (int)((hash ^ (uint)salt) * 16777619);
    }

    /// <summary>
    /// Reads the model into the IR, mutates its integers (and a few other fields) with a seed per case, writes it
    /// with the TFLite writer and runs the bytes through every stage. Returns the failures and how many mutants
    /// lowering accepted, so that the sweep can show it reaches planning and emission.
    /// </summary>
    private static (List<string> Failures, int Lowered) SweepIr(string name, string path, int mutations)
    {
        byte[] original = File.ReadAllBytes(path);
        var failures = new List<string>();
        int lowered = 0;
        for (int i = 0; i < mutations; i++)
        {
            int seed = StableSeed(name, i);
            var model = TfliteReader.Read(original).Value!;
            var mutator = new IrMutator(seed);
            mutator.Mutate(model);
            byte[] bytes;
            try
            {
                bytes = TfliteWriter.Write(model);
            }
            catch (Exception e)
            {
                failures.Add($"{name} IR seed {seed} ({string.Join("; ", mutator.Log)}): the writer threw {e.GetType().Name}: {e.Message}");
                continue;
            }
            var failure = PipelineFuzz.Run(bytes, $"{name} IR seed {seed} ({string.Join("; ", mutator.Log)})", out bool planned);
            if (failure is not null) failures.Add(failure);
            else if (planned) lowered++;
        }
        return (failures, lowered);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void IrMutations_OfRealModels_ReachEveryStageAndEndInAPlanOrDiagnostics(string name)
    {
        var (failures, lowered) = SweepIr(name, SharedData.Model(name), CasesPerModel(name).Ir);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // Models refused as a whole (hybrid, not yet supported) have no mutant that lowers; every other model has.
        if (!GoldenCase.WithoutGolden.ContainsKey(name) && !GoldenCase.NotYetSupported.ContainsKey(name)) Assert.True(lowered > 0, "no mutant was lowered: the mutations never reach lowering and emission");
    }

    [Theory]
    [MemberData(nameof(OpCases))]
    public void IrMutations_OfOpCases_ReachEveryStageAndEndInAPlanOrDiagnostics(string name)
    {
        var (failures, lowered) = SweepIr("ops/" + name, Path.Combine(SharedData.Root, "ops", name, "model.tflite"), IrMutationsPerOpCase);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(lowered > 0, "no mutant was lowered: the mutations never reach lowering and emission");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ByteMutations_ReachEveryStageAndEndInAPlanOrDiagnostics(string name)
    {
        byte[] original = File.ReadAllBytes(SharedData.Model(name));
        var structure = StructuralPositions(original);
        var buffers = BufferFieldPositions(original);
        var failures = new List<string>();
        int lowered = 0;
        for (int i = 0; i < CasesPerModel(name).Bytes; i++)
        {
            int seed = StableSeed(name, -1 - i);
            var random = new Random(seed);
            byte[] mutated = (byte[])original.Clone();
            // Half the cases hit a buffer's data offset or length, the rest the structure anywhere.
            if (random.Next(2) == 0 && buffers.Length > 0)
            {
                int at = buffers[random.Next(buffers.Length)];
                int[] values = { 0, 1, -1, 4, int.MaxValue, int.MinValue, mutated.Length, mutated.Length - at, BitConverter.ToInt32(mutated, at) + 4 * (1 + random.Next(16)), BitConverter.ToInt32(mutated, at) - 4 * (1 + random.Next(16)) };
                BitConverter.GetBytes(values[random.Next(values.Length)]).CopyTo(mutated, at);
            }
            else MutateBytes(random, mutated, structure);
            var failure = PipelineFuzz.Run(mutated, $"{name} bytes seed {seed}", out bool planned);
            if (failure is not null) failures.Add(failure);
            else if (planned) lowered++;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        if (!GoldenCase.WithoutGolden.ContainsKey(name) && !GoldenCase.NotYetSupported.ContainsKey(name)) Assert.True(lowered > 0, "no mutant was lowered: the mutations never reach lowering and emission");
    }

    /// <summary>
    /// The file positions of each buffer's data offset (the uoffset field of Buffer.data) and of its length (the
    /// vector's count), found by walking the flatbuffer: Model.buffers is field 4, Buffer.data field 0.
    /// </summary>
    private static int[] BufferFieldPositions(byte[] file)
    {
        int U32(int at) => BitConverter.ToInt32(file, at);
        int? Field(int table, int field)
        {
            int vtable = table - U32(table);
            int vtableBytes = BitConverter.ToUInt16(file, vtable);
            if (4 + 2 * field >= vtableBytes) return null;
            int offset = BitConverter.ToUInt16(file, vtable + 4 + 2 * field);
            return offset == 0 ? null : table + offset;
        }
        var positions = new List<int>();
        int root = U32(0);
        if (Field(root, 4) is not int buffersField) return Array.Empty<int>();
        int vector = buffersField + U32(buffersField);
        for (int b = 0; b < U32(vector); b++)
        {
            int element = vector + 4 + 4 * b;
            int table = element + U32(element);
            if (Field(table, 0) is not int dataField) continue;
            positions.Add(dataField);
            positions.Add(dataField + U32(dataField));
        }
        return positions.ToArray();
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
