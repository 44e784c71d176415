"""What an entry of the catalog of call values is (layers/calls.py, layers/training_calls.py):
its family, its Keras class and constructor arguments, and the checks across its arguments."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from netspec.layers.base import Arg, ValueKind

K = ValueKind


class Family(enum.Enum):
    """What a call value makes; the value is the word messages use for it."""

    INITIALIZER = "initializer"
    REGULARIZER = "regularizer"
    CONSTRAINT = "constraint"
    OPTIMIZER = "optimizer"
    LOSS = "loss"
    METRIC = "metric"


@dataclass(frozen=True)
class Fault:
    """A relation's problem (a check across arguments, or a bound an Arg cannot state) and the
    argument that answers for it: the diagnostic points at it when the spec gave it."""

    message: str
    argument: str


# A check across arguments, given them all bound (defaults included): the problem, or None.
Relation = Callable[[Mapping[str, Any]], Fault | None]


@dataclass(frozen=True)
class CallKind:
    """One entry: the spec's snake_case name, the Keras class and its constructor arguments.

    `weight_ranks` is (least, most) rank of the weight it can initialize or regularize, where
    Keras refuses others when the layer is built (orthogonal needs a matrix); None for any.
    `keras_string` is the identifier Keras' `get()` takes for it where the spec's spelling is
    not one ("" when every spelling is; None when there is none: the class is written)."""

    name: str
    keras_class: str
    family: Family
    args: tuple[Arg, ...] = ()
    aliases: tuple[str, ...] = ()
    weight_ranks: tuple[int, int | None] | None = None
    relation: Relation | None = None
    keras_string: str | None = ""

    def arg(self, name: str) -> Arg | None:
        for arg in self.args:
            if arg.name == name:
                return arg
        return None


def number_arg(
    name: str,
    default: Any,
    minimum: float | None = None,
    below: float | None = None,
    maximum: float | None = None,
) -> Arg:
    return Arg(name, K.FLOAT, default, minimum=minimum, below=below, maximum=maximum)


def optional_number_arg(name: str, minimum: float | None = None) -> Arg:
    return Arg(name, K.FLOAT, None, minimum=minimum, nullable=True)


def all_of(*relations: Relation) -> Relation:
    def check(args: Mapping[str, Any]) -> Fault | None:
        for relation in relations:
            problem = relation(args)
            if problem:
                return problem
        return None

    return check


def ordered(low: str, high: str) -> Relation:
    """`low` <= `high`; the diagnostic points at `high` when the spec gave it."""

    def check(args: Mapping[str, Any]) -> Fault | None:
        if args[low] is not None and args[high] is not None and args[low] > args[high]:
            return Fault(f"`{low}` ({args[low]!r}) must not exceed `{high}` ({args[high]!r})", high)
        return None

    return check


def within(name: str, low: float, high: float, *, open_low: bool = False) -> Relation:
    """`name` in [low, high] (or (low, high]), pointed at when the spec gave it."""

    def check(args: Mapping[str, Any]) -> Fault | None:
        value = args.get(name)
        if value is None or (low < value <= high) or (not open_low and value == low):
            return None
        bracket = "(" if open_low else "["
        return Fault(f"`{name}` must be in {bracket}{low:g}, {high:g}], got {value!r}", name)

    return check


def above_zero(name: str) -> Relation:
    def check(args: Mapping[str, Any]) -> Fault | None:
        value = args.get(name)
        if value is not None and value <= 0:
            return Fault(f"`{name}` must be > 0, got {value!r}", name)
        return None

    return check
