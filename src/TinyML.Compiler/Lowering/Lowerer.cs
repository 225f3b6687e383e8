// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;

namespace TinyML.Compiler.Lowering;

/// <summary>
/// Lowers a validated model into an <see cref="ExecutionPlan"/>: one kernel call per operator (none for aliases)
/// with every parameter precomputed as TFLite's Prepare computes it, arena offsets from the memory planner, and
/// constants as blobs. Every shape a kernel relies on is checked here, so a hostile model is refused rather than
/// run out of bounds.
/// </summary>
public static partial class Lowerer
{
    /// <summary>Validates and lowers a model.</summary>
    public static Result<CompiledPlan> Lower(Model model, string? file = null) => Lower(model, file, LoweringOptions.Default);

    /// <summary>Validates and lowers a model with the given memory techniques.</summary>
    public static Result<CompiledPlan> Lower(Model model, string? file, LoweringOptions options)
    {
        var validation = ModelValidator.Validate(model, file);
        if (validation.Any(d => d.Severity == Severity.Error)) return new Result<CompiledPlan>(null, validation);
        var folded = options.FoldPads ? PadFolding.Fold(model.Main) : Unfolded(model.Main);
        TrainableHead? head = null;
        if (options.Train is not null)
        {
            var (found, problem) = TrainableHead.Find(folded.Graph, options.Train.BiasLayers);
            if (found is null)
                return new Result<CompiledPlan>(null, validation.Append(new Diagnostic(DiagnosticIds.ModelNotTrainable, Severity.Error,
                    $"the model cannot be trained (Train=\"{options.Train.Mode}\"): {problem}") { File = file }).ToList());
            head = found;
            folded = folded with { Graph = found.KeepingAlive(folded.Graph) };
        }
        var context = new Context(folded, file, options, model.Main.Outputs.Count, head);
        var plan = context.Run();
        var diagnostics = validation.Concat(context.Diagnostics.Ordered()).ToList();
        if (context.Diagnostics.HasErrors) return new Result<CompiledPlan>(null, diagnostics);
        // A call that does not match tml_kernels.h is a lowering bug: refused here, not found by the C compiler or at run time.
        var abi = PlanVerifier.VerifyCallDiagnostics(plan, file);
        return new Result<CompiledPlan>(abi.Count > 0 ? null : plan, diagnostics.Concat(abi).ToList());
    }

    private static FoldedGraph Unfolded(Graph graph) => new(graph, Enumerable.Range(0, graph.Operators.Count).ToList(), Array.Empty<int>());

    /// <summary>The scheduling part of the options (in-place operators and reordering).</summary>
    public static ScheduleOptions ScheduleOptionsOf(LoweringOptions options) =>
        new(options.InPlaceDepthwise && options.Rounding == RequantizationRounding.Tflite, options.InPlaceElementwise, options.Reorder);

    private sealed partial class Context
    {
        private readonly Graph _graph;
        // The model's index of each operator of _graph (PADs folded away): plans, reports and diagnostics use it.
        private readonly IReadOnlyList<int> _modelIndex;
        private readonly string? _file;
        private readonly CompiledPlan _plan = new();
        private readonly Dictionary<int, Pointer> _constants = new();
        private readonly Dictionary<int, long> _arenaOffset = new();
        private readonly Dictionary<int, long> _stateOffset = new();
        private readonly long[] _scratchOffset;
        private readonly LoweringOptions _options;
        private readonly Dictionary<int, InPlacePair> _inPlace = new();
        private IReadOnlyList<int> _order = Array.Empty<int>();
        // Weight tensors whose packed int8 weights are widened to int16 (WeightWidening), chosen before anything is sized.
        private HashSet<int> _widened = new();
        private int _op;

        // The graph's own outputs: training appends the tensors it keeps alive after them.
        private readonly int _outputCount;

        public Context(FoldedGraph folded, string? file, LoweringOptions options, int outputCount, TrainableHead? head)
        {
            _outputCount = outputCount;
            var graph = folded.Graph;
            _graph = graph;
            _modelIndex = folded.OriginalIndex;
            _file = file;
            _options = options;
            _scratchOffset = new long[graph.Operators.Count];
            _plan.Target = options.Target;
            if (head is not null) PlaceTrainedTensors(head, options.Train!);
        }

        public DiagnosticBag Diagnostics { get; } = new();

        private static OperatorException Fail(string message) => new(message);

        public CompiledPlan Run()
        {
            var scratch = new long[_graph.Operators.Count];
            _widened = WeightWidening.Choose(_graph, _options, op => OperatorRegistry.Of(op.Kind)?.PackedMatrixWeights(Lowering, op));
            for (int i = 0; i < _graph.Operators.Count; i++)
            {
                _op = i;
                try
                {
                    scratch[i] = ScratchBytes(_graph.Operators[i]);
                }
                catch (OperatorException e)
                {
                    Report(e.Message);
                }
            }
            if (Diagnostics.HasErrors) return _plan;
            if (!PlanPatches(scratch)) PlanMemory(scratch);
            if (Diagnostics.HasErrors) return _plan;
            EmitPatches();
            foreach (int i in _order)
            {
                _op = i;
                try
                {
                    LowerOperator(_graph.Operators[i]);
                }
                catch (OperatorException e)
                {
                    Report(e.Message);
                }
            }
            foreach (int t in _graph.Inputs) _plan.Inputs.Add(Describe(t));
            foreach (int t in _graph.Outputs.Take(_outputCount)) _plan.Outputs.Add(Describe(t));
            if (_training is not null && !Diagnostics.HasErrors) LowerTraining();
            ToModelIndices();
            return _plan;
        }

        /// <summary>The memory layout's and patch report's operators as the model's indices (they differ when PADs were folded).</summary>
        private void ToModelIndices()
        {
            if (_modelIndex.Select((m, i) => m == i).All(x => x)) return;
            List<int> Map(IEnumerable<int> ops) => ops.Select(op => op >= 0 && op < _modelIndex.Count ? _modelIndex[op] : op).ToList();
            if (_plan.Memory is { } memory)
                _plan.Memory = memory with
                {
                    Order = Map(memory.Order),
                    OperatorOfStep = memory.OperatorOfStep is { } steps ? Map(steps) : null,
                    InPlace = memory.InPlace.Select(p => p with { Operator = _modelIndex[p.Operator] }).ToList(),
                };
            // A split after k operators is a split after the model's operator that the k-th one is.
            int Split(int k) => k > 0 && k <= _modelIndex.Count ? _modelIndex[k - 1] + 1 : k;
            if (_plan.Patches is { } patches)
                _plan.Patches = patches with
                {
                    PrefixOperators = patches.Applied ? Split(patches.PrefixOperators) : patches.PrefixOperators,
                    Front = patches.Front.Select(p => p with { PrefixOperators = Split(p.PrefixOperators) }).ToList(),
                };
        }

        private void Report(string message) => Diagnostics.Add(new Diagnostic(DiagnosticIds.InvalidOperator, Severity.Error, message)
        {
            File = _file, OperatorIndex = _modelIndex[_op], OperatorType = _graph.Operators[_op].TypeName,
        });

        private PlanTensor Describe(int t)
        {
            var tensor = _graph.Tensors[t];
            var q = tensor.Quantization;
            long offset = _arenaOffset.TryGetValue(t, out long o) ? o : -1;
            return new PlanTensor(tensor.Name, tensor.Type, tensor.Shape, offset, tensor.Bytes,
                q is { HasScales: true } ? q.Scale : 0f, q?.ZeroPoint ?? 0);
        }

        private void PlanMemory(long[] scratch)
        {
            var schedule = MemoryScheduler.Schedule(_graph, scratch, ScheduleOptionsOf(_options));
            foreach (var pair in schedule.TensorOffsets) _arenaOffset[pair.Key] = pair.Value;
            foreach (var pair in schedule.ScratchOffsets) _scratchOffset[pair.Key] = pair.Value;
            foreach (var pair in schedule.InPlace) _inPlace[pair.Operator] = pair;
            _order = schedule.Order;
            _plan.ArenaBytes = schedule.Arena.ArenaBytes;
            _plan.Memory = new MemoryLayout(schedule.Arena, schedule.Arena.Buffers.Where(b => b.Name.StartsWith("scratch of operator", StringComparison.Ordinal)).Sum(b => b.Bytes))
            {
                Order = schedule.Order,
                InPlace = schedule.InPlace,
            };
            long state = 0;
            foreach (int t in schedule.StateTensors)
            {
                _stateOffset[t] = state;
                state += MemoryPlanner.Align(_graph.Tensors[t].Bytes);
            }
            _plan.StateBytes = state;
        }

        // ---- tensors and arguments -------------------------------------------------------------------------

        private Tensor T(int index) => _graph.Tensors[index];

        /// <summary>The pointer to a tensor's bytes: a constant blob, the state region or the arena.</summary>
        private Pointer Ptr(int index)
        {
            if (index < 0) return Pointer.Null;
            var tensor = T(index);
            if (_parameterOffset.TryGetValue(index, out long parameter)) return Pointer.Parameters(parameter);
            if (tensor.Data is { } data)
            {
                if (!_constants.TryGetValue(index, out var pointer))
                {
                    pointer = _plan.AddConstant(data.ToArray());
                    _constants[index] = pointer;
                }
                return pointer;
            }
            if (_stateOffset.TryGetValue(index, out long state)) return Pointer.State(state);
            return Pointer.Arena(_arenaOffset[index]);
        }

        // Operators whose MACs a call already carries: an operator lowered to several calls counts once, and the
        // copies that patch-based inference adds around an operator count none.
        private readonly HashSet<int> _macsCounted = new();

        private void Call(string kernel, string comment, params Arg[] args)
        {
            var op = _graph.Operators[_op];
            long macs = _macsCounted.Add(_op) ? Analysis.Macs.Of(_graph, op) : 0;
            _plan.Calls.Add(new KernelCall(_modelIndex[_op], op.TypeName, kernel, args, comment, macs));
        }
    }
}
