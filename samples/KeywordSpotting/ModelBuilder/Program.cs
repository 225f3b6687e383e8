// SPDX-License-Identifier: Apache-2.0
// Usage: KeywordSpotting.ModelBuilder OUTPUT.tflite
using KeywordSpotting;
using TinyML.Samples;

return ModelFileWriter.Run(args, "KeywordSpotting.ModelBuilder", () => new KeywordSpottingModel().ToModel());
