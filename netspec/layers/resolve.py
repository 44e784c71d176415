"""Binding a call's arguments to a layer kind: positional order, Keras defaults, value checks."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netspec import codes
from netspec.layers.base import (
    COMMON_ARGS,
    Arg,
    CallValue,
    LayerKind,
    LayerSpec,
    ValueKind,
    keras_snake_case,
)
from netspec.layers.calls import Family, lookup_call, weight_rank_problem
from netspec.layers.common import (
    ACTIVATIONS,
    CONSTRAINTS,
    DTYPES,
    INITIALIZERS,
    REGULARIZERS,
    UNUSABLE_ACTIVATIONS,
)

K = ValueKind
MAX_INT = 2**63 - 1


# Arguments of Keras 2 that Keras 3 dropped, with what to write instead.
KERAS2_ARGUMENTS = {
    "input_length": "Keras 3 has no input_length; give the input its length: `input [10] int32`",
    "kernel_dim_ordering": "Keras 3 has no kernel_dim_ordering; use data_format",
    "init": "Keras 3 calls it kernel_initializer",
    "W_regularizer": "Keras 3 calls it kernel_regularizer",
    "b_regularizer": "Keras 3 calls it bias_regularizer",
    "nb_filter": "Keras 3 calls it filters",
    "border_mode": "Keras 3 calls it padding",
    "subsample": "Keras 3 calls it strides",
    "output_dim": "Keras 3's dense calls it units",
}


@dataclass(frozen=True)
class ArgumentProblem:
    """One thing wrong with a call's arguments.

    `position` is the index of the positional argument at fault, `keyword` the keyword at fault;
    neither is set for a missing argument (the call itself is at fault). `inner` is, for a call
    value such as `l2("x")`, its own argument at fault (an index or a keyword).
    """

    code: str
    message: str
    position: int | None = None
    keyword: str | None = None
    help: str | None = None
    inner: int | str | None = None


def did_you_mean(word: str, candidates: Sequence[str]) -> str | None:
    """The closest candidate, compared case-insensitively and ignoring `_`."""
    folded = {c.lower().replace("_", ""): c for c in candidates}
    key = word.lower().replace("_", "")
    if key in folded:
        return folded[key]
    matches = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.7)
    return folded[matches[0]] if matches else None


def suggestion(word: str, candidates: Sequence[str]) -> str:
    close = did_you_mean(word, candidates)
    return f"; did you mean `{close}`?" if close and close != word else ""


def all_args(kind: LayerKind) -> tuple[Arg, ...]:
    names = {a.name for a in kind.args}
    return kind.args + tuple(a for a in COMMON_ARGS if a.name not in names)


def bind_arguments(
    kind: LayerKind,
    positional: Sequence[Any],
    keywords: Sequence[tuple[str, Any]],
) -> tuple[dict[str, Any], frozenset[str], list[ArgumentProblem]]:
    """Bind values to `kind`'s arguments. Returns (args with defaults, names given, problems)."""
    problems: list[ArgumentProblem] = []
    params = all_args(kind)
    by_name = {a.name: a for a in params}
    given: dict[str, Any] = {}
    if len(positional) > len(kind.args):
        shown = ", ".join(a.name for a in kind.args) or "none"
        problems.append(
            ArgumentProblem(
                codes.UNKNOWN_ARGUMENT,
                f"{kind.name} takes at most {len(kind.args)} positional argument"
                f"{'' if len(kind.args) == 1 else 's'} ({shown}), got {len(positional)}",
                position=len(kind.args),
            )
        )
    for index, (arg, value) in enumerate(zip(kind.args, positional)):
        given[arg.name] = value
        _check_into(kind, arg, value, given, problems, position=index)
    for name, value in keywords:
        arg = by_name.get(name)
        if arg is None:
            problems.append(
                ArgumentProblem(
                    codes.UNKNOWN_ARGUMENT,
                    f"{kind.name} has no argument `{name}`"
                    + suggestion(name, [a.name for a in params]),
                    keyword=name,
                    help=KERAS2_ARGUMENTS.get(name),
                )
            )
            continue
        if name in given:
            problems.append(
                ArgumentProblem(
                    codes.DUPLICATE_ARGUMENT,
                    f"argument `{name}` of {kind.name} is given twice",
                    keyword=name,
                )
            )
            continue
        given[name] = value
        _check_into(kind, arg, value, given, problems, keyword=name)
    for arg in kind.args:
        if arg.required and arg.name not in given:
            problems.append(
                ArgumentProblem(
                    codes.MISSING_ARGUMENT,
                    f"{kind.name} needs the argument `{arg.name}`"
                    + (f" ({arg.doc})" if arg.doc else ""),
                )
            )
    resolved = {a.name: given[a.name] if a.name in given else _default(kind, a) for a in params}
    for index, arg in _weight_call_args(kind):
        if arg.name not in given:
            continue
        if any(p.keyword == arg.name or p.position == index for p in problems):
            continue
        problem = weight_rank_problem(kind, arg, given[arg.name], resolved)
        if problem is not None:
            named = any(key == arg.name for key, _ in keywords)
            at = {"keyword": arg.name} if named else {"position": index}
            problems.append(ArgumentProblem(codes.INCOMPATIBLE_INPUT, problem, **at))
    return resolved, frozenset(given), problems


# Arguments whose call value makes or constrains a weight of a given rank (orthogonal: 2-D+).
_WEIGHT_CALLS = (K.INITIALIZER, K.REGULARIZER)
_WEIGHT_CALL_ARGS: dict[str, tuple[tuple[int, Arg], ...]] = {}


def _weight_call_args(kind: LayerKind) -> tuple[tuple[int, Arg], ...]:
    """(position, argument) of `kind`'s initializer and regularizer arguments, found once."""
    found = _WEIGHT_CALL_ARGS.get(kind.name)
    if found is None:
        found = tuple((i, a) for i, a in enumerate(kind.args) if a.kind in _WEIGHT_CALLS)
        _WEIGHT_CALL_ARGS[kind.name] = found
    return found


def _default(kind: LayerKind, arg: Arg) -> Any:
    """A default in the form the shape functions expect (Keras' `strides=1` becomes `(1,)`)."""
    if arg.required or arg.default is None or arg.kind not in (K.INT_TUPLE, K.PADDING_PAIRS):
        return arg.default
    return check_value(kind.name, arg, arg.default)


def _check_into(
    kind: LayerKind,
    arg: Arg,
    value: Any,
    given: dict[str, Any],
    problems: list[ArgumentProblem],
    *,
    position: int | None = None,
    keyword: str | None = None,
) -> None:
    if value is INVALID:
        return
    try:
        given[arg.name] = check_value(kind.name, arg, value)
    except ValueProblem as exc:
        message = exc.message
        fix = _activation_in_place(kind, value) if position is not None else None
        if fix is not None and exc.code == codes.WRONG_TYPE:
            message = f"{message}; {fix}"
        problems.append(ArgumentProblem(exc.code, message, position, keyword, exc.help, exc.inner))


def _activation_in_place(kind: LayerKind, value: Any) -> str | None:
    """The fix for an activation given where the Keras order puts another argument:
    `conv2d(32, 3, relu)` lands relu on strides, where `dense(4, relu)` is right."""
    if not isinstance(value, str) or value not in ACTIVATIONS:
        return None
    if any(arg.name == "activation" for arg in kind.args):
        return f"`{value}` is an activation: write activation={value}"
    return (
        f"`{value}` is an activation, which {kind.name} does not take: add a {value} layer after it"
    )


class _Invalid:
    """Stands for an argument whose value could not be evaluated (already reported)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()


class ValueProblem(Exception):
    """A value that does not fit its argument; `inner` is the argument at fault inside a call
    value (`constant("x")`: 0)."""

    def __init__(
        self, code: str, message: str, help: str | None = None, inner: int | str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.help = help
        self.inner = inner


_SHOWN_ITEMS = 8


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "None"
    if isinstance(value, LayerSpec):
        return f"layer {value.kind}"
    if isinstance(value, CallValue):
        return f"{value.name}(...)"
    if isinstance(value, tuple):
        # A message shows the start of a long tuple: building it must not cost its length.
        shown = [describe(v) for v in value[:_SHOWN_ITEMS]]
        if len(value) > _SHOWN_ITEMS:
            shown.append(f"... {len(value):,} values in all")
        return "(" + ", ".join(shown) + ("," if len(value) == 1 else "") + ")"
    if _is_int(value) and abs(value) > MAX_INT:
        return f"an integer of {digit_count(value)} digits"
    return repr(value) if isinstance(value, float) else str(value)


def digit_count(value: int) -> int:
    """The decimal digits of an integer, without str(), which refuses more than 4300 digits."""
    if value == 0:
        return 1
    digits = int(abs(value).bit_length() * math.log10(2))  # may be one short
    return digits + (abs(value) >= 10**digits)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_value(layer: str, arg: Arg, value: Any) -> Any:
    """Check `value` against `arg` and return it normalised (ints expanded to tuples, ...)."""
    where = f"`{arg.name}` of {layer}"
    if value is None:
        if arg.nullable or arg.default is None:
            return None
        raise ValueProblem(codes.WRONG_TYPE, f"{where} cannot be None")
    kind = arg.kind
    if kind is K.ANY:
        return value
    if kind is K.INT:
        if not _is_int(value):
            raise ValueProblem(
                codes.WRONG_TYPE, f"{where} must be an integer, got {describe(value)}"
            )
        if abs(value) > MAX_INT:
            raise ValueProblem(
                codes.VALUE_OUT_OF_RANGE,
                f"{where} is out of range (64 bits): {digit_count(value)} digits",
            )
        _check_range(where, arg, value)
        return value
    if kind is K.FLOAT:
        if not _is_number(value):
            raise ValueProblem(codes.WRONG_TYPE, f"{where} must be a number, got {describe(value)}")
        # An integer of 310 digits or more does not fit a float: compare before converting.
        if abs(value) > MAX_INT or not math.isfinite(value):
            shown = describe(value) if isinstance(value, int) else f"{value:g}"
            raise ValueProblem(codes.VALUE_OUT_OF_RANGE, f"{where} is out of range: {shown}")
        _check_range(where, arg, value)
        return float(value)
    if kind is K.BOOL:
        if not isinstance(value, bool):
            raise ValueProblem(
                codes.WRONG_TYPE, f"{where} must be true or false, got {describe(value)}"
            )
        return value
    if kind is K.CHOICE:
        # Keras lower-cases its option strings (`padding="SAME"` is accepted), so netspec does too.
        folded = value.lower() if isinstance(value, str) else value
        return _check_word(where, folded, arg.choices, "option")
    if kind is K.ACTIVATION:
        if isinstance(value, str) and value in UNUSABLE_ACTIVATIONS:
            raise ValueProblem(
                codes.UNKNOWN_NAME,
                f"activation `{value}` cannot be used: {UNUSABLE_ACTIVATIONS[value]}",
            )
        return _check_word(where, value, ACTIVATIONS, "activation")
    if kind is K.DTYPE:
        return _check_word(where, value, DTYPES, "dtype")
    if kind is K.INT_TUPLE:
        return _int_tuple(where, arg, value)
    if kind is K.PADDING_PAIRS:
        return _padding_pairs(where, arg, value)
    if kind is K.SHAPE:
        if not isinstance(value, tuple) or not all(_is_int(v) or v is None for v in value):
            raise ValueProblem(
                codes.WRONG_TYPE,
                f"{where} must be a tuple of integers such as (4, 4), got {describe(value)}",
            )
        return value
    if kind is K.SIZES:
        sizes = (value,) if _is_int(value) else value
        if not isinstance(sizes, tuple) or not all(
            v is None or (_is_int(v) and v >= 1) for v in sizes
        ):
            raise ValueProblem(
                codes.WRONG_TYPE,
                f"{where} must be a size or a tuple of sizes such as (None, 64), "
                f"got {describe(value)}",
            )
        return value
    if kind is K.AXIS:
        if _is_int(value) or (isinstance(value, tuple) and all(_is_int(v) for v in value)):
            return value
        raise ValueProblem(
            codes.WRONG_TYPE, f"{where} must be an integer axis, got {describe(value)}"
        )
    if kind is K.INITIALIZER:
        return _check_callable_name(where, value, INITIALIZERS, Family.INITIALIZER)
    if kind is K.REGULARIZER:
        return _check_callable_name(where, value, REGULARIZERS, Family.REGULARIZER)
    if kind is K.CONSTRAINT:
        return _check_callable_name(where, value, CONSTRAINTS, Family.CONSTRAINT)
    if kind is K.LAYER:
        if not isinstance(value, LayerSpec):
            raise ValueProblem(
                codes.WRONG_TYPE, f"{where} must be a layer such as lstm(64), got {describe(value)}"
            )
        return value
    if kind is K.STRING:
        if not isinstance(value, str):
            raise ValueProblem(codes.WRONG_TYPE, f"{where} must be a string, got {describe(value)}")
        return value
    raise AssertionError(f"unhandled value kind {kind}")  # pragma: no cover


def range_text(arg: Arg) -> str:
    """The range of a number argument in words: `>= 0`, `in [0, 1)`, `in [0, 1]`, `<= 1`."""
    upper = (
        f"{arg.below:g})" if arg.below is not None
        else f"{arg.maximum:g}]" if arg.maximum is not None else None
    )  # fmt: skip
    if arg.minimum is not None and upper is not None:
        return f"in [{arg.minimum:g}, {upper}"
    if arg.minimum is not None:
        return f">= {arg.minimum:g}"
    if arg.below is not None:
        return f"< {arg.below:g}"
    return f"<= {arg.maximum:g}" if arg.maximum is not None else ""


def _check_range(where: str, arg: Arg, value: float) -> None:
    if (
        (arg.minimum is not None and value < arg.minimum)
        or (arg.below is not None and value >= arg.below)
        or (arg.maximum is not None and value > arg.maximum)
    ):
        raise ValueProblem(
            codes.VALUE_OUT_OF_RANGE, f"{where} must be {range_text(arg)}, got {describe(value)}"
        )


def _check_word(where: str, value: Any, choices: Sequence[str], what: str) -> str:
    if not isinstance(value, str):
        raise ValueProblem(
            codes.WRONG_TYPE,
            f"{where} must be one of {', '.join(choices[:8])}, got {describe(value)}",
        )
    if value in choices:
        return value
    raise ValueProblem(
        codes.UNKNOWN_NAME,
        f"unknown {what} `{value}` for {where}" + suggestion(value, choices),
        help=f"known: {', '.join(choices)}" if len(choices) <= 12 else None,
    )


def _check_callable_name(where: str, value: Any, names: Sequence[str], family: Family) -> Any:
    """An initializer, regularizer or constraint: a name (`he_normal`, `HeNormal`) or a call,
    whose arguments are checked against the Keras constructor (layers/calls.py)."""
    what = family.value
    name = value.name if isinstance(value, CallValue) else value
    if not isinstance(name, str):
        raise ValueProblem(
            codes.WRONG_TYPE, f"{where} must be a {what} name or call, got {describe(value)}"
        )
    if keras_snake_case(name) not in names:
        raise ValueProblem(
            codes.UNKNOWN_NAME, f"unknown {what} `{name}` for {where}" + suggestion(name, names)
        )
    if isinstance(value, CallValue):
        check_call_value(family, value, where)
    return value


def check_call_value(family: Family, value: CallValue, where: str) -> dict[str, Any]:
    """Bind a call value's arguments to its Keras constructor, as a layer's are bound: the
    arguments with defaults, or ValueProblem (with `inner`) for the first that does not fit.

    A name the catalog of calls does not know is let through unchecked (the caller checks
    names against its own vocabulary). `compile(optimizer=sgd(...))` is checked with this too."""
    entry = lookup_call(family, value.name)
    if entry is None:
        return {}
    context = f"{value.name}(...) in {where}"
    if len(value.args) > len(entry.args):
        shown = ", ".join(a.name for a in entry.args) or "none"
        raise ValueProblem(
            codes.UNKNOWN_ARGUMENT,
            f"{context} takes at most {len(entry.args)} positional argument"
            f"{'' if len(entry.args) == 1 else 's'} ({shown}), got {len(value.args)}",
            inner=len(entry.args),
        )
    given: dict[str, Any] = {}
    places: dict[str, int | str] = {}  # where the spec gave each argument, for a Fault
    for index, (arg, item) in enumerate(zip(entry.args, value.args)):
        given[arg.name] = _check_inner(context, arg, item, index)
        places[arg.name] = index
    for key, item in value.kwargs:
        arg = entry.arg(key)
        if arg is None:
            raise ValueProblem(
                codes.UNKNOWN_ARGUMENT,
                f"{entry.name} has no argument `{key}` (in {where})"
                + suggestion(key, [a.name for a in entry.args]),
                help=f"{entry.name} takes: {', '.join(a.name for a in entry.args) or 'nothing'}",
                inner=key,
            )
        if key in given:
            raise ValueProblem(
                codes.DUPLICATE_ARGUMENT, f"argument `{key}` of {context} is given twice", inner=key
            )
        given[key] = _check_inner(context, arg, item, key)
        places[key] = key
    bound = {a.name: given.get(a.name, a.default) for a in entry.args}
    problem = entry.relation(bound) if entry.relation else None
    if problem is not None:
        inner = places.get(problem.argument)
        raise ValueProblem(codes.VALUE_OUT_OF_RANGE, f"{context}: {problem.message}", inner=inner)
    return bound


def _check_inner(context: str, arg: Arg, value: Any, inner: int | str) -> Any:
    if value is INVALID:
        return arg.default
    try:
        return check_value(context, arg, value)
    except ValueProblem as exc:
        raise ValueProblem(exc.code, exc.message, exc.help, inner) from None


def _int_tuple(where: str, arg: Arg, value: Any) -> tuple[int, ...]:
    rank = arg.rank or 1
    if _is_int(value):
        items: tuple = (value,) * rank
    elif isinstance(value, tuple) and len(value) == rank and all(_is_int(v) for v in value):
        items = value
    else:
        example = ", ".join(["3"] * rank)
        raise ValueProblem(
            codes.WRONG_TYPE,
            f"{where} must be an integer or a tuple of {rank} integers such as ({example}"
            f"{',' if rank == 1 else ''}), got {describe(value)}",
        )
    minimum = 1 if arg.minimum is None else arg.minimum
    for item in items:
        if item < minimum:
            raise ValueProblem(
                codes.VALUE_OUT_OF_RANGE, f"{where} must be >= {minimum:g}, got {describe(value)}"
            )
    return items


def _padding_pairs(where: str, arg: Arg, value: Any) -> tuple[tuple[int, int], ...]:
    rank = arg.rank or 1
    pairs: tuple[tuple[int, int], ...] | None = None
    if _is_int(value):
        pairs = ((value, value),) * rank
    elif isinstance(value, tuple):
        if rank == 1 and len(value) == 2 and all(_is_int(v) for v in value):
            pairs = (value,)
        elif len(value) == rank and all(_is_int(v) for v in value):
            pairs = tuple((v, v) for v in value)
        elif len(value) == rank and all(
            isinstance(p, tuple) and len(p) == 2 and all(_is_int(v) for v in p) for p in value
        ):
            pairs = value
    if pairs is None:
        raise ValueProblem(
            codes.WRONG_TYPE,
            f"{where} must be an integer, {rank} integers, or {rank} (before, after) pairs, "
            f"got {describe(value)}",
        )
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueProblem(
            codes.VALUE_OUT_OF_RANGE, f"{where} must not be negative, got {describe(value)}"
        )
    return pairs


class BindError(Exception):
    """Raised by `bind` (the Python-level convenience) with every problem found."""

    def __init__(self, problems: list[ArgumentProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def bind(kind: LayerKind | str, *positional: Any, **keywords: Any) -> dict[str, Any]:
    """Resolve arguments as a spec would: `bind("conv2d", 32, 3, padding="same")`."""
    if isinstance(kind, str):
        from netspec.layers.catalog import lookup

        found = lookup(kind)
        if found is None:
            raise KeyError(kind)
        kind = found
    args, _, problems = bind_arguments(kind, positional, list(keywords.items()))
    if problems:
        raise BindError(problems)
    return args
