// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Tflite;
using TinyML.Tests;
using Xunit;

namespace TinyML.Cli.Tests;

/// <summary>
/// --train and --learning-rate on plan, run and compile: the plan carries training (plan prints what it adds to RAM,
/// compile emits <c>&lt;model&gt;_train_step</c>, run's inference bytes are unchanged), a .tmlmodel keeps what it
/// carries and refuses the options, a bad value is TML0012, and a model without a trainable head is TML1030.
/// </summary>
public sealed class TrainingCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tml-train-cli-{Guid.NewGuid():N}");

    public TrainingCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Kws => SharedData.Model("kws");

    private static ExecutionPlan Lowered(TrainingOptions? training) =>
        Lowerer.Lower(TfliteReader.ReadFile(Kws).Value!, Kws, LoweringOptions.Default with { Train = training }).Value!;

    [Fact]
    public void Plan_PrintsWhatTrainingAddsToRam()
    {
        var plan = Lowered(new TrainingOptions("head"));
        long inference = plan.ArenaBytes + plan.StateBytes;
        var (code, text, error) = Run("plan", Kws, "--train", "head");
        Assert.True(code == 0, error);
        Assert.Contains($"training (head, 12 classes, learning rate 0.01): RAM {inference + plan.ParameterBytes:N0} B = inference {inference:N0} B + parameter region {plan.ParameterBytes:N0} B", text);

        (code, string json, error) = Run("plan", Kws, "--json", "--train", "head", "--learning-rate", "0.05");
        Assert.True(code == 0, error);
        var training = JsonDocument.Parse(json).RootElement.GetProperty("training");
        Assert.Equal("head", training.GetProperty("mode").GetString());
        Assert.Equal(12, training.GetProperty("classes").GetInt32());
        Assert.Equal(0.05, training.GetProperty("learning_rate").GetDouble(), 6);
        Assert.Equal(plan.ParameterBytes, training.GetProperty("parameter_bytes").GetInt64());
        Assert.Equal(inference + plan.ParameterBytes, training.GetProperty("ram_bytes").GetInt64());

        // Without --train there is no training line or object.
        Assert.DoesNotContain("training", Run("plan", Kws).Out);
        Assert.False(JsonDocument.Parse(Run("plan", Kws, "--json").Out).RootElement.TryGetProperty("training", out _));
    }

    [Fact]
    public void PlanOut_WritesTheTrainingPlan_WhichCompileKeeps()
    {
        string container = Path.Combine(_dir, "kws.tmlmodel");
        var (code, _, error) = Run("plan", Kws, "--train", "head", "--learning-rate", "0.05", "--out", container);
        Assert.True(code == 0, error);
        var plan = PlanContainer.Read(File.ReadAllBytes(container), container).Value!;
        Assert.Equal(0.05f, plan.Training!.LearningRate);

        // The plan as it is: its training reaches the C without any option.
        string output = Path.Combine(_dir, "c");
        var compile = Run("compile", container, "--target", "cortex-m4", "--out", output);
        Assert.True(compile.Code == 0, compile.Err);
        string source = File.ReadAllText(Path.Combine(output, "kws.c"));
        Assert.Contains("int32_t kws_train_step(uint8_t *arena, int32_t label)", source);
        Assert.Contains("training parameters", compile.Out);
    }

    [Fact]
    public void Compile_WithTrain_EmitsTheTrainingFunctions_AndWithoutItNone()
    {
        string trained = Path.Combine(_dir, "trained"), plain = Path.Combine(_dir, "plain");
        var compile = Run("compile", Kws, "--target", "cortex-m0plus", "--out", trained, "--train", "head", "--json");
        Assert.True(compile.Code == 0, compile.Err);
        Assert.Contains("kws_train_step(", File.ReadAllText(Path.Combine(trained, "kws.h")));
        Assert.Equal(Lowered(new TrainingOptions("head")).ParameterBytes, JsonDocument.Parse(compile.Out).RootElement.GetProperty("parameter_bytes").GetInt64());

        compile = Run("compile", Kws, "--target", "cortex-m0plus", "--out", plain);
        Assert.True(compile.Code == 0, compile.Err);
        Assert.DoesNotContain("train", File.ReadAllText(Path.Combine(plain, "kws.h")));
    }

    [Fact]
    public void Run_WithTrain_GivesTheInferenceBytes()
    {
        var input = new byte[Lowered(null).Inputs[0].Bytes];
        new Random(17).NextBytes(input);
        string inputFile = Path.Combine(_dir, "in.bin"), plain = Path.Combine(_dir, "plain.bin"), trained = Path.Combine(_dir, "trained.bin");
        File.WriteAllBytes(inputFile, input);
        Assert.Equal(0, Run("run", Kws, "--input", inputFile, "--output", plain).Code);
        var (code, _, error) = Run("run", Kws, "--input", inputFile, "--output", trained, "--train", "head");
        Assert.True(code == 0, error);
        // The head reads its weights from the parameter region, which starts as the model's weights.
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(trained));
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("run")]
    [InlineData("compile")]
    public void BadTrainingOptions_AreTML0012_OrAUsageError(string command)
    {
        var args = command switch
        {
            "plan" => new[] { "plan", Kws },
            "run" => new[] { "run", Kws, "--input", Path.Combine(_dir, "in.bin"), "--output", Path.Combine(_dir, "out.bin") },
            _ => new[] { "compile", Kws, "--target", "cortex-m4", "--out", Path.Combine(_dir, "c") },
        };
        var (code, _, error) = Run(args.Concat(new[] { "--train", "bogus" }).ToArray());
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("error TML0012: --train \"bogus\" is not a training mode; use head or biases:K", error);

        (code, _, error) = Run(args.Concat(new[] { "--train", "head", "--learning-rate", "0" }).ToArray());
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("error TML0012: --learning-rate \"0\" is not a number above 0", error);

        (code, _, error) = Run(args.Concat(new[] { "--learning-rate", "0.1" }).ToArray());
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("--learning-rate applies to training; add --train head", error);
    }

    [Fact]
    public void AModelWithoutATrainableHead_IsTML1030()
    {
        // hello_int8 is a regressor: no SOFTMAX output to train toward.
        var (code, _, error) = Run("plan", SharedData.Model("hello_int8"), "--train", "head");
        Assert.Equal(Cli.ModelErrors, code);
        Assert.Contains("TML1030", error);
        Assert.Contains("the model cannot be trained (Train=\"head\")", error);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("compile")]
    public void APlanContainer_RefusesTheTrainingOptions(string command)
    {
        string container = Path.Combine(_dir, "kws.tmlmodel");
        File.WriteAllBytes(container, PlanContainer.Write(Lowered(null)));
        var args = command == "run"
            ? new[] { "run", container, "--input", Path.Combine(_dir, "in.bin"), "--output", Path.Combine(_dir, "out.bin") }
            : new[] { "compile", container, "--target", "cortex-m4", "--out", Path.Combine(_dir, "c") };
        var (code, _, error) = Run(args.Concat(new[] { "--train", "head" }).ToArray());
        Assert.Equal(Cli.UsageError, code);
        Assert.Contains("--train applies to a .tflite model", error);
    }
}
