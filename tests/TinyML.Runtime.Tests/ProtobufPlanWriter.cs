// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using Google.Protobuf;
using TinyML.Compiler.Plan;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The plan container writer as it was before TinyML.Plan had its own wire format: Google.Protobuf's
/// CodedOutputStream, kept here only as the oracle that the new writer's bytes are checked against.
/// </summary>
internal static class ProtobufPlanWriter
{
    /// <summary>Serializes a plan; <paramref name="version"/> 1 writes the first format (no MACs, no target); by default
    /// a plan without training is version 2.</summary>
    public static byte[] Write(ExecutionPlan plan, int? formatVersion = null)
    {
        int version = formatVersion ?? (plan.Training is null ? 2 : ExecutionPlan.FormatVersion);
        using var stream = new MemoryStream();
        var o = new CodedOutputStream(stream);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(PlanContainer.Magic);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(version);
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(plan.ArenaBytes);
        o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt64(plan.StateBytes);
        foreach (var blob in plan.Constants)
        {
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(blob));
        }
        foreach (var call in plan.Calls) Message(o, 6, w => WriteCall(w, call, version));
        foreach (var tensor in plan.Inputs) Message(o, 7, w => WriteTensor(w, tensor));
        foreach (var tensor in plan.Outputs) Message(o, 8, w => WriteTensor(w, tensor));
        if (version >= 2) { o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteString(plan.Target); }
        if (version >= 3 && plan.Training is { } t) Message(o, 10, w =>
        {
            w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFrom(t.InitialParameters));
            w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(t.Mode);
            w.WriteTag(3, WireFormat.WireType.Varint); w.WriteInt32(t.Classes);
            w.WriteTag(4, WireFormat.WireType.Fixed32); w.WriteFloat(t.LearningRate);
            w.WriteTag(5, WireFormat.WireType.Varint); w.WriteInt64(t.ControlOffset);
            w.WriteTag(6, WireFormat.WireType.Varint); w.WriteInt64(t.ExportOffset);
            w.WriteTag(7, WireFormat.WireType.Varint); w.WriteInt64(t.ExportBytes);
            w.WriteTag(8, WireFormat.WireType.Varint); w.WriteInt64(t.TrainedValues);
            w.WriteTag(9, WireFormat.WireType.Varint); w.WriteInt64(t.Fingerprint);
            foreach (var call in t.Step) Message(w, 10, c => WriteCall(c, call, version));
            foreach (var call in t.Apply) Message(w, 11, c => WriteCall(c, call, version));
        });
        o.Flush();
        return stream.ToArray();
    }

    private static void WriteCall(CodedOutputStream w, KernelCall call, int version)
    {
        w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt32(call.OperatorIndex);
        w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(call.OperatorType);
        w.WriteTag(3, WireFormat.WireType.LengthDelimited); w.WriteString(call.Kernel);
        w.WriteTag(4, WireFormat.WireType.LengthDelimited); w.WriteString(call.Comment);
        foreach (var arg in call.Args) Message(w, 5, a => WriteArg(a, arg));
        if (version >= 2) { w.WriteTag(6, WireFormat.WireType.Varint); w.WriteInt64(call.Macs); }
    }

    private static void Message(CodedOutputStream o, int field, Action<CodedOutputStream> body)
    {
        using var stream = new MemoryStream();
        var inner = new CodedOutputStream(stream);
        body(inner);
        inner.Flush();
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(stream.ToArray()));
    }

    private static void WritePointer(CodedOutputStream o, int field, Pointer p) => Message(o, field, w =>
    {
        w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt32((int)p.Region);
        w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt64(p.Offset);
        w.WriteTag(3, WireFormat.WireType.Varint); w.WriteInt32(p.Blob);
    });

    private static void WriteArg(CodedOutputStream o, Arg arg)
    {
        o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt32((int)arg.Kind);
        WritePointer(o, 2, arg.Pointer);
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt32(arg.Int);
        if (arg.StructType is not null) { o.WriteTag(4, WireFormat.WireType.LengthDelimited); o.WriteString(arg.StructType); }
        foreach (var f in arg.Fields) Message(o, 5, w =>
        {
            w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(f.Name);
            w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt32((int)f.Type);
            w.WriteTag(3, WireFormat.WireType.Varint); w.WriteInt32(f.Int);
            w.WriteTag(4, WireFormat.WireType.Fixed32); w.WriteFloat(f.Float);
            WritePointer(w, 5, f.Pointer);
        });
        foreach (var p in arg.Pointers) WritePointer(o, 6, p);
    }

    private static void WriteTensor(CodedOutputStream o, PlanTensor t)
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(t.Name);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32((int)t.Type);
        foreach (int d in t.Shape) { o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt32(d); }
        o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt64(t.Offset);
        o.WriteTag(5, WireFormat.WireType.Varint); o.WriteInt64(t.Bytes);
        o.WriteTag(6, WireFormat.WireType.Fixed32); o.WriteFloat(t.Scale);
        o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt32(t.ZeroPoint);
    }
}
