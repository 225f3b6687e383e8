// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Compiler.Planning.Patches;
using TinyML.Compiler.Validation;
using static TinyML.Compiler.Operators.KernelArgs;
using static TinyML.Compiler.Operators.LoweringChecks;

namespace TinyML.Compiler.Lowering;

/// <summary>
/// Patch-based inference (MCUNetV2): the first operators run tile by tile. Each prefix operator is lowered once
/// as usual, and that call is then re-targeted per patch to the tile buffers, with the tile's dimensions and the
/// padding that remains at true image borders only. See docs/patches.md.
/// </summary>
public static partial class Lowerer
{
    /// <summary>
    /// Lowers with a given split and grid instead of the planner's choice (tests and the bench use it to run any
    /// candidate). <paramref name="prefixOperators"/> must be one of <see cref="PatchGraph.Splits"/>;
    /// <paramref name="transposeWhole"/> runs the input TRANSPOSE whole before the patches (<see cref="PatchGraph.WithTransposeWhole"/>)
    /// instead of folding it into the tile cut; <paramref name="stemInPlace"/> runs the first convolution whole over its
    /// input and patches from its output (<see cref="PatchGraph.WithStemInPlace"/>; <paramref name="prefixOperators"/>
    /// then counts from the stem's output).
    /// </summary>
    public static Result<CompiledPlan> LowerWithPatches(Model model, string? file, int prefixOperators, int rows, int columns, bool transposeWhole = false,
        bool stemInPlace = false)
    {
        var validation = ModelValidator.Validate(model, file);
        if (validation.Any(d => d.Severity == Severity.Error)) return new Result<CompiledPlan>(null, validation);
        var context = new Context(Unfolded(model.Main), file, LoweringOptions.None, model.Main.Outputs.Count, head: null) { ForcedPatch = (prefixOperators, rows, columns, transposeWhole, stemInPlace) };
        var plan = context.Run();
        var diagnostics = validation.Concat(context.Diagnostics.Ordered()).ToList();
        return new Result<CompiledPlan>(context.Diagnostics.HasErrors ? null : plan, diagnostics);
    }

    private sealed partial class Context
    {
        private PatchCandidate? _patches;

        /// <summary>A split and grid to use instead of choosing one.</summary>
        public (int Operators, int Rows, int Columns, bool TransposeWhole, bool StemInPlace)? ForcedPatch { get; init; }

        /// <summary>Chooses patches and, when they apply, lays out the patched arena. False: plan layer by layer.</summary>
        private bool PlanPatches(long[] scratch)
        {
            if (ForcedPatch is { } forced)
            {
                var analyzed = PatchGraph.Analyze(_graph);
                var graph = forced.TransposeWhole ? analyzed.WithTransposeWhole() : forced.StemInPlace ? (StemWritesInRasterOrder() ? PatchGraph.WithStemInPlace(_graph) : null) : analyzed;
                string? problem = null;
                PatchCandidate? candidate = null;
                if (graph is null)
                    problem = (forced.StemInPlace
                        ? "the first operator cannot run in place before the patches: it is not an int8 CONV_2D that alone reads graph input 0, takes the im2col kernel and is followed by operators that run on tiles"
                        : "the input TRANSPOSE cannot run whole before the patches: the graph has no TRANSPOSE from NCHW to NHWC as operator 0 followed by operators that run on tiles")
                        + (analyzed.StopReason.Length > 0 ? $" (tiles stop at {analyzed.StopReason})" : "");
                else if (!graph.Splits.Contains(forced.Operators))
                    problem = $"a split after {forced.Operators} operators is not valid for this graph (valid splits: {string.Join(", ", graph.Splits)})";
                else if ((candidate = PatchPlanner.Evaluate(graph, forced.Operators, forced.Rows, forced.Columns, scratch)) is null)
                    problem = $"a {forced.Rows}x{forced.Columns} grid does not fit the stage output {T(graph.Ops[forced.Operators - 1].Output).Shape} after {forced.Operators} operators, or leaves a tile empty";
                if (problem is not null)
                {
                    Diagnostics.Add(new Diagnostic(DiagnosticIds.PatchNotApplicable, Severity.Error, problem) { File = _file });
                    return true;
                }
                _patches = candidate!;
                _plan.Patches = PatchPlanner.Report(candidate!, PatchPlanner.Unpatched(_graph, scratch).ArenaBytes, PatchPlanner.Macs(_graph), 1);
            }
            else
            {
                if (_options.Patch == PatchMode.Off) return false;
                // Patches must beat the plan the other techniques give without them.
                long withoutPatches = MemoryScheduler.Schedule(_graph, scratch, ScheduleOptionsOf(_options)).Arena.ArenaBytes;
                var (chosen, report) = PatchPlanner.Choose(_graph, scratch, _options.Patch, _options.RamBudget, withoutPatches, StemWritesInRasterOrder());
                _plan.Patches = report;
                if (chosen is null) return false;
                _patches = chosen;
            }
            var arena = _patches.Arena;
            var problems = PlanVerifier.Verify(arena);
            if (problems.Count > 0) throw new System.InvalidOperationException("patched memory plan failed verification: " + string.Join("; ", problems));
            var memory = _patches.Memory;
            foreach (var pair in memory.WholeBufferOfTensor)
                _arenaOffset[pair.Key] = arena.Offsets[pair.Value] + (memory.OffsetInBuffer.TryGetValue(pair.Key, out long inside) ? inside : 0);
            // Prefix-internal tensors have no whole buffer; their tile stands in while the prefix is lowered.
            foreach (var pair in memory.TileBufferOfTensor)
                if (!_arenaOffset.ContainsKey(pair.Key)) _arenaOffset[pair.Key] = arena.Offsets[pair.Value];
            foreach (var pair in memory.ScratchBufferOfOperator) _scratchOffset[pair.Key] = arena.Offsets[pair.Value];
            _plan.ArenaBytes = arena.ArenaBytes;
            _plan.Memory = new MemoryLayout(arena, scratch.Sum())
            {
                OperatorOfStep = memory.OperatorOfStep,
                Order = Enumerable.Range(0, _graph.Operators.Count).ToList(),
            };
            _plan.ExtraMacs = _plan.Patches!.MacsAfter - _plan.Patches.MacsBefore;
            // The prefix (after the input TRANSPOSE: folded, it runs no call of its own; whole, EmitPatches runs it
            // first) is emitted patch by patch; the operators after it follow in graph order.
            int prefixEnd = _patches.Schedule.Graph.FirstOperator + _patches.Schedule.Operators;
            _order = Enumerable.Range(prefixEnd, _graph.Operators.Count - prefixEnd).ToList();
            long state = 0;
            foreach (int t in TensorLifetimes.Compute(_graph).StateTensors)
            {
                _stateOffset[t] = state;
                state += MemoryPlanner.Align(_graph.Tensors[t].Bytes);
            }
            _plan.StateBytes = state;
            return true;
        }

        /// <summary>Whether operator 0's kernel may write over its own input (<see cref="Convolution.WritesInRasterOrder"/>).</summary>
        private bool StemWritesInRasterOrder()
        {
            if (_graph.Operators.Count == 0) return false;
            _op = 0;
            return Convolution.WritesInRasterOrder(Lowering, _graph.Operators[0]);
        }

        /// <summary>Emits the prefix patch by patch (nothing without patches).</summary>
        private void EmitPatches()
        {
            if (_patches is null) return;
            var schedule = _patches.Schedule;
            // Operators that run whole before the patches (a whole input TRANSPOSE): their ordinary calls.
            for (int i = 0; i < schedule.Graph.WholeBefore; i++)
            {
                _op = i;
                try
                {
                    LowerOperator(_graph.Operators[_op]);
                }
                catch (OperatorException e)
                {
                    Report(e.Message);
                }
            }
            int k = schedule.Operators;
            var templates = new KernelCall?[k];
            for (int j = 0; j < k; j++)
            {
                _op = schedule.Ops[j].Index;
                int before = _plan.Calls.Count;
                try
                {
                    LowerOperator(_graph.Operators[_op]);
                    // An alias runs no call; every other prefix operator is one call, re-targeted per patch.
                    int expected = schedule.Ops[j].Shape == PatchOpShape.Alias ? 0 : 1;
                    if (_plan.Calls.Count != before + expected) throw Fail("patch-based inference needs exactly one kernel call per prefix operator");
                    templates[j] = expected == 1 ? _plan.Calls[before] : null;
                }
                catch (OperatorException e)
                {
                    Report(e.Message);
                }
                _plan.Calls.RemoveRange(before, _plan.Calls.Count - before);
            }
            if (Diagnostics.HasErrors) return;
            foreach (var patch in schedule.Patches)
            {
                try
                {
                    EmitPatch(schedule, patch, templates);
                }
                catch (OperatorException e)
                {
                    Report(e.Message);
                    return;
                }
            }
        }

        private Pointer Tile(int tensor) => Pointer.Arena(_patches!.Arena.Offsets[_patches.Memory.TileBufferOfTensor[tensor]]);

        private void EmitPatch(PatchSchedule schedule, Patch patch, KernelCall?[] templates)
        {
            var memory = _patches!.Memory;
            string where = $"patch ({patch.Row},{patch.Column}) of {schedule.Rows}x{schedule.Columns}";
            int input = schedule.Graph.Input;
            var inputBox = patch.Regions[input];
            var inputShape = T(input).Shape;
            if (schedule.Graph.InputTranspose >= 0)
            {
                _op = schedule.Graph.InputTranspose;
                CutNchw(schedule.Graph.Source, inputBox, Tile(input), $"{where}: cut input {inputBox} from NCHW");
            }
            else
            {
                _op = schedule.Ops[0].Index;
                CopyWindow(Ptr(input), inputShape[1], inputShape[2], inputBox.Y0, inputBox.X0, Tile(input), inputBox.Height, inputBox.Width, 0, 0,
                    inputBox, input, $"{where}: cut input {inputBox}");
            }
            for (int j = 0; j < schedule.Ops.Count; j++)
            {
                var op = schedule.Ops[j];
                _op = op.Index;
                var step = patch.Steps[j];
                if (op.Shape == PatchOpShape.Alias)
                {
                    // Same bytes: nothing to do when the tiles are one buffer, else the needed window is copied over.
                    int from = op.Inputs[0];
                    var held = patch.Regions[from];
                    if (Tile(from) != Tile(op.Output))
                        CopyWindow(Tile(from), held.Height, held.Width, step.Needs[0].Y0 - held.Y0, step.Needs[0].X0 - held.X0, Tile(op.Output), step.Output.Height, step.Output.Width, 0, 0,
                            step.Output, from, $"{where}: {_graph.Operators[op.Index].TypeName} tile {step.Output}");
                    continue;
                }
                var operands = new List<(Pointer Pointer, Box Box)>();
                for (int s = 0; s < op.Inputs.Count; s++)
                {
                    int t = op.Inputs[s];
                    var region = patch.Regions[t];
                    var need = step.Needs[s];
                    if (memory.CropBuffer.TryGetValue((j, s), out int crop))
                    {
                        var cropPointer = Pointer.Arena(_patches.Arena.Offsets[crop]);
                        CopyWindow(Tile(t), region.Height, region.Width, need.Y0 - region.Y0, need.X0 - region.X0, cropPointer, need.Height, need.Width, 0, 0,
                            need, t, $"{where}: crop input {s} to {need}");
                        operands.Add((cropPointer, need));
                    }
                    else
                    {
                        Expect(need == region, $"{where}: input {s} needs {need} but its tile holds {region}");
                        operands.Add((Tile(t), need));
                    }
                }
                _plan.Calls.Add(Retarget(templates[j]!, op, operands, Tile(op.Output), step.Output, $"{where}: {templates[j]!.Comment} on {step.Output}")
                    with { Macs = WindowMacs(op, step.Output) });
            }
            int stage = schedule.StageOutput;
            var stageShape = T(stage).Shape;
            var cell = patch.Cell;
            CopyWindow(Tile(stage), cell.Height, cell.Width, 0, 0, Ptr(stage), stageShape[1], stageShape[2], cell.Y0, cell.X0,
                cell, stage, $"{where}: write stage output {cell}");
        }

        /// <summary>
        /// The MACs of an operator on one output window: its MACs per output pixel (the operator's MACs over its output
        /// area) times the window's area, so the steps of all patches add up to the operator's MACs plus the halos.
        /// </summary>
        private long WindowMacs(PatchOp op, Box window)
        {
            var shape = T(op.Output).Shape;
            long pixels = (long)shape[1] * shape[2];
            long macs = Analysis.Macs.Of(_graph, _graph.Operators[op.Index]);
            Expect(pixels > 0 && macs % pixels == 0, $"the MACs of operator {op.Index} ({macs}) are not a whole number per output pixel");
            return macs / pixels * window.Area;
        }

        private void CopyWindow(Pointer from, int fromH, int fromW, int fromY, int fromX, Pointer to, int toH, int toW, int toY, int toX, Box window, int tensor, string comment) =>
            Call("tml_copy_window", comment, Arg.Struct("tml_copy_window_params",
                    Field.I("height", window.Height), Field.I("width", window.Width), Field.I("channels", T(tensor).Shape[3]),
                    Field.I("input_h", fromH), Field.I("input_w", fromW), Field.I("input_y", fromY), Field.I("input_x", fromX),
                    Field.I("output_h", toH), Field.I("output_w", toW), Field.I("output_y", toY), Field.I("output_x", toX)),
                Arg.Int32(ElementSize(T(tensor))), Arg.Ptr(from), Arg.Ptr(to));

        /// <summary>
        /// Cuts a box of an NCHW tensor into a dense NHWC tile: tml_transpose's strided gather, started at the box's
        /// first element of channel 0, with the NCHW strides in NHWC order ([0, 2, 3, 1]).
        /// </summary>
        private void CutNchw(int source, Box box, Pointer tile, string comment)
        {
            var shape = T(source).Shape; // [1, C, H, W]
            int channels = shape[1], height = shape[2], width = shape[3], size = ElementSize(T(source));
            var nchw = Ptr(source);
            Call("tml_transpose", comment, Arg.Struct("tml_transpose_params",
                    new[] { Field.I("rank", 4) }.Concat(FieldArray("output_dims", new[] { 1, box.Height, box.Width, channels }))
                        .Concat(FieldArray("input_strides", new[] { channels * height * width, width, 1, height * width })).ToArray()),
                Arg.Int32(size), Arg.Ptr(nchw with { Offset = nchw.Offset + ((long)box.Y0 * width + box.X0) * size }), Arg.Ptr(tile));
        }

        private static int[] TileShape(Box box, int channels) => new[] { 1, box.Height, box.Width, channels };

        /// <summary>The layer-by-layer call of a prefix operator, pointed at tiles with the tiles' shapes and paddings.</summary>
        private KernelCall Retarget(KernelCall template, PatchOp op, IReadOnlyList<(Pointer Pointer, Box Box)> inputs, Pointer output, Box outputBox, string comment)
        {
            var args = template.Args.ToArray();
            var outputShape = TileShape(outputBox, T(op.Output).Shape[3]);
            var inputShape = TileShape(inputs[0].Box, T(op.Inputs[0]).Shape[3]);
            Arg Pads(Arg parameters) => parameters with
            {
                Fields = parameters.Fields.Select(f => f.Name switch
                {
                    "pad_h" => Field.I("pad_h", op.WindowH.TilePad(outputBox.Y0)),
                    "pad_w" => Field.I("pad_w", op.WindowW.TilePad(outputBox.X0)),
                    _ => f,
                }).ToArray(),
            };
            // Slots by parameter name in tml_kernels.h (KernelAbi), so a reordered prototype cannot retarget the wrong argument.
            var prototype = KernelAbi.Prototype(template.Kernel);
            int Slot(string parameter) => prototype!.Slot(parameter);
            switch (template.Kernel)
            {
                case "tml_conv_s8" or "tml_conv_s8_packed" or "tml_depthwise_conv_s8" or "tml_conv_f32" or "tml_conv_f32_packed" or "tml_depthwise_conv_f32"
                    or "tml_conv_s8_float_requant" or "tml_depthwise_conv_s8_float_requant" or "tml_avg_pool_s8" or "tml_max_pool_s8" or "tml_avg_pool_f32" or "tml_max_pool_f32":
                    args[Slot("params")] = Pads(args[Slot("params")]);
                    args[Slot("input_dims")] = Dims(inputShape);
                    args[Slot("input")] = Arg.Ptr(inputs[0].Pointer);
                    args[Slot("output_dims")] = Dims(outputShape);
                    args[Slot("output")] = Arg.Ptr(output);
                    break;
                case "tml_fully_connected_s8_packed":
                    // A 1x1 stride-1 convolution (PackedMatrix): the tile's pixels are the rows.
                    Expect(inputs[0].Box == outputBox, $"a pointwise convolution's input tile {inputs[0].Box} differs from its output tile {outputBox}");
                    args[Slot("batches")] = Arg.Int32(checked((int)outputBox.Area));
                    args[Slot("input")] = Arg.Ptr(inputs[0].Pointer);
                    args[Slot("output")] = Arg.Ptr(output);
                    break;
                case "tml_pad":
                    // Height and width padding only (Pad.PatchWindows): what the tile does not read of the image is the PAD's border.
                    int top = op.WindowH.TilePad(outputBox.Y0), left = op.WindowW.TilePad(outputBox.X0);
                    var box = inputs[0].Box;
                    Expect(outputBox.Height - top - box.Height >= 0 && outputBox.Width - left - box.Width >= 0, $"the PAD tile {outputBox} does not hold its input {box}");
                    args[Slot("params")] = Arg.Struct("tml_pad_params", new[] { Field.I("rank", 4) }.Concat(FieldArray("input_dims", inputShape))
                        .Concat(FieldArray("pad_before", new[] { 0, top, left, 0 }))
                        .Concat(FieldArray("pad_after", new[] { 0, outputBox.Height - top - box.Height, outputBox.Width - left - box.Width, 0 })).ToArray());
                    args[Slot("input")] = Arg.Ptr(inputs[0].Pointer);
                    args[Slot("output")] = Arg.Ptr(output);
                    break;
                case "tml_add_s8" or "tml_sub_s8" or "tml_mul_s8" or "tml_add_f32":
                {
                    var strides = new[] { 0, outputShape[1] == 1 ? 0 : outputShape[2] * outputShape[3], outputShape[2] == 1 ? 0 : outputShape[3], outputShape[3] == 1 ? 0 : 1 };
                    var shape = args[Slot("shape")];
                    int[] StridesOf(string name) => Enumerable.Range(0, 4).Select(d => shape.Fields.Single(f => f.Name == $"{name}[{d}]").Int).ToArray();
                    // Tiles take dense tile strides; a per-channel or scalar constant keeps its pointer and its
                    // layer-by-layer strides, which are 0 along height and width.
                    var graphInputs = _graph.Operators[op.Index].Inputs;
                    int next = 0;
                    var operandStrides = new int[2][];
                    for (int s = 0; s < 2; s++)
                    {
                        string name = $"input{s + 1}";
                        if (next < op.Inputs.Count && graphInputs[s] == op.Inputs[next])
                        {
                            args[Slot(name)] = Arg.Ptr(inputs[next++].Pointer);
                            operandStrides[s] = strides;
                        }
                        else operandStrides[s] = StridesOf($"{name}_strides");
                    }
                    Expect(next == op.Inputs.Count, $"operator {op.Index}'s tiled operands are not its kernel's inputs");
                    args[Slot("shape")] = Arg.Struct("tml_broadcast_shape", new[] { Field.I("rank", 4) }.Concat(FieldArray("output_dims", outputShape))
                        .Concat(FieldArray("input1_strides", operandStrides[0])).Concat(FieldArray("input2_strides", operandStrides[1])).ToArray());
                    args[Slot("output")] = Arg.Ptr(output);
                    break;
                }
                default:
                    // Unary int8 kernels: (params, input, size, output).
                    Expect(prototype is not null && prototype.Parameters.Select(p => p.Name).SequenceEqual(new[] { "params", "input", "size", "output" })
                        && args.Length == 4 && args[1].Kind == ArgKind.Pointer && args[2].Kind == ArgKind.Int32 && args[3].Kind == ArgKind.Pointer,
                        $"{template.Kernel} cannot run on tiles");
                    args[Slot("input")] = Arg.Ptr(inputs[0].Pointer);
                    args[Slot("size")] = Arg.Int32(checked((int)(outputBox.Area * outputShape[3])));
                    args[Slot("output")] = Arg.Ptr(output);
                    break;
            }
            return template with { Args = args, Comment = comment };
        }
    }
}
