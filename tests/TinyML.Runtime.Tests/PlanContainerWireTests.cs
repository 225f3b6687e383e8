// SPDX-License-Identifier: Apache-2.0
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>
/// The container's own protobuf wire format against Google.Protobuf's (<see cref="ProtobufPlanWriter"/>, the writer
/// the container used before): the same bytes for every plan, and each reads the other's.
/// </summary>
public class PlanContainerWireTests
{
    public static TheoryData<string> Models() => new(SharedData.ModelNames());

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryModelThatLowers_IsWrittenByteForByteAsGoogleProtobufWroteIt(string name)
    {
        var model = TfliteReader.ReadFile(SharedData.Model(name)).Value!;
        foreach (var options in new[] { LoweringOptions.Default, LoweringOptions.MinimumMemory })
        {
            var plan = Lowerer.Lower(model, null, options).Value;
            // The validator refuses a few shared models (README: kws_float, the LSTM models).
            if (plan is null) return;
            byte[] expected = ProtobufPlanWriter.Write(plan);
            Assert.Equal(expected, PlanContainer.Write(plan));
            Assert.Equal(expected, PlanContainer.Write(PlanContainer.Read(expected).Value!));
        }
    }

    [Fact]
    public void MostSharedModelsLower_SoTheByteComparisonCoversThem()
    {
        var lowered = SharedData.ModelNames().Where(n => Lowerer.Lower(TfliteReader.ReadFile(SharedData.Model(n)).Value!).Value is not null).ToList();
        Assert.Contains("kws", lowered);
        Assert.Contains("ic_resnet", lowered);
        Assert.Contains("keyword_scrambled", lowered);
        Assert.True(lowered.Count >= SharedData.ModelNames().Count - 4, string.Join(", ", lowered));
    }

    [Fact]
    public void ExtremeValues_NegativeNumbersAndNonAsciiNames_MatchGoogleProtobuf()
    {
        var plan = new ExecutionPlan { ArenaBytes = long.MaxValue, StateBytes = 0 };
        plan.AddConstant(new byte[] { 0, 255, 128 });
        plan.AddConstant(System.Array.Empty<byte>());
        plan.Calls.Add(new KernelCall(int.MaxValue, "CONV_2D", "tml_conv_s8", new[]
        {
            Arg.Int32(int.MinValue),
            Arg.Int32(-1),
            Arg.Ptr(new Pointer(Region.State, -5, -1)),
            Arg.Struct("tml_conv_params", Field.I("zero_point", -128), Field.F("scale", -0.0f), Field.F("nan", float.NaN), Field.P("bias", Pointer.Constant(1))),
            Arg.PointerArray(Pointer.Arena(1L << 40), Pointer.Null),
        }, "größe → 输出 🙂"));
        plan.Inputs.Add(new PlanTensor("eingabe_ä", DataType.Int8, new[] { 1, -1, 49 }, 0, 490, 1e-30f, -128));
        plan.Outputs.Add(new PlanTensor("", DataType.Float32, System.Array.Empty<int>(), long.MinValue, 0, float.PositiveInfinity, int.MaxValue));
        byte[] expected = ProtobufPlanWriter.Write(plan);
        Assert.Equal(expected, PlanContainer.Write(plan));
        var read = PlanContainer.Read(expected).Value!;
        Assert.Equal(plan.Calls, read.Calls);
        Assert.Equal(plan.Inputs, read.Inputs);
        Assert.Equal(plan.Outputs, read.Outputs);
        Assert.Equal(plan.Constants, read.Constants);
    }

    [Fact]
    public void FieldsANewerWriterAdds_AreSkipped()
    {
        var plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "hello_int8"));
        using var extra = new MemoryStream();
        var o = new CodedOutputStream(extra);
        o.WriteTag(90, WireFormat.WireType.Varint); o.WriteInt64(-7);
        o.WriteTag(91, WireFormat.WireType.Fixed64); o.WriteDouble(2.5);
        o.WriteTag(92, WireFormat.WireType.LengthDelimited); o.WriteString("later");
        o.WriteTag(93, WireFormat.WireType.Fixed32); o.WriteFloat(1.5f);
        o.Flush();
        byte[] bytes = PlanContainer.Write(plan).Concat(extra.ToArray()).ToArray();
        var read = PlanContainer.Read(bytes);
        Assert.Empty(read.Diagnostics);
        Assert.Equal(plan.Calls, read.Value!.Calls);
    }

    [Theory]
    [InlineData(new byte[] { 0x0a, 0x05, (byte)'t' }, "runs past the end")]                  // a string longer than what is left
    [InlineData(new byte[] { 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, "varint")] // eleven bytes
    [InlineData(new byte[] { 0x0b }, "wire type 3")]                                         // a group
    [InlineData(new byte[] { 0x08, 0x01 }, "wire type 0")]                                   // the magic as a number
    [InlineData(new byte[] { 0x00 }, "invalid field tag")]                                   // field number 0
    public void MalformedWireFormat_IsTML3010_SayingWhatIsWrong(byte[] bytes, string problem)
    {
        var diagnostic = Assert.Single(PlanContainer.Read(bytes, "m.tmlmodel").Diagnostics);
        Assert.Equal("TML3010", diagnostic.Id);
        Assert.Equal("m.tmlmodel", diagnostic.File);
        Assert.Contains(problem, diagnostic.Message);
    }
}
