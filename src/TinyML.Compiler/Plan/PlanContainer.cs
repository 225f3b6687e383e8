// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.IO;
using Google.Protobuf;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.Plan;

/// <summary>
/// The versioned container (.tmlmodel) of an execution plan and its constants, in protobuf wire format.
/// docs/plan-format.md gives the message layout. Reading checks the magic and the format version and turns every
/// malformed input into TML3010.
/// </summary>
public static class PlanContainer
{
    /// <summary>The first field of every container.</summary>
    public const string Magic = "tinyml-plan";

    /// <summary>Serializes a plan.</summary>
    public static byte[] Write(ExecutionPlan plan)
    {
        using var stream = new MemoryStream();
        var o = new CodedOutputStream(stream);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(Magic);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(ExecutionPlan.FormatVersion);
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(plan.ArenaBytes);
        o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt64(plan.StateBytes);
        foreach (var blob in plan.Constants)
        {
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(blob));
        }
        foreach (var call in plan.Calls) Message(o, 6, w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt32(call.OperatorIndex);
            w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(call.OperatorType);
            w.WriteTag(3, WireFormat.WireType.LengthDelimited); w.WriteString(call.Kernel);
            w.WriteTag(4, WireFormat.WireType.LengthDelimited); w.WriteString(call.Comment);
            foreach (var arg in call.Args) Message(w, 5, a => WriteArg(a, arg));
        });
        foreach (var tensor in plan.Inputs) Message(o, 7, w => WriteTensor(w, tensor));
        foreach (var tensor in plan.Outputs) Message(o, 8, w => WriteTensor(w, tensor));
        o.Flush();
        return stream.ToArray();
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

    /// <summary>Reads a container; a malformed one gives TML3010.</summary>
    public static Result<ExecutionPlan> Read(byte[] bytes, string? file = null)
    {
        try
        {
            var plan = new ExecutionPlan();
            string? magic = null;
            int version = -1;
            var input = new CodedInputStream(bytes);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: magic = input.ReadString(); break;
                    case 2: version = input.ReadInt32(); break;
                    case 3: plan.ArenaBytes = input.ReadInt64(); break;
                    case 4: plan.StateBytes = input.ReadInt64(); break;
                    case 5: plan.Constants.Add(input.ReadBytes().ToByteArray()); break;
                    case 6: plan.Calls.Add(ReadCall(input.ReadBytes())); break;
                    case 7: plan.Inputs.Add(ReadTensor(input.ReadBytes())); break;
                    case 8: plan.Outputs.Add(ReadTensor(input.ReadBytes())); break;
                    default: input.SkipLastField(); break;
                }
            }
            if (magic != Magic) return Fail("not a TinyML plan container", file);
            if (version != ExecutionPlan.FormatVersion)
                return Fail($"plan format version {version}; this TinyML.Sdk reads version {ExecutionPlan.FormatVersion}", file);
            if (plan.ArenaBytes < 0 || plan.StateBytes < 0) return Fail("negative arena or state size", file);
            return new Result<ExecutionPlan>(plan, Array.Empty<Diagnostic>());
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
        {
            return Fail($"corrupt plan container: {e.Message}", file);
        }
    }

    private static Result<ExecutionPlan> Fail(string message, string? file) =>
        new(null, new[] { new Diagnostic(DiagnosticIds.InvalidPlanContainer, Severity.Error, message) { File = file } });

    private static void Fields(ByteString bytes, Action<int, CodedInputStream> field)
    {
        var input = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0) field(WireFormat.GetTagFieldNumber(tag), input);
    }

    private static Pointer ReadPointer(ByteString bytes)
    {
        int region = 0, blob = -1;
        long offset = 0;
        Fields(bytes, (n, i) =>
        {
            switch (n)
            {
                case 1: region = i.ReadInt32(); break;
                case 2: offset = i.ReadInt64(); break;
                case 3: blob = i.ReadInt32(); break;
                default: i.SkipLastField(); break;
            }
        });
        if (region < 0 || region > (int)Region.Constant) throw new InvalidDataException($"unknown region {region}");
        return new Pointer((Region)region, offset, blob);
    }

    private static KernelCall ReadCall(ByteString bytes)
    {
        int op = 0;
        string type = "", kernel = "", comment = "";
        var args = new List<Arg>();
        Fields(bytes, (n, i) =>
        {
            switch (n)
            {
                case 1: op = i.ReadInt32(); break;
                case 2: type = i.ReadString(); break;
                case 3: kernel = i.ReadString(); break;
                case 4: comment = i.ReadString(); break;
                case 5: args.Add(ReadArg(i.ReadBytes())); break;
                default: i.SkipLastField(); break;
            }
        });
        return new KernelCall(op, type, kernel, args.ToArray(), comment);
    }

    private static Arg ReadArg(ByteString bytes)
    {
        int kind = 0, value = 0;
        var pointer = Pointer.Null;
        string? structType = null;
        var fields = new List<Field>();
        var pointers = new List<Pointer>();
        Fields(bytes, (n, i) =>
        {
            switch (n)
            {
                case 1: kind = i.ReadInt32(); break;
                case 2: pointer = ReadPointer(i.ReadBytes()); break;
                case 3: value = i.ReadInt32(); break;
                case 4: structType = i.ReadString(); break;
                case 5: fields.Add(ReadField(i.ReadBytes())); break;
                case 6: pointers.Add(ReadPointer(i.ReadBytes())); break;
                default: i.SkipLastField(); break;
            }
        });
        if (kind < 0 || kind > (int)ArgKind.PointerArray) throw new InvalidDataException($"unknown argument kind {kind}");
        return new Arg((ArgKind)kind, pointer, value, structType, fields.ToArray(), pointers.ToArray());
    }

    private static Field ReadField(ByteString bytes)
    {
        string name = "";
        int type = 0, value = 0;
        float number = 0;
        var pointer = Pointer.Null;
        Fields(bytes, (n, i) =>
        {
            switch (n)
            {
                case 1: name = i.ReadString(); break;
                case 2: type = i.ReadInt32(); break;
                case 3: value = i.ReadInt32(); break;
                case 4: number = i.ReadFloat(); break;
                case 5: pointer = ReadPointer(i.ReadBytes()); break;
                default: i.SkipLastField(); break;
            }
        });
        if (type < 0 || type > (int)FieldType.Pointer) throw new InvalidDataException($"unknown field type {type}");
        return new Field(name, (FieldType)type, value, number, pointer);
    }

    private static PlanTensor ReadTensor(ByteString bytes)
    {
        string name = "";
        int type = 0, zeroPoint = 0;
        var shape = new List<int>();
        long offset = 0, size = 0;
        float scale = 0;
        Fields(bytes, (n, i) =>
        {
            switch (n)
            {
                case 1: name = i.ReadString(); break;
                case 2: type = i.ReadInt32(); break;
                case 3: shape.Add(i.ReadInt32()); break;
                case 4: offset = i.ReadInt64(); break;
                case 5: size = i.ReadInt64(); break;
                case 6: scale = i.ReadFloat(); break;
                case 7: zeroPoint = i.ReadInt32(); break;
                default: i.SkipLastField(); break;
            }
        });
        return new PlanTensor(name, (DataType)type, shape.ToArray(), offset, size, scale, zeroPoint);
    }
}
