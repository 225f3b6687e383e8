// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using BudgetExceeded;
using TinyML.Compiler.Analysis;
using TinyML.Compiler.Tflite;

// Usage: BudgetExceeded.ModelBuilder OUTPUT.tflite
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: BudgetExceeded.ModelBuilder OUTPUT.tflite");
    return 2;
}
var model = new BudgetExceededModel().ToModel();
var bytes = TfliteWriter.Write(model);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0]))!);
File.WriteAllBytes(args[0], bytes);
var summary = ModelSummary.Of(model);
Console.WriteLine($"wrote {args[0]} ({bytes.Length:N0} bytes, {summary.Operators.Count} operators, {summary.TotalMacs:N0} MACs)");
return 0;
