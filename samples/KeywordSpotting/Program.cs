// SPDX-License-Identifier: Apache-2.0
// Classifies a few synthetic 49x10 feature maps with the DS-CNN keyword spotter the build compiled.
using System;
using KeywordSpotting;

using var spotter = new KeywordSpotter();
Console.WriteLine($"KeywordSpotter: arena {KeywordSpotter.ArenaBytes} bytes, flash {KeywordSpotter.FlashBytes} bytes, {KeywordSpotter.Macs:N0} MACs");
var features = new float[49 * 10];
for (int pattern = 0; pattern < 4; pattern++)
{
    // Deterministic stand-ins for feature frames: a different ripple per pattern, within the calibrated [-1, 1].
    for (int t = 0; t < 49; t++)
        for (int c = 0; c < 10; c++)
            features[t * 10 + c] = (float)(0.9 * Math.Sin(0.3 * (pattern + 1) * t + 0.7 * c + pattern));
    var (label, score) = spotter.Predict(features);
    Console.WriteLine($"pattern {pattern}: {KeywordSpotter.LabelText(label)} ({score:P1})");
}
