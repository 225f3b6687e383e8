// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Plan;

/// <summary>
/// The versioned container (.tmlmodel) of an execution plan and its constants, in protobuf wire format.
/// docs/plan-format.md gives the messages, field numbers and versions. Reading checks the magic and the format version and turns every
/// malformed input into TML3010. The wire format is our own few lines (<see cref="ProtoWriter"/>,
/// <see cref="ProtoReader"/>), so that an app running a plan needs no protobuf library.
/// </summary>
public static class PlanContainer
{
    /// <summary>The first field of every container.</summary>
    public const string Magic = "tinyml-plan";

    /// <summary>Serializes a plan.</summary>
    public static byte[] Write(ExecutionPlan plan)
    {
        var o = new ProtoWriter();
        o.String(1, Magic);
        // A plan without training stays readable by the SDKs that wrote version 2.
        o.Int32(2, plan.Training is null ? 2 : ExecutionPlan.FormatVersion);
        o.Int64(3, plan.ArenaBytes);
        o.Int64(4, plan.StateBytes);
        foreach (var blob in plan.Constants) o.Bytes(5, blob);
        foreach (var call in plan.Calls) o.Message(6, w => WriteCall(w, call));
        foreach (var tensor in plan.Inputs) o.Message(7, w => WriteTensor(w, tensor));
        foreach (var tensor in plan.Outputs) o.Message(8, w => WriteTensor(w, tensor));
        o.String(9, plan.Target);
        if (plan.Training is { } t) o.Message(10, w =>
        {
            w.Bytes(1, t.InitialParameters);
            w.String(2, t.Mode);
            w.Int32(3, t.Classes);
            w.Float(4, t.LearningRate);
            w.Int64(5, t.ControlOffset);
            w.Int64(6, t.ExportOffset);
            w.Int64(7, t.ExportBytes);
            w.Int64(8, t.TrainedValues);
            w.Int64(9, t.Fingerprint);
            foreach (var call in t.Step) w.Message(10, c => WriteCall(c, call));
            foreach (var call in t.Apply) w.Message(11, c => WriteCall(c, call));
        });
        return o.ToArray();
    }

    private static void WriteCall(ProtoWriter w, KernelCall call)
    {
        w.Int32(1, call.OperatorIndex);
        w.String(2, call.OperatorType);
        w.String(3, call.Kernel);
        w.String(4, call.Comment);
        foreach (var arg in call.Args) w.Message(5, a => WriteArg(a, arg));
        w.Int64(6, call.Macs);
    }

    private static TrainingPlan ReadTraining(ProtoReader input)
    {
        var t = new TrainingPlan();
        Fields(input, (n, i) =>
        {
            switch (n)
            {
                case 1: t.InitialParameters = i.Bytes(); break;
                case 2: t.Mode = i.String(); break;
                case 3: t.Classes = i.Int32(); break;
                case 4: t.LearningRate = i.Float(); break;
                case 5: t.ControlOffset = i.Int64(); break;
                case 6: t.ExportOffset = i.Int64(); break;
                case 7: t.ExportBytes = i.Int64(); break;
                case 8: t.TrainedValues = i.Int64(); break;
                case 9: t.Fingerprint = (uint)i.Int64(); break;
                case 10: t.Step.Add(ReadCall(i.Message())); break;
                case 11: t.Apply.Add(ReadCall(i.Message())); break;
                default: i.Skip(); break;
            }
        });
        long size = t.InitialParameters.Length;
        if (t.Classes <= 0 || t.ControlOffset < 0 || t.ControlOffset + TrainingPlan.ControlWords * 4 > size ||
            t.ExportOffset < 0 || t.ExportBytes < 0 || t.ExportOffset + t.ExportBytes > size)
            throw new InvalidDataException("the training section's layout does not fit its parameter region");
        return t;
    }

    private static void WritePointer(ProtoWriter o, int field, Pointer p) => o.Message(field, w =>
    {
        w.Int32(1, (int)p.Region);
        w.Int64(2, p.Offset);
        w.Int32(3, p.Blob);
    });

    private static void WriteArg(ProtoWriter o, Arg arg)
    {
        o.Int32(1, (int)arg.Kind);
        WritePointer(o, 2, arg.Pointer);
        o.Int32(3, arg.Int);
        if (arg.StructType is not null) o.String(4, arg.StructType);
        foreach (var f in arg.Fields) o.Message(5, w =>
        {
            w.String(1, f.Name);
            w.Int32(2, (int)f.Type);
            w.Int32(3, f.Int);
            w.Float(4, f.Float);
            WritePointer(w, 5, f.Pointer);
        });
        foreach (var p in arg.Pointers) WritePointer(o, 6, p);
    }

    private static void WriteTensor(ProtoWriter o, PlanTensor t)
    {
        o.String(1, t.Name);
        o.Int32(2, (int)t.Type);
        foreach (int d in t.Shape) o.Int32(3, d);
        o.Int64(4, t.Offset);
        o.Int64(5, t.Bytes);
        o.Float(6, t.Scale);
        o.Int32(7, t.ZeroPoint);
    }

    /// <summary>Reads a container; a malformed one gives TML3010.</summary>
    public static Result<ExecutionPlan> Read(byte[] bytes, string? file = null)
    {
        try
        {
            var plan = new ExecutionPlan();
            string? magic = null;
            string? target = null;
            int version = -1;
            var input = new ProtoReader(bytes);
            int field;
            while ((field = input.NextField()) != 0)
            {
                switch (field)
                {
                    case 1: magic = input.String(); break;
                    case 2: version = input.Int32(); break;
                    case 3: plan.ArenaBytes = input.Int64(); break;
                    case 4: plan.StateBytes = input.Int64(); break;
                    case 5: plan.Constants.Add(input.Bytes()); break;
                    case 6: plan.Calls.Add(ReadCall(input.Message())); break;
                    case 7: plan.Inputs.Add(ReadTensor(input.Message())); break;
                    case 8: plan.Outputs.Add(ReadTensor(input.Message())); break;
                    case 9: target = input.String(); break;
                    case 10: plan.Training = ReadTraining(input.Message()); break;
                    default: input.Skip(); break;
                }
            }
            if (magic != Magic) return Fail("not a TinyML plan container", file);
            if (version < ExecutionPlan.OldestFormatVersion || version > ExecutionPlan.FormatVersion)
                return Fail($"plan format version {version}; this TinyML.Sdk reads versions {ExecutionPlan.OldestFormatVersion} to {ExecutionPlan.FormatVersion}" +
                    (version > ExecutionPlan.FormatVersion ? " (the plan was written by a newer TinyML.Sdk: update it, or compile the model again)" : ""), file);
            // Version 1 had no target (every plan was a host plan) and no MACs (they read as 0).
            if (version >= 2 && string.IsNullOrEmpty(target)) return Fail("the plan names no target", file);
            plan.Target = target ?? ExecutionPlan.HostTarget;
            if (plan.ArenaBytes < 0 || plan.StateBytes < 0) return Fail("negative arena or state size", file);
            return new Result<ExecutionPlan>(plan, Array.Empty<Diagnostic>());
        }
        catch (InvalidDataException e)
        {
            return Fail($"corrupt plan container: {e.Message}", file);
        }
    }

    private static Result<ExecutionPlan> Fail(string message, string? file) =>
        new(null, new[] { new Diagnostic(DiagnosticIds.InvalidPlanContainer, Severity.Error, message) { File = file } });

    private static void Fields(ProtoReader input, Action<int, ProtoReader> field)
    {
        int number;
        while ((number = input.NextField()) != 0) field(number, input);
    }

    private static Pointer ReadPointer(ProtoReader input)
    {
        int region = 0, blob = -1;
        long offset = 0;
        Fields(input, (n, i) =>
        {
            switch (n)
            {
                case 1: region = i.Int32(); break;
                case 2: offset = i.Int64(); break;
                case 3: blob = i.Int32(); break;
                default: i.Skip(); break;
            }
        });
        if (region < 0 || region > (int)Region.Parameters) throw new InvalidDataException($"unknown region {region}");
        return new Pointer((Region)region, offset, blob);
    }

    private static KernelCall ReadCall(ProtoReader input)
    {
        int op = 0;
        long macs = 0;
        string type = "", kernel = "", comment = "";
        var args = new List<Arg>();
        Fields(input, (n, i) =>
        {
            switch (n)
            {
                case 1: op = i.Int32(); break;
                case 2: type = i.String(); break;
                case 3: kernel = i.String(); break;
                case 4: comment = i.String(); break;
                case 5: args.Add(ReadArg(i.Message())); break;
                case 6: macs = i.Int64(); break;
                default: i.Skip(); break;
            }
        });
        if (macs < 0) throw new InvalidDataException($"negative MACs in call {kernel}");
        return new KernelCall(op, type, kernel, args.ToArray(), comment, macs);
    }

    private static Arg ReadArg(ProtoReader input)
    {
        int kind = 0, value = 0;
        var pointer = Pointer.Null;
        string? structType = null;
        var fields = new List<Field>();
        var pointers = new List<Pointer>();
        Fields(input, (n, i) =>
        {
            switch (n)
            {
                case 1: kind = i.Int32(); break;
                case 2: pointer = ReadPointer(i.Message()); break;
                case 3: value = i.Int32(); break;
                case 4: structType = i.String(); break;
                case 5: fields.Add(ReadField(i.Message())); break;
                case 6: pointers.Add(ReadPointer(i.Message())); break;
                default: i.Skip(); break;
            }
        });
        if (kind < 0 || kind > (int)ArgKind.PointerArray) throw new InvalidDataException($"unknown argument kind {kind}");
        return new Arg((ArgKind)kind, pointer, value, structType, fields.ToArray(), pointers.ToArray());
    }

    private static Field ReadField(ProtoReader input)
    {
        string name = "";
        int type = 0, value = 0;
        float number = 0;
        var pointer = Pointer.Null;
        Fields(input, (n, i) =>
        {
            switch (n)
            {
                case 1: name = i.String(); break;
                case 2: type = i.Int32(); break;
                case 3: value = i.Int32(); break;
                case 4: number = i.Float(); break;
                case 5: pointer = ReadPointer(i.Message()); break;
                default: i.Skip(); break;
            }
        });
        if (type < 0 || type > (int)FieldType.Pointer) throw new InvalidDataException($"unknown field type {type}");
        return new Field(name, (FieldType)type, value, number, pointer);
    }

    private static PlanTensor ReadTensor(ProtoReader input)
    {
        string name = "";
        int type = 0, zeroPoint = 0;
        var shape = new List<int>();
        long offset = 0, size = 0;
        float scale = 0;
        Fields(input, (n, i) =>
        {
            switch (n)
            {
                case 1: name = i.String(); break;
                case 2: type = i.Int32(); break;
                case 3: shape.Add(i.Int32()); break;
                case 4: offset = i.Int64(); break;
                case 5: size = i.Int64(); break;
                case 6: scale = i.Float(); break;
                case 7: zeroPoint = i.Int32(); break;
                default: i.Skip(); break;
            }
        });
        return new PlanTensor(name, (DataType)type, shape.ToArray(), offset, size, scale, zeroPoint);
    }
}
