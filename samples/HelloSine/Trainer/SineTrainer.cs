// SPDX-License-Identifier: Apache-2.0
using System;
using System.Linq;
using TinyML.Compiler.Building;
using TinyML.Compiler.Ir;

namespace HelloSine.Trainer;

/// <summary>
/// Trains the hello-world sine regressor (1 -> 16 -> 16 -> 1, ReLU) with full-batch Adam. Deterministic: a fixed
/// seed, a fixed sample grid and double arithmetic give the same weights on every run.
/// </summary>
public sealed class SineTrainer
{
    private const int Hidden = 16;
    private readonly double[] _w1 = new double[Hidden], _b1 = new double[Hidden];
    private readonly double[,] _w2 = new double[Hidden, Hidden];
    private readonly double[] _b2 = new double[Hidden], _w3 = new double[Hidden];
    private double _b3;

    /// <summary>Initializes the weights from a seed (He initialization).</summary>
    public SineTrainer(int seed)
    {
        var random = new Random(seed);
        double Gaussian(double std) => std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        for (int i = 0; i < Hidden; i++) _w1[i] = Gaussian(Math.Sqrt(2.0));
        for (int i = 0; i < Hidden; i++)
            for (int j = 0; j < Hidden; j++) _w2[i, j] = Gaussian(Math.Sqrt(2.0 / Hidden));
        for (int i = 0; i < Hidden; i++) _w3[i] = Gaussian(Math.Sqrt(2.0 / Hidden));
    }

    /// <summary>The network's output for one input, in double precision.</summary>
    public double Predict(double x) => Forward(x, new double[Hidden], new double[Hidden]);

    private double Forward(double x, double[] h1, double[] h2)
    {
        for (int i = 0; i < Hidden; i++) h1[i] = Math.Max(0, _w1[i] * x + _b1[i]);
        for (int o = 0; o < Hidden; o++)
        {
            double sum = _b2[o];
            for (int i = 0; i < Hidden; i++) sum += _w2[o, i] * h1[i];
            h2[o] = Math.Max(0, sum);
        }
        double y = _b3;
        for (int i = 0; i < Hidden; i++) y += _w3[i] * h2[i];
        return y;
    }

    /// <summary>Trains on <paramref name="samples"/> evenly spaced points of [0, 2π); returns the final mean squared error.</summary>
    public double Train(int samples, int steps, double learningRate = 0.01)
    {
        var xs = Enumerable.Range(0, samples).Select(i => 2 * Math.PI * i / samples).ToArray();
        var parameters = new[] { _w1, _b1, _b2, _w3 };
        var m = parameters.Select(p => new double[p.Length]).ToArray();
        var v = parameters.Select(p => new double[p.Length]).ToArray();
        var mw2 = new double[Hidden, Hidden];
        var vw2 = new double[Hidden, Hidden];
        double mb3 = 0, vb3 = 0, loss = 0;
        var h1 = new double[Hidden];
        var h2 = new double[Hidden];
        for (int step = 1; step <= steps; step++)
        {
            var g = parameters.Select(p => new double[p.Length]).ToArray();
            var gw2 = new double[Hidden, Hidden];
            double gb3 = 0;
            loss = 0;
            foreach (double x in xs)
            {
                double error = Forward(x, h1, h2) - Math.Sin(x);
                loss += error * error;
                double dy = 2 * error / samples;
                gb3 += dy;
                var dh2 = new double[Hidden];
                for (int i = 0; i < Hidden; i++)
                {
                    g[3][i] += dy * h2[i];
                    dh2[i] = h2[i] > 0 ? dy * _w3[i] : 0;
                }
                var dh1 = new double[Hidden];
                for (int o = 0; o < Hidden; o++)
                {
                    g[2][o] += dh2[o];
                    for (int i = 0; i < Hidden; i++)
                    {
                        gw2[o, i] += dh2[o] * h1[i];
                        dh1[i] += dh2[o] * _w2[o, i];
                    }
                }
                for (int i = 0; i < Hidden; i++)
                {
                    if (h1[i] <= 0) continue;
                    g[0][i] += dh1[i] * x;
                    g[1][i] += dh1[i];
                }
            }
            loss /= samples;
            double correction1 = 1 - Math.Pow(0.9, step), correction2 = 1 - Math.Pow(0.999, step);
            double Adam(ref double moment, ref double velocity, double gradient)
            {
                moment = 0.9 * moment + 0.1 * gradient;
                velocity = 0.999 * velocity + 0.001 * gradient * gradient;
                return learningRate * (moment / correction1) / (Math.Sqrt(velocity / correction2) + 1e-8);
            }
            for (int p = 0; p < parameters.Length; p++)
                for (int i = 0; i < parameters[p].Length; i++) parameters[p][i] -= Adam(ref m[p][i], ref v[p][i], g[p][i]);
            for (int o = 0; o < Hidden; o++)
                for (int i = 0; i < Hidden; i++) _w2[o, i] -= Adam(ref mw2[o, i], ref vw2[o, i], gw2[o, i]);
            _b3 -= Adam(ref mb3, ref vb3, gb3);
        }
        return loss;
    }

    /// <summary>The trained network as a float32 TFLite model: three FULLY_CONNECTED layers.</summary>
    public Model ToModel()
    {
        var b = new ModelBuilder();
        float[] F(double[] values) => values.Select(x => (float)x).ToArray();
        int x = b.Tensor("x", DataType.Float32, new[] { 1, 1 });
        int Dense(int input, string name, int units, int inputs, float[] weights, float[] bias, Activation activation)
        {
            int w = b.Constant(name + "/weights", new[] { units, inputs }, weights);
            int bb = b.Constant(name + "/bias", new[] { units }, bias);
            int output = b.Tensor(name, DataType.Float32, new[] { 1, units });
            b.Operator(OpKind.FullyConnected, new[] { input, w, bb }, new[] { output },
                new FullyConnectedOptions(activation, 0, false, false), version: 1);
            return output;
        }
        var w2 = new float[Hidden * Hidden];
        for (int o = 0; o < Hidden; o++)
            for (int i = 0; i < Hidden; i++) w2[o * Hidden + i] = (float)_w2[o, i];
        int d1 = Dense(x, "dense_1", Hidden, 1, F(_w1), F(_b1), Activation.Relu);
        int d2 = Dense(d1, "dense_2", Hidden, Hidden, w2, F(_b2), Activation.Relu);
        int y = Dense(d2, "y", 1, Hidden, F(_w3), new[] { (float)_b3 }, Activation.None);
        return b.Inputs(x).Outputs(y).Signature("serving_default", new[] { "x" }, new[] { "y" }).Build();
    }
}
