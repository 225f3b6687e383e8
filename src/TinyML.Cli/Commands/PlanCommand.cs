// SPDX-License-Identifier: Apache-2.0
using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;

namespace TinyML.Cli.Commands;

/// <summary><c>tinyml plan MODEL [--json]</c>: the arena plan, its lower bound and the per-operator memory profile.</summary>
public static class PlanCommand
{
    /// <summary>The JSON schema identifier; docs/cli.md documents it.</summary>
    public const string JsonSchema = "tinyml.plan/1";

    /// <summary>Creates the command.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .tflite model to plan" };
        var json = new Option<bool>("--json") { Description = "Print JSON (schema tinyml.plan/1) instead of a table" };
        var command = new Command("plan", "Plan the model's memory: arena, lower bound, tensor placement") { model, json };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(json), stdout, stderr));
        return command;
    }

    /// <summary>Plans one model; returns the exit code.</summary>
    public static int Run(FileInfo file, bool json, TextWriter stdout, TextWriter stderr)
    {
        var (model, plan) = ModelCompilation.Compile(file, stderr);
        if (model is null || plan?.Memory is null) return Cli.ModelErrors;
        var graph = model.Main;
        var live = plan.Memory.LiveBytesPerOperator(graph.Operators.Count);
        long weights = ModelSummary.Of(model).WeightsBytes;
        if (json) WriteJson(stdout, file, graph, plan, live, weights);
        else WriteTable(stdout, file, graph, plan, live, weights);
        return 0;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void WriteTable(TextWriter o, FileInfo file, Graph graph, ExecutionPlan plan, System.Collections.Generic.IReadOnlyList<long> live, long weights)
    {
        var arena = plan.Memory!.Arena;
        o.WriteLine($"{file.Name}: arena {N(plan.ArenaBytes)} B, lower bound {N(arena.LowerBoundBytes)} B" +
            (arena.GapBytes == 0 ? " (reached)" : $" (gap {N(arena.GapBytes)} B)") +
            $", state {N(plan.StateBytes)} B, scratch {N(plan.Memory.ScratchBytes)} B");
        o.WriteLine($"flash: weights {N(weights)} B, constants with precomputed parameters {N(plan.ConstantBytes)} B");
        o.WriteLine($"placement: {arena.Method}; peak at operator {arena.PeakOperator} ({graph.Operators[Math.Max(0, arena.PeakOperator)].TypeName})");
        o.WriteLine();
        long peak = Math.Max(1, live.DefaultIfEmpty(0).Max());
        const int width = 40;
        for (int i = 0; i < graph.Operators.Count; i++)
        {
            int bar = (int)Math.Round(width * (double)live[i] / peak);
            o.WriteLine($"{i,3} {graph.Operators[i].TypeName,-20} {N(live[i]),10} B |{new string('#', bar)}{new string(' ', width - bar)}|");
        }
    }

    private static void WriteJson(TextWriter o, FileInfo file, Graph graph, ExecutionPlan plan, System.Collections.Generic.IReadOnlyList<long> live, long weights)
    {
        var arena = plan.Memory!.Arena;
        JsonOutput.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("schema", JsonSchema);
            w.WriteString("model", file.FullName);
            w.WriteNumber("arena_bytes", plan.ArenaBytes);
            w.WriteNumber("lower_bound_bytes", arena.LowerBoundBytes);
            w.WriteNumber("gap_bytes", arena.GapBytes);
            w.WriteNumber("scratch_bytes", plan.Memory.ScratchBytes);
            w.WriteNumber("state_bytes", plan.StateBytes);
            w.WriteNumber("weights_bytes", weights);
            w.WriteNumber("constant_bytes", plan.ConstantBytes);
            w.WriteString("placement", arena.Method);
            w.WriteStartObject("peak_op");
            w.WriteNumber("index", arena.PeakOperator);
            w.WriteString("type", arena.PeakOperator >= 0 ? graph.Operators[arena.PeakOperator].TypeName : "");
            w.WriteEndObject();
            w.WriteStartArray("ops");
            for (int i = 0; i < graph.Operators.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("type", graph.Operators[i].TypeName);
                w.WriteNumber("live_bytes", live[i]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("tensors");
            for (int b = 0; b < arena.Buffers.Count; b++)
            {
                var buffer = arena.Buffers[b];
                w.WriteStartObject();
                w.WriteString("name", buffer.Name);
                w.WriteNumber("bytes", buffer.Bytes);
                w.WriteNumber("offset", arena.Offsets[b]);
                w.WriteNumber("first_op", buffer.FirstOp);
                w.WriteNumber("last_op", buffer.LastOp);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}
