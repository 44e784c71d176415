"""The PyTorch target's operations on values: the operator or torch function on the tensors; a
reduction of an image works in the spec's layout (channels last), as its axes are Keras'."""

from __future__ import annotations

from netspec.layers.ops import operation_of
from netspec.targets.literals import py_literal
from netspec.targets.operations import Library, operation_expression
from netspec.targets.torch.emit import Emitter, from_spec, to_spec

_TORCH = Library("torch.", axis="dim", keepdims="keepdim", renamed={"max": "amax", "min": "amin"})
# torch.maximum and torch.minimum take two tensors: a number bounds the values instead.
_CLAMP = {"torch.maximum": "min", "torch.minimum": "max"}


def gen_operation(e: Emitter) -> None:
    kind = e.view.kind
    operation = operation_of(kind)
    if operation.reduction:
        source = to_spec(e.x, e.in_rank)
        expression = operation_expression(kind, e.args, [source], _TORCH)
        e.assign(from_spec(expression, e.out_rank))
        return
    bound = _CLAMP.get(_TORCH.function(operation.function))
    if operation.with_number and bound is not None:
        e.assign(f"torch.clamp({e.x}, {bound}={py_literal(e.args['operand'])})")
        return
    # Inputs of one rank share one layout, so element-wise work needs no transposes.
    e.assign(operation_expression(kind, e.args, e.inputs, _TORCH))
