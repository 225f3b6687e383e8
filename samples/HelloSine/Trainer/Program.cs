// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using HelloSine.Trainer;
using TinyML.Compiler.Tflite;

// Usage: HelloSine.Trainer [OUTPUT.tflite]: writes the float model, and beside it calib/*.bin, the inputs the build
// quantizes it with (raw float32, one x each).
string output = args.Length > 0 ? args[0] : "hello_sine.tflite";
var trainer = new SineTrainer(seed: 42);
for (int round = 1; round <= 4; round++)
{
    double mse = trainer.Train(samples: 256, steps: 500);
    Console.WriteLine($"step {round * 500,5}: mean squared error {mse:F5}");
}
var bytes = TfliteWriter.Write(trainer.ToModel());
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
File.WriteAllBytes(output, bytes);
Console.WriteLine($"wrote {output} ({bytes.Length} bytes)");

string calibration = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, "calib");
Directory.CreateDirectory(calibration);
const int CalibrationInputs = 64;
for (int i = 0; i < CalibrationInputs; i++)
{
    float x = (float)(2 * Math.PI * i / (CalibrationInputs - 1));
    File.WriteAllBytes(Path.Combine(calibration, $"x_{i:D2}.bin"), BitConverter.GetBytes(x));
}
Console.WriteLine($"wrote {CalibrationInputs} calibration inputs to {calibration}");
