// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Planning;

/// <summary>
/// Memory-aware operator reordering (after Serenity): dynamic programming over the sets of operators already run.
/// The live bytes after a set do not depend on the order that ran it, so the lowest peak that reaches a set is
/// the minimum, over its last operator, of max(peak before, bytes while that operator runs). Chains have one
/// order, so only branches (residual ADDs, concatenations) give choices. States are expanded set size by set
/// size, operators in model order, and a strictly lower peak is needed to replace a state's best: the result is
/// deterministic and stays the model's order unless that order costs more. A cap on states visited bounds the
/// work; past it the model's order is kept.
/// </summary>
public static class Reorderer
{
    /// <summary>States visited before giving up.</summary>
    public const int DefaultStateCap = 200_000;

    /// <summary>The peak of the cost model for an order (aligned bytes, in-place savings included).</summary>
    public static long ModelPeak(Graph graph, IReadOnlyList<long> scratchBytes, IReadOnlyList<int> order, bool inPlaceDepthwise, bool inPlaceElementwise)
    {
        var model = new CostModel(graph, scratchBytes, inPlaceDepthwise, inPlaceElementwise);
        var done = new bool[graph.Operators.Count];
        long live = model.InitialLive, peak = 0;
        foreach (int v in order)
        {
            var (during, after) = model.Step(done, live, v);
            peak = Math.Max(peak, during);
            live = after;
            done[v] = true;
        }
        return peak;
    }

    /// <summary>The order with the lowest modelled peak, or null when the model's order is as good or the cap was hit.</summary>
    public static int[]? FindOrder(Graph graph, IReadOnlyList<long> scratchBytes, bool inPlaceDepthwise, bool inPlaceElementwise, int stateCap = DefaultStateCap)
    {
        int n = graph.Operators.Count;
        if (n < 3 || n > 4096) return null;
        // State (variable tensors) makes the model's order part of the semantics; keep it.
        if (graph.Tensors.Any(t => t.IsVariable)) return null;
        var model = new CostModel(graph, scratchBytes, inPlaceDepthwise, inPlaceElementwise);
        if (!model.HasBranches) return null;
        var identity = Enumerable.Range(0, n).ToArray();
        long original = ModelPeak(graph, scratchBytes, identity, inPlaceDepthwise, inPlaceElementwise);

        var layer = new Dictionary<Key, State>();
        var start = new Key(new ulong[(n + 63) / 64]);
        layer[start] = new State(0, model.InitialLive, null, -1);
        int visited = 1;
        var done = new bool[n];
        for (int size = 0; size < n; size++)
        {
            var next = new Dictionary<Key, State>();
            foreach (var entry in layer)
            {
                for (int v = 0; v < n; v++) done[v] = entry.Key.Has(v);
                for (int v = 0; v < n; v++)
                {
                    if (done[v] || !model.Ready(done, v)) continue;
                    var (during, after) = model.Step(done, entry.Value.Live, v);
                    long peak = Math.Max(entry.Value.Peak, during);
                    var key = entry.Key.With(v);
                    if (next.TryGetValue(key, out var existing) && existing.Peak <= peak) continue;
                    if (existing is null && ++visited > stateCap) return null;
                    next[key] = new State(peak, after, entry.Value, v);
                }
            }
            layer = next;
        }
        var final = layer.Values.Single();
        if (final.Peak >= original) return null;
        var order = new List<int>();
        for (var s = final; s.Previous is not null; s = s.Previous) order.Add(s.Op);
        order.Reverse();
        return order.ToArray();
    }

    private sealed record State(long Peak, long Live, State? Previous, int Op);

    private readonly struct Key : IEquatable<Key>
    {
        private readonly ulong[] _bits;
        private readonly int _hash;

        public Key(ulong[] bits)
        {
            _bits = bits;
            ulong h = 1469598103934665603UL;
            foreach (ulong b in bits) h = (h ^ b) * 1099511628211UL;
            _hash = (int)(h ^ (h >> 32));
        }

        public bool Has(int v) => (_bits[v >> 6] & (1UL << (v & 63))) != 0;

        public Key With(int v)
        {
            var bits = (ulong[])_bits.Clone();
            bits[v >> 6] |= 1UL << (v & 63);
            return new Key(bits);
        }

        public bool Equals(Key other) => _hash == other._hash && _bits.AsSpan().SequenceEqual(other._bits);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => _hash;
    }

    /// <summary>Buffers (RESHAPE/SQUEEZE alias groups) with their producer and consumers, and what each step costs.</summary>
    private sealed class CostModel
    {
        private readonly Graph _graph;
        private readonly IReadOnlyList<long> _scratch;
        private readonly int[] _groupOf;             // tensor -> group, -1 for constants and variables
        private readonly long[] _groupBytes;
        private readonly List<int>[] _consumers;     // group -> operators reading it
        private readonly bool[] _keep;               // graph outputs (never freed) and inputs (never overwritten)
        private readonly int[][] _deps;              // operator -> operators it needs
        private readonly int[][] _born;              // operator -> groups it creates
        private readonly int[][] _reads;             // operator -> groups it reads
        private readonly (int Input, int Output, long Scratch)[]?[] _inPlace;

        public CostModel(Graph graph, IReadOnlyList<long> scratch, bool depthwise, bool elementwise)
        {
            _graph = graph;
            _scratch = scratch;
            int tensors = graph.Tensors.Count, n = graph.Operators.Count;
            var parent = Enumerable.Range(0, tensors).ToArray();
            int Find(int t) { while (parent[t] != t) t = parent[t] = parent[parent[t]]; return t; }
            bool Activation(int t) => t >= 0 && !graph.Tensors[t].IsConstant && !graph.Tensors[t].IsVariable;
            foreach (var op in graph.Operators)
                if (TensorLifetimes.IsAlias(op.Kind) && op.Inputs.Count > 0 && Activation(op.Inputs[0]) && op.Outputs.Count > 0)
                    parent[Find(op.Outputs[0])] = Find(op.Inputs[0]);
            var ids = new Dictionary<int, int>();
            _groupOf = new int[tensors];
            var bytes = new List<long>();
            for (int t = 0; t < tensors; t++)
            {
                if (!Activation(t)) { _groupOf[t] = -1; continue; }
                int root = Find(t);
                if (!ids.TryGetValue(root, out int g)) { g = ids[root] = bytes.Count; bytes.Add(0); }
                _groupOf[t] = g;
                bytes[g] = Math.Max(bytes[g], MemoryPlanner.Align(Math.Max(0, graph.Tensors[t].Bytes)));
            }
            _groupBytes = bytes.ToArray();
            int groups = _groupBytes.Length;
            _consumers = Enumerable.Range(0, groups).Select(_ => new List<int>()).ToArray();
            _keep = new bool[groups];
            foreach (int t in graph.Inputs.Concat(graph.Outputs)) if (t >= 0 && _groupOf[t] >= 0) _keep[_groupOf[t]] = true;
            var producerOfTensor = new Dictionary<int, int>();
            for (int i = 0; i < n; i++) foreach (int t in graph.Operators[i].Outputs) if (t >= 0) producerOfTensor[t] = i;
            _deps = new int[n][];
            _born = new int[n][];
            _reads = new int[n][];
            _inPlace = new (int, int, long)[]?[n];
            bool branches = false;
            for (int i = 0; i < n; i++)
            {
                var op = graph.Operators[i];
                var inputs = op.Inputs.Where(Activation).ToArray();
                _deps[i] = inputs.Where(producerOfTensor.ContainsKey).Select(t => producerOfTensor[t]).Distinct().ToArray();
                _reads[i] = inputs.Select(t => _groupOf[t]).Distinct().ToArray();
                foreach (int g in _reads[i]) _consumers[g].Add(i);
                _born[i] = TensorLifetimes.IsAlias(op.Kind) ? Array.Empty<int>()
                    : op.Outputs.Where(Activation).Select(t => _groupOf[t]).Distinct().Where(g => !_reads[i].Contains(g)).ToArray();
                if (_deps[i].Length > 1) branches = true;
                var candidate = InPlace.Candidate(graph, op, depthwise, elementwise);
                if (candidate is not null && !TensorLifetimes.IsAlias(op.Kind))
                    _inPlace[i] = candidate.Value.Positions.Select(k => (_groupOf[op.Inputs[k]], _groupOf[op.Outputs[0]],
                        candidate.Value.Kind == InPlaceKind.Depthwise ? MemoryPlanner.Align(InPlace.DepthwiseScratchBytes(graph.Tensors[op.Inputs[k]])) : 0L)).ToArray();
            }
            HasBranches = branches || _consumers.Any(c => c.Distinct().Count() > 1);
            InitialLive = graph.Inputs.Where(t => t >= 0 && _groupOf[t] >= 0).Select(t => _groupOf[t]).Distinct().Sum(g => _groupBytes[g]);
        }

        public bool HasBranches { get; }
        public long InitialLive { get; }

        public bool Ready(bool[] done, int v) => _deps[v].All(d => done[d]);

        private bool DiesAt(bool[] done, int group, int v) => !_keep[group] && _consumers[group].All(c => c == v || done[c]);

        /// <summary>Bytes while operator v runs after the set done, and bytes live after it.</summary>
        public (long During, long After) Step(bool[] done, long live, int v)
        {
            long born = _born[v].Sum(g => _groupBytes[g]);
            long scratch = v < _scratch.Count ? MemoryPlanner.Align(_scratch[v]) : 0;
            long during = live + born + scratch;
            if (_inPlace[v] is { } options)
            {
                long saving = 0;
                foreach (var (input, output, extra) in options)
                    if (input != output && DiesAt(done, input, v))
                        saving = Math.Max(saving, Math.Min(_groupBytes[input], _groupBytes[output]) - extra);
                during -= saving;
            }
            long freed = _reads[v].Where(g => DiesAt(done, g, v)).Sum(g => _groupBytes[g])
                + _born[v].Where(g => !_keep[g] && _consumers[g].Count == 0).Sum(g => _groupBytes[g]);
            return (during, live + born - freed);
        }
    }
}
