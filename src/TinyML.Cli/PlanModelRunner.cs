// SPDX-License-Identifier: Apache-2.0
using System;
using System.Collections.Generic;
using System.Linq;
using TinyML.Compiler.Diagnostics;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Lowering;
using TinyML.Compiler.PostTraining;
using TinyML.Runtime;

namespace TinyML.Cli;

/// <summary>
/// Runs models for the quantizer through the native kernels. To observe intermediate tensors it lowers a view of
/// the model whose graph outputs are the observed tensors, so the memory planner keeps each of them alive to the
/// end and none is overwritten in place. It lives on the host side, with the quantize command, because it lowers
/// models: TinyML.Runtime runs plans without the compiler.
/// </summary>
public sealed class PlanModelRunner : IModelRunner
{
    /// <inheritdoc />
    public Result<IModelSession> Prepare(Model model, IReadOnlyList<int> observed)
    {
        var graph = model.Main;
        var view = new Graph { Name = graph.Name, Inputs = graph.Inputs, Outputs = observed.Distinct().ToArray() };
        view.Tensors.AddRange(graph.Tensors);
        view.Operators.AddRange(graph.Operators);
        var copy = new Model { Version = model.Version, Description = model.Description };
        copy.Subgraphs.Add(view);
        var lowered = Lowerer.Lower(copy, null, LoweringOptions.None);
        if (lowered.Value is null) return new Result<IModelSession>(null, lowered.Diagnostics);
        var positions = observed.Select(t => Array.IndexOf(view.Outputs.ToArray(), t)).ToArray();
        return new Result<IModelSession>(new Session(new PlanExecutor(lowered.Value), positions), lowered.Diagnostics);
    }

    private sealed class Session : IModelSession
    {
        private readonly PlanExecutor _executor;
        private readonly int[] _positions;

        public Session(PlanExecutor executor, int[] positions)
        {
            _executor = executor;
            _positions = positions;
        }

        public IReadOnlyList<byte[]> Run(IReadOnlyList<byte[]> inputs)
        {
            if (inputs.Count != _executor.Plan.Inputs.Count)
                throw new ArgumentException($"{inputs.Count} inputs for a model with {_executor.Plan.Inputs.Count}");
            for (int i = 0; i < inputs.Count; i++)
            {
                var target = _executor.Input(i);
                if (inputs[i].Length != target.Length)
                    throw new ArgumentException($"input {i} has {inputs[i].Length} bytes; the model needs {target.Length}");
                inputs[i].CopyTo(target);
            }
            _executor.Run();
            return _positions.Select(p => _executor.Output(p).ToArray()).ToArray();
        }

        public void Dispose() => _executor.Dispose();
    }
}
