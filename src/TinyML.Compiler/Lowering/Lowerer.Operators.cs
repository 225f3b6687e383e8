// SPDX-License-Identifier: Apache-2.0
using System;
using TinyML.Compiler.Ir;
using TinyML.Compiler.Operators;
using TinyML.Compiler.Plan;
using TinyML.Compiler.Planning;

namespace TinyML.Compiler.Lowering;

public static partial class Lowerer
{
    private sealed partial class Context
    {
        private OperatorLowering? _lowering;

        private LoweringContext Lowering => _lowering ??= new OperatorLowering(this);

        /// <summary>Scratch bytes per operator; must equal the kernel's _get_buffer_size (tests check it).</summary>
        private long ScratchBytes(Operator op) => OperatorRegistry.Of(op.Kind)?.ScratchBytes(Lowering, op) ?? 0;

        private void LowerOperator(Operator op) =>
            (OperatorRegistry.Of(op.Kind) ?? throw Fail($"no lowering for {op.TypeName}")).Lower(Lowering, op);

        /// <summary>The lowering context of the operator being lowered (<see cref="_op"/>).</summary>
        private sealed class OperatorLowering : LoweringContext
        {
            private readonly Context _context;

            public OperatorLowering(Context context) => _context = context;

            public override Tensor T(int index) => _context.T(index);

            public override Pointer Ptr(int index) => _context.Ptr(index);

            public override Pointer Constant(byte[] bytes, int sourceTensor = -1)
            {
                // Operators sharing a weight tensor share what was derived from it (packed the same way): one blob.
                if (sourceTensor >= 0)
                    foreach (var pair in _context._plan.ConstantSources)
                        if (pair.Value == sourceTensor && _context._plan.Constants[pair.Key].AsSpan().SequenceEqual(bytes))
                            return Pointer.Constant(pair.Key);
                var pointer = _context._plan.AddConstant(bytes);
                if (sourceTensor >= 0) _context._plan.ConstantSources[pointer.Blob] = sourceTensor;
                return pointer;
            }

            public override Pointer Scratch => Pointer.Arena(_context._scratchOffset[_context._op]);

            public override string Target => _context._options.Target;

            public override RequantizationRounding Rounding => _context._options.Rounding;

            public override bool Widened(int weightsTensor) => _context._widened.Contains(weightsTensor);

            public override bool UsedByTraining(int tensor) => _context._parameterOffset.ContainsKey(tensor) || _context._readByTraining.Contains(tensor);

            public override InPlaceKind? InPlace => _context._inPlace.TryGetValue(_context._op, out var pair) ? pair.Kind : null;

            public override void Call(string kernel, string comment, params Arg[] args) => _context.Call(kernel, comment, args);
        }
    }
}
