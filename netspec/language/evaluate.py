"""Evaluating expressions: literals, tuples, names, Python's arithmetic, comparisons and logic,
the functions, `VALUE.shape` and indexing. Tensors are asked of lowering through TensorHooks."""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from netspec import codes
from netspec.diagnostics import Span
from netspec.language import syntax as S
from netspec.language.functions import FUNCTIONS, FunctionProblem
from netspec.language.values import UNKNOWN, BranchOnly, Several, TensorRef, is_number, shown
from netspec.layers.catalog import CallValue
from netspec.layers.core import INPUT
from netspec.layers.resolve import digit_count

__all__ = ["Several", "TensorHooks", "TensorRef", "Unknown", "ValueError_", "evaluate"]

MAX_INT = 2**63 - 1
MAX_STRING = 10_000  # characters a joined string may hold
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
TENSOR_OPERATORS = frozenset("+-*/")


class ValueError_(Exception):
    """A value that cannot be evaluated; carries a code and the span at fault."""

    def __init__(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.help = help


class Unknown(Exception):
    """The value depends on one that is unknown because of a problem reported elsewhere (a
    layer whose shape cannot be inferred): nothing more is said about it."""


class TensorHooks(Protocol):
    """What evaluation asks of lowering about tensors."""

    def input(self, node: S.InputExpr) -> TensorRef: ...

    def shape(self, ref: TensorRef, span: Span) -> tuple: ...

    def arithmetic(self, node: S.Value, op: str, operands: tuple[Any, ...]) -> TensorRef: ...

    def ops(self, node: S.MethodCall, env: Mapping[str, Any]) -> TensorRef: ...

    def applied(self, node: S.AppliedCall) -> TensorRef: ...


CallHook = Callable[[S.Call, Mapping[str, Any]], Any]


def evaluate(
    value: S.Value,
    env: Mapping[str, Any],
    call_hook: CallHook | None = None,
    tensors: TensorHooks | None = None,
) -> Any:
    """The Python value of an AST value. Words bound in `env` take their value; other words
    stay strings (`relu`, `same`). `call_hook` turns a call into a layer value; `tensors`
    answers for tensors (`input`, `.shape`, arithmetic on values)."""
    # Most values are a literal or a word: read them without setting up an evaluation.
    kind = type(value)
    if kind in _LITERALS:
        return value.value
    if kind is S.Word:
        return _word(value, env)
    return _Evaluation(env, call_hook, tensors).value(value)


def _word(word: S.Word, env: Mapping[str, Any]) -> Any:
    found = env.get(word.name, word.name)
    if found is UNKNOWN:
        raise Unknown
    if isinstance(found, BranchOnly):
        raise ValueError_(
            codes.USED_BEFORE_BOUND,
            f"`{word.name}` is bound in only some branches of the `if` at line {found.line}",
            word.span,
            help="bind it in every branch, or before the `if`",
        )
    return found


_LITERALS = frozenset({S.Int, S.Float, S.Str, S.Bool})


class _Evaluation:
    def __init__(
        self, env: Mapping[str, Any], call_hook: CallHook | None, tensors: TensorHooks | None
    ) -> None:
        self.env = env
        self.call_hook = call_hook
        self.tensors = tensors

    def value(self, value: S.Value) -> Any:
        if isinstance(value, (S.Int, S.Float, S.Str, S.Bool)):
            return value.value
        if isinstance(value, S.NoneValue):
            return None
        if isinstance(value, S.Word):
            return _word(value, self.env)
        if isinstance(value, S.TupleValue):
            return tuple(self.value(item) for item in value.items)
        if isinstance(value, S.Negate):
            return self.negate(value)
        if isinstance(value, S.Not):
            return not self.condition(value.operand, "`not`")
        if isinstance(value, S.BinaryOp):
            return self.binary(value)
        if isinstance(value, S.Attribute):
            return self.attribute(value)
        if isinstance(value, S.Index):
            return self.index(value)
        if isinstance(value, S.Call):
            return self.call(value)
        if isinstance(value, S.MethodCall):
            return self.method_call(value)
        if isinstance(value, S.InputExpr):
            if self.tensors is not None and value.shape is None:
                return self.tensors.input(value)
            raise ValueError_(
                codes.WRONG_TYPE,
                "`input` is a tensor; it can only be merged or passed along a chain",
                value.span,
            )
        if isinstance(value, S.AppliedCall):
            if self.tensors is not None:
                return self.tensors.applied(value)
            raise ValueError_(
                codes.WRONG_TYPE,
                f"`{value.call.name}(...)(...)` applies a layer: it starts a chain or a binding "
                f"(`y = {value.call.name}(...)(x)`), and cannot stand inside an expression or "
                "an argument",
                value.span,
            )
        raise AssertionError(f"unknown value node {type(value).__name__}")  # pragma: no cover

    # ---- operators ------------------------------------------------------------------------

    def negate(self, node: S.Negate) -> Any:
        operand = self.value(node.operand)
        if isinstance(operand, TensorRef) and self.tensors is not None:
            return self.tensors.arithmetic(node, "neg", (operand,))
        self.number(operand, node.operand, "`-`")
        return -operand

    def condition(self, node: S.Value, what: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise ValueError_(
                codes.WRONG_TYPE,
                f"{what} takes true or false, got {shown(value)}",
                node.span,
                help="compare it: `x > 0`, `p == None`",
            )
        return value

    def binary(self, node: S.BinaryOp) -> Any:
        op = node.op
        if op in ("and", "or"):
            left = self.condition(node.left, f"`{op}`")
            if left == (op == "or"):
                return left
            return self.condition(node.right, f"`{op}`")
        left = self.value(node.left)
        right = self.value(node.right)
        if op in _COMPARE:
            return self.compare(node, left, right)
        if isinstance(left, TensorRef) or isinstance(right, TensorRef):
            return self.tensor_arithmetic(node, left, right)
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_STRING:
                raise ValueError_(
                    codes.VALUE_OUT_OF_RANGE,
                    f"a string of more than {MAX_STRING:,} characters",
                    node.span,
                )
            return left + right
        if op == "+" and isinstance(left, tuple) and isinstance(right, tuple):
            return left + right
        self.number(left, node.left, f"`{op}`")
        self.number(right, node.right, f"`{op}`")
        return self.checked(self.arithmetic(node, op, left, right), node)

    def tensor_arithmetic(self, node: S.BinaryOp, left: Any, right: Any) -> TensorRef:
        if self.tensors is None or node.op not in TENSOR_OPERATORS:
            side = node.left if isinstance(left, TensorRef) else node.right
            raise ValueError_(
                codes.WRONG_TYPE,
                (
                    f"`{node.op}` takes numbers here, got a value (a tensor)"
                    if self.tensors is None
                    else f"`{node.op}` does not apply to values (tensors); `+ - * /` do"
                ),
                side.span,
            )
        for operand, side in ((left, node.left), (right, node.right)):
            if not isinstance(operand, TensorRef):
                self.number(operand, side, f"`{node.op}` with a value")
        return self.tensors.arithmetic(node, node.op, (left, right))

    def compare(self, node: S.BinaryOp, left: Any, right: Any) -> bool:
        for operand, side in ((left, node.left), (right, node.right)):
            if isinstance(operand, (TensorRef, Several)):
                raise ValueError_(
                    codes.WRONG_TYPE,
                    f"`{node.op}` compares numbers, strings and tuples, got {shown(operand)}",
                    side.span,
                )
        if node.op in ("==", "!="):
            return _COMPARE[node.op](left, right)
        both_numbers = is_number(left) and is_number(right)
        same_kind = type(left) is type(right) and isinstance(left, (str, tuple))
        if not (both_numbers or same_kind):
            bad, side = (left, node.left) if not is_number(left) else (right, node.right)
            if bad is None:
                self.number(bad, side, f"`{node.op}`")
            raise ValueError_(
                codes.WRONG_TYPE,
                f"`{node.op}` cannot compare {shown(left)} with {shown(right)}",
                node.span,
            )
        try:
            return _COMPARE[node.op](left, right)
        except TypeError:
            raise ValueError_(
                codes.WRONG_TYPE,
                f"`{node.op}` cannot compare {shown(left)} with {shown(right)}",
                node.span,
            ) from None

    def number(self, value: Any, node: S.Value, what: str) -> None:
        """A number where `what` needs one, with a diagnostic that names what was there."""
        if is_number(value):
            if isinstance(value, int) and abs(value) > MAX_INT:
                raise ValueError_(codes.VALUE_OUT_OF_RANGE, _too_large(value), node.span)
            return
        if value is None:
            raise ValueError_(
                codes.UNKNOWN_DIMENSION,
                f"`{source_text(node)}` is None (an unknown size); {what} needs a number",
                node.span,
                help="give the input that size, or compute from a known one",
            )
        raise ValueError_(codes.WRONG_TYPE, f"{what} takes numbers, got {shown(value)}", node.span)

    def arithmetic(self, node: S.BinaryOp, op: str, left: Any, right: Any) -> Any:
        if op in ("/", "//", "%") and right == 0:
            raise ValueError_(codes.VALUE_OUT_OF_RANGE, "division by zero", node.right.span)
        if op == "**":
            return self.power(node, left, right)
        try:
            if op == "+":
                return left + right
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if op == "/":
                return left / right
            if op == "//":
                return left // right
            return left % right
        except OverflowError:
            raise ValueError_(
                codes.VALUE_OUT_OF_RANGE, "the result is too large", node.span
            ) from None

    def power(self, node: S.BinaryOp, base: Any, exponent: Any) -> Any:
        if base == 0 and exponent < 0:
            raise ValueError_(codes.VALUE_OUT_OF_RANGE, "0 to a negative power", node.span)
        if base < 0 and isinstance(exponent, float) and not exponent.is_integer():
            raise ValueError_(
                codes.VALUE_OUT_OF_RANGE,
                f"{base!r} ** {exponent!r} has no real value",
                node.span,
            )
        # 2 ** 10**9 would take the machine: judge the size before computing it.
        whole = isinstance(base, int) and isinstance(exponent, int)
        if whole and exponent > 0 and abs(base) > 1 and exponent * math.log2(abs(base)) > 63:
            raise ValueError_(
                codes.VALUE_OUT_OF_RANGE,
                f"{base} ** {exponent} is out of range (64 bits)",
                node.span,
            )
        try:
            return base**exponent
        except (OverflowError, ZeroDivisionError):
            raise ValueError_(
                codes.VALUE_OUT_OF_RANGE, f"{base!r} ** {exponent!r} is out of range", node.span
            ) from None

    def checked(self, result: Any, node: S.Value) -> Any:
        if isinstance(result, float) and not math.isfinite(result):
            raise ValueError_(
                codes.VALUE_OUT_OF_RANGE, "the result is too large for a float", node.span
            )
        if isinstance(result, int) and abs(result) > MAX_INT:
            raise ValueError_(codes.VALUE_OUT_OF_RANGE, _too_large(result), node.span)
        return result

    # ---- postfix --------------------------------------------------------------------------

    def attribute(self, node: S.Attribute) -> tuple:
        target = self.value(node.value)
        if not isinstance(target, TensorRef):
            raise ValueError_(
                codes.WRONG_TYPE,
                f"`.{node.name}` is an attribute of a value (a tensor), not of {shown(target)}",
                node.name_span,
            )
        if node.name != "shape":
            raise ValueError_(
                codes.UNKNOWN_NAME,
                f"a value has no attribute `{node.name}`; it has `.shape`",
                node.name_span,
            )
        if target.node is None or self.tensors is None:
            raise Unknown
        return self.tensors.shape(target, node.span)

    def index(self, node: S.Index) -> Any:
        target = self.value(node.value)
        position = self.value(node.index)
        if not isinstance(target, (tuple, str)):
            raise ValueError_(
                codes.WRONG_TYPE,
                f"only a tuple or a string takes `[i]`, not {shown(target)}",
                node.value.span,
            )
        if not isinstance(position, int) or isinstance(position, bool):
            raise ValueError_(
                codes.WRONG_TYPE,
                f"an index is an integer, got {shown(position)}",
                node.index.span,
            )
        if not -len(target) <= position < len(target):
            raise ValueError_(
                codes.VALUE_OUT_OF_RANGE,
                f"index {position} is out of range for `{source_text(node.value)}`, "
                f"which has {len(target)} item{'s' if len(target) != 1 else ''}",
                node.index.span,
            )
        return target[position]

    # ---- calls ----------------------------------------------------------------------------

    def call(self, node: S.Call) -> Any:
        function = FUNCTIONS.get(node.name)
        if function is not None:
            return self.function(node, function)
        if self.call_hook is not None:
            hooked = self.call_hook(node, self.env)
            if hooked is not None:
                return hooked
        positional = tuple(self.value(a.value) for a in node.arguments if a.name is None)
        for argument in node.arguments:
            if argument.name and keyword.iskeyword(argument.name):
                raise ValueError_(
                    codes.UNKNOWN_ARGUMENT,
                    f"`{argument.name}` is not an argument name",
                    argument.name_span or argument.span,
                )
        keywords = tuple((a.name, self.value(a.value)) for a in node.arguments if a.name)
        for value, argument in zip(positional, node.arguments):
            if isinstance(value, TensorRef):
                raise ValueError_(
                    codes.WRONG_TYPE,
                    f"{node.name}(...) takes options here, not a value (a tensor)",
                    argument.span,
                )
        return CallValue(node.name, positional, keywords)

    def function(self, node: S.Call, function: Callable[[tuple], Any]) -> Any:
        for argument in node.arguments:
            if argument.name is not None:
                raise ValueError_(
                    codes.UNKNOWN_ARGUMENT,
                    f"{node.name}() takes no keyword arguments",
                    argument.name_span or argument.span,
                )
        args = tuple(self.value(a.value) for a in node.arguments)
        try:
            return self.checked(function(args), node)
        except FunctionProblem as exc:
            span = node.span
            if exc.argument is not None and exc.argument < len(node.arguments):
                span = node.arguments[exc.argument].span
                if exc.code == codes.WRONG_TYPE and args[exc.argument] is None:
                    self.number(None, node.arguments[exc.argument].value, f"{node.name}()")
            raise ValueError_(exc.code, exc.message, span) from None

    def method_call(self, node: S.MethodCall) -> Any:
        if isinstance(node.receiver, S.Word) and node.receiver.name == "ops":
            if self.tensors is None:
                raise ValueError_(
                    codes.WRONG_TYPE,
                    f"ops.{node.name} makes a value (a tensor); it cannot stand here",
                    node.span,
                )
            return self.tensors.ops(node, self.env)
        raise ValueError_(
            codes.UNKNOWN_NAME,
            f"`{source_text(node.receiver)}` has no function `{node.name}`; "
            "the functions on values are ops.sqrt, ops.sum, ...",
            node.name_span,
        )


def source_text(node: S.Value) -> str:
    """An expression written back, for a message that names it (`input.shape[1]`)."""
    if isinstance(node, S.Word):
        return node.name
    if isinstance(node, S.InputExpr) and node.shape is None:
        return INPUT.name  # the kind's name is the keyword
    if isinstance(node, S.Attribute):
        return f"{source_text(node.value)}.{node.name}"
    if isinstance(node, S.Index):
        return f"{source_text(node.value)}[{source_text(node.index)}]"
    if isinstance(node, (S.Int, S.Float)):
        return repr(node.value)
    if isinstance(node, S.Negate):
        return f"-{source_text(node.operand)}"
    if isinstance(node, S.Call) and not node.arguments:
        return f"{node.name}()"
    return "the value"


def _too_large(value: int) -> str:
    # No float conversion: an integer of 310 digits or more overflows one.
    return f"integer of {digit_count(value)} digits is out of range (64 bits)"
