// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;

namespace TinyML.Compiler.PostTraining;

/// <summary>
/// Runs models for the quantizer, which has no native dependency of its own: the float graph to observe every
/// intermediate tensor, and the float and int8 graphs to measure the accuracy cost. The tinyml command implements it
/// with the native kernels (TinyML.Cli's PlanModelRunner).
/// </summary>
public interface IModelRunner
{
    /// <summary>
    /// Prepares <paramref name="model"/> for repeated runs. Each run returns the raw bytes of the tensors listed in
    /// <paramref name="observed"/> (indices into the main graph), in that order. Errors are diagnostics.
    /// </summary>
    Result<IModelSession> Prepare(Model model, IReadOnlyList<int> observed);
}

/// <summary>A model ready to run.</summary>
public interface IModelSession : IDisposable
{
    /// <summary>Runs once with the raw bytes of every graph input; returns the observed tensors' bytes.</summary>
    IReadOnlyList<byte[]> Run(IReadOnlyList<byte[]> inputs);
}
