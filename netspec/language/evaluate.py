"""Evaluating argument values: literals, tuples, block parameters and integer arithmetic."""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from netspec import codes
from netspec.diagnostics import Span
from netspec.language import syntax as S
from netspec.layers.catalog import CallValue
from netspec.layers.resolve import digit_count

MAX_INT = 2**63 - 1


class ValueError_(Exception):
    """A value that cannot be evaluated; carries a code and the span at fault."""

    def __init__(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.help = help


@dataclass(frozen=True)
class TensorRef:
    """A tensor value in a scope: the IR node that produces it (None once it is unknown)."""

    node: int | None


CallHook = Callable[[S.Call, Mapping[str, Any]], Any]


def evaluate(
    value: S.Value,
    env: Mapping[str, Any],
    call_hook: CallHook | None = None,
) -> Any:
    """The Python value of an AST value. Words that are parameters take the parameter's value;
    other words stay strings (`relu`, `same`). `call_hook` turns a call into a layer value."""
    if isinstance(value, (S.Int, S.Float, S.Str, S.Bool)):
        return value.value
    if isinstance(value, S.NoneValue):
        return None
    if isinstance(value, S.Word):
        return env.get(value.name, value.name)
    if isinstance(value, S.TupleValue):
        return tuple(evaluate(item, env, call_hook) for item in value.items)
    if isinstance(value, S.Negate):
        operand = evaluate(value.operand, env, call_hook)
        if not _is_number(operand):
            raise ValueError_(codes.WRONG_TYPE, f"cannot negate {_shown(operand)}", value.span)
        return -operand
    if isinstance(value, S.BinaryOp):
        return _binary(value, env, call_hook)
    if isinstance(value, S.Call):
        if call_hook is not None:
            hooked = call_hook(value, env)
            if hooked is not None:
                return hooked
        positional = tuple(
            evaluate(a.value, env, call_hook) for a in value.arguments if a.name is None
        )
        for argument in value.arguments:
            if argument.name and keyword.iskeyword(argument.name):
                raise ValueError_(
                    codes.UNKNOWN_ARGUMENT,
                    f"`{argument.name}` is not an argument name",
                    argument.name_span or argument.span,
                )
        keywords = tuple(
            (a.name, evaluate(a.value, env, call_hook)) for a in value.arguments if a.name
        )
        return CallValue(value.name, positional, keywords)
    if isinstance(value, S.InputExpr):
        raise ValueError_(
            codes.WRONG_TYPE,
            "`input` is a tensor; it can only be merged or passed along a chain",
            value.span,
        )
    raise AssertionError(f"unknown value node {type(value).__name__}")  # pragma: no cover


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, TensorRef):
        return "a tensor"
    return repr(value)


def _binary(node: S.BinaryOp, env: Mapping[str, Any], call_hook: CallHook | None) -> int:
    left = evaluate(node.left, env, call_hook)
    right = evaluate(node.right, env, call_hook)
    for operand, side in ((left, node.left), (right, node.right)):
        if not (isinstance(operand, int) and not isinstance(operand, bool)):
            raise ValueError_(
                codes.WRONG_TYPE,
                f"`{node.op}` works on integers, got {_shown(operand)}",
                side.span,
            )
        # Checked where it is read, before any arithmetic: the operand is at fault, not the sum.
        if abs(operand) > MAX_INT:
            raise ValueError_(codes.VALUE_OUT_OF_RANGE, _too_large(operand), side.span)
    if node.op == "+":
        result = left + right
    elif node.op == "-":
        result = left - right
    elif node.op == "*":
        result = left * right
    else:
        if right == 0:
            raise ValueError_(codes.VALUE_OUT_OF_RANGE, "integer division by zero", node.right.span)
        result = left // right
    if abs(result) > MAX_INT:
        raise ValueError_(codes.VALUE_OUT_OF_RANGE, _too_large(result), node.span)
    return result


def _too_large(value: int) -> str:
    # No float conversion: an integer of 310 digits or more overflows one.
    return f"integer of {digit_count(value)} digits is out of range (64 bits)"
