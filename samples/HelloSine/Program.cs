// SPDX-License-Identifier: Apache-2.0
// Runs the sine regressor that the build trained, quantized to int8 and compiled, next to Math.Sin.
using System;
using HelloSine;

using var model = new SineModel();
Console.WriteLine($"SineModel: arena {SineModel.ArenaBytes} bytes, flash {SineModel.FlashBytes} bytes, {SineModel.Macs} MACs");
Console.WriteLine("     x    model   sin(x)");
double worst = 0;
for (int i = 0; i <= 12; i++)
{
    float x = (float)(2 * Math.PI * i / 12);
    model.SetInput(new[] { x });
    model.Run();
    float y = model.GetOutput()[0];
    worst = Math.Max(worst, Math.Abs(y - Math.Sin(x)));
    Console.WriteLine($"{x,6:F3} {y,8:F4} {Math.Sin(x),8:F4}");
}
Console.WriteLine($"largest error {worst:F4}");
