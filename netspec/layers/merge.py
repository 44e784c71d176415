"""Merge layer kinds: element-wise merges (add, multiply, ...), concat and dot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import (
    REQUIRED,
    Arg,
    Dim,
    LayerKind,
    Shape,
    ShapeError,
    ValueKind,
)
from netspec.layers.common import format_shape, resolve_axis

K = ValueKind

# Keras 3 merges take any number of inputs; a bound keeps a runaway spec from passing thousands.
MANY = 64


def _exactly_two(inputs: list[Shape], what: str) -> tuple[Shape, Shape]:
    if len(inputs) != 2:
        raise ShapeError(
            f"{what} takes exactly 2 inputs, got {len(inputs)}", code=codes.INCOMPATIBLE_INPUT
        )
    return inputs[0], inputs[1]


# ---- element-wise merges -------------------------------------------------------------------


def _broadcast(first: Shape, second: Shape, what: str) -> Shape:
    """Keras' `Merge._compute_elemwise_op_output_shape`: shapes align on the right, a size of 1
    stretches, and an unknown size on either side gives an unknown size (even against a 1)."""
    longer, shorter = (second, first) if len(first) < len(second) else (first, second)
    if not shorter:
        return longer
    out: list[Dim] = list(longer[: len(longer) - len(shorter)])
    for i, j in zip(longer[len(longer) - len(shorter) :], shorter):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ShapeError(
                f"{what} needs inputs of one shape, got {format_shape(first)} and "
                f"{format_shape(second)} ({i} against {j}; only sizes of 1 broadcast)",
                code=codes.MERGE_SHAPE_MISMATCH,
            )
        else:
            out.append(i)
    return tuple(out)


broadcast = _broadcast  # for the operations on values (layers/ops.py)


def _elementwise_infer(what: str) -> Callable[[list[Shape], Any], Shape]:
    def infer(inputs: list[Shape], args) -> Shape:
        out = inputs[0]
        for shape in inputs[1:]:
            out = _broadcast(out, shape, what)
        return out

    return infer


def _subtract_infer(inputs: list[Shape], args) -> Shape:
    first, second = _exactly_two(inputs, "subtract")
    return _broadcast(first, second, "subtract")


def _elementwise(
    name: str, keras_class: str, traits: T.Traits, summary: str, two_only: bool = False
) -> LayerKind:
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=(),
        infer=_subtract_infer if two_only else _elementwise_infer(name),
        traits=traits,
        category="merge",
        summary=summary,
        # Keras 3 accepts one input (it passes it through); a merge of one value is a mistake.
        min_inputs=2,
        max_inputs=2 if two_only else MANY,
    )


# Sums and differences keep a linear chain linear: add(dense(x), dense(x)) is one linear map;
# they, products, maxima and minima of whole numbers are whole numbers.
_SUM = T.but(T.MERGE, integers=T.Integers.WHOLE, merge=T.Merge.SUM)
# Multiply, Maximum and Minimum also read the masks: a masked step of one input takes the
# others' values (Keras' _merge_function), where Add and Subtract ignore them.
_PRODUCT = T.but(
    _SUM,
    linearity=T.Linearity.NONLINEAR,
    merge=T.Merge.PRODUCT,
    mask=T.Masking(T.MaskFlow.ALL_INPUTS, reads=True, makes=False),
)
_EXTREMUM = T.but(_PRODUCT, weak_nonlinearity=True, merge=T.Merge.EXTREMUM)

ADD = _elementwise("add", "Add", _SUM, "Adds its inputs element-wise.")
SUBTRACT = _elementwise(
    "subtract", "Subtract", _SUM, "The first input minus the second.", two_only=True
)
MULTIPLY = _elementwise("multiply", "Multiply", _PRODUCT, "Multiplies its inputs element-wise.")
AVERAGE = _elementwise(
    "average", "Average", T.but(T.MERGE, merge=T.Merge.MEAN), "The element-wise mean."
)
MAXIMUM = _elementwise("maximum", "Maximum", _EXTREMUM, "The element-wise maximum.")
MINIMUM = _elementwise("minimum", "Minimum", _EXTREMUM, "The element-wise minimum.")


# ---- concat --------------------------------------------------------------------------------


def concat_infer(inputs: list[Shape], args) -> Shape:
    axis = args["axis"]
    if isinstance(axis, (tuple, list)):
        raise ShapeError(f"concat joins along one axis, got axis={tuple(axis)}", argument="axis")
    first = inputs[0]
    for shape in inputs[1:]:
        if len(shape) != len(first):
            raise ShapeError(
                f"concat needs inputs of one rank, got {format_shape(first)} and "
                f"{format_shape(shape)}",
                code=codes.MERGE_SHAPE_MISMATCH,
            )
    index = resolve_axis(first, axis, "concat")
    # Off the axis every known size must agree; an unknown size agrees with anything (as Keras).
    for dim in range(len(first)):
        if dim == index:
            continue
        known = [s for s in inputs if s[dim] is not None]
        for shape in known[1:]:
            if shape[dim] != known[0][dim]:
                raise ShapeError(
                    f"concat along axis {axis} needs inputs that match off that axis, got "
                    f"{format_shape(known[0])} and {format_shape(shape)}",
                    code=codes.MERGE_SHAPE_MISMATCH,
                )
    # Keras takes the other sizes from the first input, even an unknown one another input knows.
    sizes = [s[index] for s in inputs]
    total = None if any(d is None for d in sizes) else sum(sizes)  # type: ignore[arg-type]
    return first[:index] + (total,) + first[index + 1 :]


CONCAT = LayerKind(
    name="concat",
    keras_class="Concatenate",
    args=(Arg("axis", K.AXIS, -1),),
    infer=concat_infer,
    aliases=("concatenate",),
    traits=T.but(
        T.MERGE,
        integers=T.Integers.WHOLE,
        mask=T.Masking(T.MaskFlow.ANY_INPUT, reads=False, makes=False),
        merge=T.Merge.STACK,
    ),
    category="merge",
    summary="Joins its inputs along `axis` (the last by default).",
    min_inputs=2,
    max_inputs=MANY,
)


# ---- dot -----------------------------------------------------------------------------------


def _dot_axes(args, first: Shape, second: Shape) -> tuple[int, int]:
    """Indices into the batch-less shapes of the two contracted axes."""
    axes = args["axes"]
    if isinstance(axes, (tuple, list)):
        if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
            raise ShapeError(
                f"axes takes one axis or a pair (one per input), got {tuple(axes)}", argument="axes"
            )
        pair = (axes[0], axes[1])
    else:
        pair = (axes, axes)
    return resolve_axis(first, pair[0], "dot", "axes"), resolve_axis(second, pair[1], "dot", "axes")


def dot_infer(inputs: list[Shape], args) -> Shape:
    first, second = _exactly_two(inputs, "dot")
    for shape in (first, second):
        if not shape:
            raise ShapeError(
                f"dot needs inputs of rank 2 or more (batch included), got {format_shape(shape)}",
                code=codes.WRONG_RANK,
            )
    a, b = _dot_axes(args, first, second)
    # Keras compares the two sizes as they are, so an unknown size against a known one fails too.
    if first[a] != second[b]:
        raise ShapeError(
            f"dot needs equal sizes on the contracted axes, got {first[a]} (axis {a + 1} of "
            f"{format_shape(first)}) and {second[b]} (axis {b + 1} of {format_shape(second)})",
            code=codes.MERGE_SHAPE_MISMATCH,
        )
    out = first[:a] + first[a + 1 :] + second[:b] + second[b + 1 :]
    return out or (1,)  # two vectors give (batch, 1), as Keras' batch_dot


DOT = LayerKind(
    name="dot",
    keras_class="Dot",
    args=(Arg("axes", K.AXIS, REQUIRED), Arg("normalize", K.BOOL, False)),
    infer=dot_infer,
    traits=T.but(
        T.MERGE,
        linearity=T.Linearity.NONLINEAR,
        mask=T.Masking(T.MaskFlow.ENDS, reads=False, makes=False),
        merge=T.Merge.PRODUCT,
    ),
    category="merge",
    summary="Dot products of two inputs along `axes` (normalize=true: cosine similarity).",
    min_inputs=2,
    max_inputs=2,
)


KINDS: tuple[LayerKind, ...] = (ADD, SUBTRACT, MULTIPLY, AVERAGE, MAXIMUM, MINIMUM, CONCAT, DOT)
