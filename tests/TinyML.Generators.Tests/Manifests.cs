// SPDX-License-Identifier: Apache-2.0
namespace TinyML.Generators.Tests;

/// <summary>Manifests as the compile task writes them, for models shaped like real ones.</summary>
public static class Manifests
{
    public static readonly string[] SpeechCommands =
        { "_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go" };

    /// <summary>kws.tflite from ../shared/models: an int8 keyword spotter with 12 classes.</summary>
    public static ModelManifest Kws()
    {
        var m = new ModelManifest
        {
            ModelPath = "/home/someone/project/models/kws.tflite",
            ClassName = "KeywordSpotter",
            Namespace = "Demo.Audio",
            Access = "public",
            ResourceName = "Demo.Audio.kws.tmlmodel",
            ArenaBytes = 16000,
            StateBytes = 0,
            FlashBytes = 28984,
            Macs = 2656768,
        };
        m.Inputs.Add(new ManifestTensor { Name = "input_1", Type = "INT8", Shape = new[] { 1, 49, 10, 1 }, Bytes = 490, Scale = 0.584702909, ZeroPoint = 83 });
        m.Outputs.Add(new ManifestTensor { Name = "Identity", Type = "INT8", Shape = new[] { 1, 12 }, Bytes = 12, Scale = 0.00390625, ZeroPoint = -128 });
        m.Labels.AddRange(SpeechCommands);
        return m;
    }

    /// <summary>hello_float.tflite: a float32 sine regressor, one input and one output, internal.</summary>
    public static ModelManifest Sine()
    {
        var m = new ModelManifest
        {
            ModelPath = "C:\\Users\\someone\\HelloSine\\hello_float.tflite",
            ClassName = "SineModel",
            Namespace = "HelloSine",
            Access = "internal",
            ResourceName = "HelloSine.hello_float.tmlmodel",
            ArenaBytes = 128,
            StateBytes = 0,
            FlashBytes = 1284,
            Macs = 288,
        };
        m.Inputs.Add(new ManifestTensor { Name = "serving_default_dense_input:0", Type = "FLOAT32", Shape = new[] { 1, 1 }, Bytes = 4 });
        m.Outputs.Add(new ManifestTensor { Name = "StatefulPartitionedCall:0", Type = "FLOAT32", Shape = new[] { 1, 1 }, Bytes = 4 });
        return m;
    }

    /// <summary>A streaming detector: two inputs and two outputs of mixed types, persistent state, labels.</summary>
    public static ModelManifest Streaming()
    {
        var m = new ModelManifest
        {
            ModelPath = "/home/someone/project/models/wake.tflite",
            ClassName = "WakeWordDetector",
            Namespace = "Demo.Audio.Streaming",
            Access = "public",
            ResourceName = "Demo.Audio.Streaming.wake.tmlmodel",
            ArenaBytes = 4096,
            StateBytes = 640,
            FlashBytes = 20480,
            Macs = 150000,
        };
        m.Inputs.Add(new ManifestTensor { Name = "features", Type = "INT8", Shape = new[] { 1, 1, 40 }, Bytes = 40, Scale = 0.1, ZeroPoint = -10 });
        m.Inputs.Add(new ManifestTensor { Name = "hidden_in", Type = "FLOAT32", Shape = new[] { 1, 32 }, Bytes = 128 });
        m.Outputs.Add(new ManifestTensor { Name = "scores", Type = "INT8", Shape = new[] { 1, 3 }, Bytes = 3, Scale = 0.00390625, ZeroPoint = -128 });
        m.Outputs.Add(new ManifestTensor { Name = "hidden_out", Type = "INT16", Shape = new[] { 1, 32 }, Bytes = 64, Scale = 0.000122, ZeroPoint = 0 });
        m.Labels.AddRange(new[] { "background", "hey tiny", "3 other" });
        return m;
    }
}
