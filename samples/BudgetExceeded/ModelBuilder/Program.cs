// SPDX-License-Identifier: Apache-2.0
// Usage: BudgetExceeded.ModelBuilder OUTPUT.tflite
using BudgetExceeded;
using TinyML.Samples;

return ModelFileWriter.Run(args, "BudgetExceeded.ModelBuilder", () => new BudgetExceededModel().ToModel());
