"""Operations on values, made by expressions rather than written as layers: `x * 0.5`, `a - b`,
`ops.sqrt(x)`, `ops.sum(x, axis=1, keepdims=true)`. They have no weights and no Keras layer
class (Keras applies the operator or keras.ops function to the tensors); their names start with
`ops.`, which no spec can write as a layer kind."""

from __future__ import annotations

from dataclasses import dataclass

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import Arg, LayerKind, Shape, ShapeError, ValueKind
from netspec.layers.common import format_shape, resolve_axis
from netspec.layers.merge import broadcast

K = ValueKind
PREFIX = "ops."

# Keras' op classes by operation: what `summary` shows as the type.
_CLASSES = {
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "divide": "Divide",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "negative": "Negative",
    "sqrt": "Sqrt",
    "square": "Square",
    "exp": "Exp",
    "log": "Log",
    "abs": "Absolute",
    "sum": "Sum",
    "mean": "Mean",
    "max": "Max",
    "min": "Min",
}
OPERATORS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
UNARY = ("sqrt", "square", "exp", "log", "abs")
BINARY = ("maximum", "minimum")
REDUCTIONS = ("sum", "mean", "max", "min")


def _identity(inputs: list[Shape], args) -> Shape:
    return inputs[0]


def _values_infer(what: str):
    def infer(inputs: list[Shape], args) -> Shape:
        first, second = inputs
        if len(first) != len(second):
            # Both carry the batch: values of two ranks would broadcast the batch against a
            # feature axis, which Keras allows and no model means.
            raise ShapeError(
                f"`{what}` takes values of one rank, got {format_shape(first)} and "
                f"{format_shape(second)}",
                code=codes.MERGE_SHAPE_MISMATCH,
            )
        return broadcast(first, second, f"`{what}`")

    return infer


def _reduce_infer(inputs: list[Shape], args) -> Shape:
    shape = inputs[0]
    axis = args["axis"]
    axes = axis if isinstance(axis, tuple) else (axis,)
    indices = set()
    for item in axes:
        if not isinstance(item, int) or isinstance(item, bool):
            raise ShapeError(
                f"axis is an integer or a tuple of integers, got {item!r}",
                code=codes.WRONG_TYPE,
                argument="axis",
            )
        indices.add(resolve_axis(shape, item, "a reduction"))
    if args["keepdims"]:
        return tuple(1 if i in indices else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in indices)


def _kind(name: str, infer, traits: T.Traits, summary: str, args=(), inputs=1) -> LayerKind:
    return LayerKind(
        name=PREFIX + name,
        keras_class=_CLASSES[name.removesuffix("_number")],
        args=args,
        infer=infer,
        traits=traits,
        category="operations",
        summary=summary,
        min_inputs=inputs,
        max_inputs=inputs,
    )


_NUMBER_ARGS = (
    Arg("operand", K.FLOAT, 0.0, doc="the number"),
    Arg("reverse", K.BOOL, False, doc="the number stands on the left: `1 - x`"),
)
_NONLINEAR = T.but(T.PLAIN, linearity=T.Linearity.NONLINEAR)
_WEAK = T.but(_NONLINEAR, weak_nonlinearity=True)
# A sum or difference of values keeps a linear chain linear, as the add merge does. Keras drops
# a mask at an operation (the generated Lambda does not support masking), unlike at a merge.
_SUM = T.but(T.PLAIN, merge=T.Merge.SUM)
_PRODUCT = T.but(T.PLAIN, linearity=T.Linearity.NONLINEAR, merge=T.Merge.PRODUCT)
_EXTREMUM = T.but(_PRODUCT, weak_nonlinearity=True, merge=T.Merge.EXTREMUM)

_NUMBER_TRAITS = {
    "add": T.PLAIN,
    "subtract": T.PLAIN,
    "multiply": T.PLAIN,  # a linear map for the rules: `x * 0.5` between dense layers collapses
    "divide": T.PLAIN,
    "maximum": _WEAK,
    "minimum": _WEAK,
}
_VALUES_TRAITS = {
    "add": _SUM,
    "subtract": _SUM,
    "multiply": _PRODUCT,
    "divide": _PRODUCT,
    "maximum": _EXTREMUM,
    "minimum": _EXTREMUM,
}

KINDS: tuple[LayerKind, ...] = (
    *(
        _kind(op, _values_infer(op), _VALUES_TRAITS[op], f"`{op}` of two values", inputs=2)
        for op in (*OPERATORS.values(), *BINARY)
    ),
    *(
        _kind(
            f"{op}_number",
            _identity,
            _NUMBER_TRAITS[op],
            f"`{op}` of a value and a number",
            _NUMBER_ARGS,
        )
        for op in (*OPERATORS.values(), *BINARY)
    ),
    _kind("negative", _identity, T.PLAIN, "`-x`"),
    *(_kind(op, _identity, _NONLINEAR, f"ops.{op}(x)") for op in UNARY),
    *(
        _kind(
            op,
            _reduce_infer,
            T.PLAIN if op in ("sum", "mean") else _WEAK,
            f"ops.{op}(x, axis, keepdims): the {op} over the axes",
            (Arg("axis", K.AXIS), Arg("keepdims", K.BOOL, False)),
        )
        for op in REDUCTIONS
    ),
)

_BY_NAME = {kind.name: kind for kind in KINDS}


@dataclass(frozen=True)
class Operation:
    """What a target needs to write an operation: keras.ops' function name (numpy and torch
    mostly share it), the Python operator of the four arithmetic ones, and whether a number
    stands for one of the values or the operation reduces over axes."""

    function: str
    operator: str | None
    with_number: bool
    reduction: bool


_SYMBOLS = {name: symbol for symbol, name in OPERATORS.items()}


def operation_of(kind: LayerKind) -> Operation:
    op = kind.name.removeprefix(PREFIX)
    with_number = op.endswith("_number")
    function = op.removesuffix("_number")
    return Operation(function, _SYMBOLS.get(function), with_number, function in REDUCTIONS)


def operation(name: str) -> LayerKind:
    """The kind of an operation: `add` (two values), `add_number`, `sqrt`, `sum`, ..."""
    return _BY_NAME[PREFIX + name]


def is_operation(kind: LayerKind) -> bool:
    return kind.name.startswith(PREFIX)
