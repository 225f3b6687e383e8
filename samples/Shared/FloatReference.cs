// SPDX-License-Identifier: Apache-2.0
using System;

namespace TinyML.Samples;

/// <summary>The float forward pass the sample builders calibrate with (double accumulation, batch 1, NHWC).</summary>
internal static class FloatReference
{
    /// <summary>
    /// CONV_2D (weights [outC, kh, kw, inC]) or DEPTHWISE_CONV_2D with depth multiplier 1 (weights [1, kh, kw, C]);
    /// taps outside the input are skipped (zero padding). <paramref name="activate"/> turns each sum into the output.
    /// </summary>
    public static float[] Convolution(float[] x, int inH, int inW, int inC, float[] weights, int kh, int kw, float[] bias,
        int outH, int outW, int outC, int strideH, int strideW, int padH, int padW, bool depthwise, Func<double, float> activate)
    {
        var y = new float[outH * outW * outC];
        for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
                for (int oc = 0; oc < outC; oc++)
                {
                    double sum = bias[oc];
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * strideH - padH + ky;
                        if (iy < 0 || iy >= inH) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * strideW - padW + kx;
                            if (ix < 0 || ix >= inW) continue;
                            int pixel = (iy * inW + ix) * inC;
                            if (depthwise)
                                sum += (double)x[pixel + oc] * weights[(ky * kw + kx) * outC + oc];
                            else
                            {
                                int filter = ((oc * kh + ky) * kw + kx) * inC;
                                for (int ic = 0; ic < inC; ic++) sum += (double)x[pixel + ic] * weights[filter + ic];
                            }
                        }
                    }
                    y[(oy * outW + ox) * outC + oc] = activate(sum);
                }
        return y;
    }
}
