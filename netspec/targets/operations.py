"""The operations on values (`x * 0.5`, `ops.sqrt(x)`, `ops.sum(x, axis=1)`) as Python
expressions: one writer for the three targets, each naming its own functions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netspec.layers.catalog import LayerKind
from netspec.layers.ops import operation_of
from netspec.targets.literals import py_literal


@dataclass(frozen=True)
class Library:
    """How a target writes the functions: `keras.ops.sqrt`, `torch.sqrt`, `np.sqrt`."""

    prefix: str  # `keras.ops.`, `torch.`, `np.`
    axis: str  # the keyword of a reduction's axes: `axis` or `dim`
    keepdims: str  # `keepdims` or `keepdim`
    renamed: Mapping[str, str] = field(default_factory=dict)  # torch's `amax` for `max`

    def function(self, name: str) -> str:
        return self.prefix + self.renamed.get(name, name)


def operation_expression(
    kind: LayerKind, args: Mapping[str, Any], inputs: Sequence[str], library: Library
) -> str:
    """The expression computing operation `kind` on the input expressions. A reduction's axis
    is written as given: the caller passes the tensor in the layout of its axes."""
    operation = operation_of(kind)
    if operation.with_number:
        number = py_literal(args["operand"])
        tensor = _atom(inputs[0])
        pair = (number, tensor) if args["reverse"] else (tensor, number)
        return _binary(operation.function, operation.operator, pair, library)
    if len(inputs) == 2:
        pair = (_atom(inputs[0]), _atom(inputs[1]))
        return _binary(operation.function, operation.operator, pair, library)
    function = library.function(operation.function)
    if operation.reduction:
        axis = py_literal(args["axis"])
        keep = py_literal(args["keepdims"])
        return f"{function}({inputs[0]}, {library.axis}={axis}, {library.keepdims}={keep})"
    if operation.function == NEGATIVE:
        return f"-{_atom(inputs[0])}"
    return f"{function}({inputs[0]})"


NEGATIVE = "negative"


def _binary(function: str, operator: str | None, pair: tuple[str, str], library: Library) -> str:
    if operator is not None:
        return f"{pair[0]} {operator} {pair[1]}"
    return f"{library.function(function)}({pair[0]}, {pair[1]})"


_ATOM = re.compile(r"[A-Za-z_][\w.]*(\[\d+\])?|\d[\w.]*")


def _atom(expr: str) -> str:
    """An operand that needs no parentheses under a binary operator: a name (`x`, `t[0]`) or a
    number; anything else is parenthesized."""
    return expr if _ATOM.fullmatch(expr) else f"({expr})"
