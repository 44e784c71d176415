"""The functions of the language's expressions: int, float, round, min, max, ceil, floor, abs,
len, str and range, each with Python's meaning and a diagnostic for what Python would raise."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from netspec import codes
from netspec.language.values import is_number, shown

MAX_RANGE = 10_000  # as many values as a `for` may take


class FunctionProblem(Exception):
    """A function applied to what it cannot take: a code and a message, placed by the caller.
    `argument` is the index of the argument at fault, when one is."""

    def __init__(self, code: str, message: str, argument: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.argument = argument


def _number(name: str, value: Any, index: int) -> int | float:
    if not is_number(value):
        raise FunctionProblem(
            codes.WRONG_TYPE, f"{name}() takes a number, got {shown(value)}", index
        )
    return value


def _finite(name: str, value: Any, index: int) -> float:
    number = _number(name, value, index)
    if isinstance(number, float) and not math.isfinite(number):
        raise FunctionProblem(codes.VALUE_OUT_OF_RANGE, f"{name}() of {number} has no value", index)
    return number


def _int(args: tuple) -> int:
    _arity("int", args, 1, 1)
    value = args[0]
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise FunctionProblem(
                codes.WRONG_TYPE, f"int() cannot read a number from {shown(value)}", 0
            ) from None
    return int(_finite("int", value, 0))


def _float(args: tuple) -> float:
    _arity("float", args, 1, 1)
    value = args[0]
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise FunctionProblem(
                codes.WRONG_TYPE, f"float() cannot read a number from {shown(value)}", 0
            ) from None
    try:
        return float(_number("float", value, 0))
    except OverflowError:
        raise FunctionProblem(codes.VALUE_OUT_OF_RANGE, "the integer is too large for a float", 0)


def _round(args: tuple) -> int | float:
    _arity("round", args, 1, 2)
    value = _finite("round", args[0], 0)
    if len(args) == 1:
        return round(value)
    digits = args[1]
    if not isinstance(digits, int) or isinstance(digits, bool) or abs(digits) > 400:
        raise FunctionProblem(
            codes.WRONG_TYPE, f"round() takes a count of digits, got {shown(digits)}", 1
        )
    return round(value, digits)


def _extreme(name: str, pick: Callable) -> Callable[[tuple], Any]:
    def apply(args: tuple) -> Any:
        items = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        if not items:
            raise FunctionProblem(codes.WRONG_TYPE, f"{name}() of no values")
        for index, item in enumerate(items):
            _number(name, item, index if items is args else 0)
        return pick(items)

    return apply


def _rounding(name: str, round_to: Callable[[float], int]) -> Callable[[tuple], int]:
    def apply(args: tuple) -> int:
        _arity(name, args, 1, 1)
        return round_to(_finite(name, args[0], 0))

    return apply


def _abs(args: tuple) -> int | float:
    _arity("abs", args, 1, 1)
    return abs(_number("abs", args[0], 0))


def _len(args: tuple) -> int:
    _arity("len", args, 1, 1)
    if not isinstance(args[0], (tuple, str)):
        raise FunctionProblem(
            codes.WRONG_TYPE, f"len() takes a tuple or a string, got {shown(args[0])}", 0
        )
    return len(args[0])


def _str(args: tuple) -> str:
    _arity("str", args, 1, 1)
    value = args[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value) or isinstance(value, str):
        return str(value)
    raise FunctionProblem(
        codes.WRONG_TYPE, f"str() takes a number or a string, got {shown(value)}", 0
    )


def _range(args: tuple) -> tuple[int, ...]:
    _arity("range", args, 1, 3)
    for index, item in enumerate(args):
        if not isinstance(item, int) or isinstance(item, bool):
            raise FunctionProblem(
                codes.WRONG_TYPE, f"range() takes integers, got {shown(item)}", index
            )
    if len(args) == 3 and args[2] == 0:
        raise FunctionProblem(codes.VALUE_OUT_OF_RANGE, "range() step must not be zero", 2)
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise FunctionProblem(
            codes.VALUE_OUT_OF_RANGE,
            f"range() of {len(values):,} values; at most {MAX_RANGE:,}",
        )
    return tuple(values)


def _arity(name: str, args: tuple, least: int, most: int) -> None:
    if least <= len(args) <= most:
        return
    wanted = str(least) if least == most else f"{least} to {most}"
    raise FunctionProblem(
        codes.WRONG_TYPE,
        f"{name}() takes {wanted} argument{'s' if most != 1 else ''}, got {len(args)}",
    )


FUNCTIONS: dict[str, Callable[[tuple], Any]] = {
    "int": _int,
    "float": _float,
    "round": _round,
    "min": _extreme("min", min),
    "max": _extreme("max", max),
    "ceil": _rounding("ceil", math.ceil),
    "floor": _rounding("floor", math.floor),
    "abs": _abs,
    "len": _len,
    "str": _str,
    "range": _range,
}
