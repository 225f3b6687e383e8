// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;
using TinyML.Tests;
using Xunit;

namespace TinyML.Runtime.Tests;

/// <summary>Plans against the ABI description: every plan the compiler builds matches it, and a call that does not is refused.</summary>
public class PlanAbiTests
{
    [Fact]
    public void EveryPlanOfTheSharedCases_MatchesTheHeader()
    {
        int calls = 0;
        foreach (var gc in GoldenCase.Supported())
        {
            bool model = !gc.Name.StartsWith("ops/", StringComparison.Ordinal);
            // Every technique on the real models (patches retarget calls); the op cases with the defaults.
            foreach (var (name, options) in ConformanceTests.Techniques.Where(t => model || t.Key == "all"))
            {
                var plan = ConformanceTests.Lower(gc, options);
                Assert.True(PlanVerifier.VerifyCalls(plan).Count == 0, $"{gc.Name} ({name}): {string.Join("\n", PlanVerifier.VerifyCalls(plan))}");
                calls += plan.Calls.Count;
            }
        }
        Assert.True(calls > 1000, $"only {calls} calls checked");
    }

    [Fact]
    public void EveryKernel_HasARuntimeCallShape()
    {
        Assert.All(KernelAbi.Prototypes.Where(p => p.IsKernel), p => Assert.True(KernelSignatures.CanInvoke(p.Shape!), $"{p.Name}: no call of shape {p.Shape}"));
        Assert.Contains("tml_conv_s8", KernelSignatures.Kernels);
        Assert.DoesNotContain("tml_conv_s8_get_buffer_size", KernelSignatures.Kernels); // returns int32_t, not tml_status
        Assert.DoesNotContain("tml_pad_s8", KernelSignatures.Kernels); // takes an int8_t by value
    }

    private static KernelCall ConvCall(out CompiledPlan plan)
    {
        plan = ConformanceTests.Lower(GoldenCase.All().Single(c => c.Name == "ic_resnet"));
        return plan.Calls.First(c => c.Kernel == "tml_conv_s8_packed");
    }

    private static string Refusal(CompiledPlan plan, KernelCall original, KernelCall changed)
    {
        plan.Calls[plan.Calls.IndexOf(original)] = changed;
        Assert.NotEmpty(PlanVerifier.VerifyCalls(plan));
        var diagnostic = Assert.Single(PlanVerifier.VerifyCallDiagnostics(plan, "m.tflite"));
        Assert.Equal("TML0102", diagnostic.Id);
        Assert.Equal(original.OperatorIndex, diagnostic.OperatorIndex);
        var e = Assert.Throws<TinyMLException>(() => new PlanExecutor(plan));
        Assert.Equal("TML0102", e.Id);
        return e.Message;
    }

    private static KernelCall WithParams(KernelCall call, Func<Field[], Field[]> change)
    {
        var args = call.Args.ToArray();
        args[0] = args[0] with { Fields = change(args[0].Fields.ToArray()) };
        return call with { Args = args };
    }

    [Fact]
    public void SwappedFields_AreRefused()
    {
        var call = ConvCall(out var plan);
        string message = Refusal(plan, call, WithParams(call, f => { (f[0], f[1]) = (f[1], f[0]); return f; }));
        Assert.Contains("tml_conv_packed_params field 0 is stride_w (Int32); tml_kernels.h has stride_h (int32_t)", message);
    }

    [Fact]
    public void MissingOrExtraOrMistypedFields_AreRefused()
    {
        var call = ConvCall(out var plan);
        Assert.Contains("lacks field chunk", Refusal(plan, call, WithParams(call, f => f.Take(f.Length - 1).ToArray())));
        call = ConvCall(out plan);
        Assert.Contains("has no field extra", Refusal(plan, call, WithParams(call, f => f.Append(Field.I("extra", 1)).ToArray())));
        call = ConvCall(out plan);
        Assert.Contains("field 8 is activation_min (Float32)", Refusal(plan, call, WithParams(call, f => { f[8] = Field.F("activation_min", -128); return f; })));
    }

    [Fact]
    public void WrongStructOrArgumentKind_IsRefused()
    {
        var call = ConvCall(out var plan);
        var args = call.Args.ToArray();
        args[0] = args[0] with { StructType = "tml_depthwise_conv_params" };
        Assert.Contains("argument 0 (params) is a tml_depthwise_conv_params; tml_kernels.h declares const tml_conv_packed_params *", Refusal(plan, call, call with { Args = args }));
        call = ConvCall(out plan);
        args = call.Args.ToArray();
        args[3] = Arg.Int32(0);
        Assert.Contains("argument 3 (input) is a Int32", Refusal(plan, call, call with { Args = args }));
        call = ConvCall(out plan);
        Assert.Contains("9 arguments for the 10 parameters", Refusal(plan, call, call with { Args = call.Args.Take(9).ToArray() }));
        call = ConvCall(out plan);
        Assert.Contains("tml_kernels.h has no function tml_conv_s9", Refusal(plan, call, call with { Kernel = "tml_conv_s9" }));
    }
}
