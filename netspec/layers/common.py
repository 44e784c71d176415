"""Building blocks shared by catalog entries: argument groups, name lists and shape arithmetic."""

from __future__ import annotations

from collections.abc import Sequence

from netspec import codes
from netspec.layers.base import Arg, Dim, Shape, ShapeError, ValueKind

K = ValueKind

ACTIVATIONS: tuple[str, ...] = (
    "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
)  # fmt: skip
# Keras activations that a model cannot use by name, and why (NS002 says so).
UNUSABLE_ACTIVATIONS: dict[str, str] = {
    "glu": (
        "Keras 3's Activation layer declares glu's output as wide as its input, but glu halves "
        "the last axis, so every layer after it is built for the wrong width"
    ),
    "threshold": (
        "it needs `threshold` and `default_value`, which an activation name cannot give; "
        "use relu(threshold=...)"
    ),
}
INITIALIZERS: tuple[str, ...] = (
    "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "zeros", "uniform", "normal",
)  # fmt: skip
REGULARIZERS: tuple[str, ...] = ("l1", "l2", "l1_l2", "orthogonal_regularizer")
CONSTRAINTS: tuple[str, ...] = ("max_norm", "min_max_norm", "non_neg", "unit_norm")
DTYPES: tuple[str, ...] = (
    "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "bool", "mixed_float16", "mixed_bfloat16",
)  # fmt: skip
PADDINGS = ("valid", "same")
DATA_FORMATS = ("channels_last", "channels_first")


def initializer(name: str, default: str) -> Arg:
    return Arg(name, K.INITIALIZER, default)


def regularizer(name: str) -> Arg:
    return Arg(name, K.REGULARIZER, None, nullable=True)


def constraint(name: str) -> Arg:
    return Arg(name, K.CONSTRAINT, None, nullable=True)


def weight_args(*prefixes: str, defaults: dict[str, str] | None = None) -> tuple[Arg, ...]:
    """`<p>_initializer`, then `<p>_regularizer`s and `activity_regularizer`, then `<p>_constraint`s,
    in the order Keras' Dense and Conv constructors list them."""
    defaults = defaults or {}
    inits = tuple(
        initializer(
            f"{p}_initializer", defaults.get(p, "zeros" if p == "bias" else "glorot_uniform")
        )
        for p in prefixes
    )
    regs = tuple(regularizer(f"{p}_regularizer") for p in prefixes)
    constraints = tuple(constraint(f"{p}_constraint") for p in prefixes)
    return inits + regs + (regularizer("activity_regularizer"),) + constraints


def activation_arg(default: str | None = None) -> Arg:
    return Arg("activation", K.ACTIVATION, default, nullable=True)


def data_format_arg() -> Arg:
    return Arg("data_format", K.CHOICE, None, choices=DATA_FORMATS, nullable=True)


def channels_first(args) -> bool:
    return args.get("data_format") == "channels_first"


# ---- shape arithmetic ----------------------------------------------------------------------


def require_rank(shape: Shape, rank: int | Sequence[int], what: str) -> None:
    """Raise NS104 unless `shape` (batch excluded) has the given rank(s)."""
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    if len(shape) not in ranks:
        wanted = " or ".join(str(r + 1) for r in ranks)
        raise ShapeError(
            f"{what} needs an input of rank {wanted} (batch included), got {format_shape(shape)} "
            f"(rank {len(shape) + 1})",
            code=codes.WRONG_RANK,
        )


def require_min_rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) < rank:
        raise ShapeError(
            f"{what} needs an input of rank {rank + 1} or more (batch included), got "
            f"{format_shape(shape)}",
            code=codes.WRONG_RANK,
        )


def known_last(shape: Shape, what: str, axis: int = -1) -> int:
    dim = shape[axis] if shape else None
    if dim is None:
        raise ShapeError(
            f"{what} needs a known size on axis {axis} to build its weights, got {format_shape(shape)}",
            code=codes.UNKNOWN_DIMENSION,
        )
    return dim


def format_shape(shape: Shape, batch: bool = True) -> str:
    dims = ["None" if d is None else str(d) for d in shape]
    if batch:
        dims = ["None"] + dims
    inner = ", ".join(dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def conv_length(length: Dim, kernel: int, stride: int, padding: str, dilation: int = 1) -> Dim:
    """Keras' output length of a convolution or pooling window along one axis."""
    if length is None:
        return None
    if padding in ("same", "causal"):
        return -(-length // stride)  # ceil in integers: a length past a float's range is exact
    span = (kernel - 1) * dilation + 1
    return (length - span) // stride + 1


def conv_transpose_length(
    length: Dim, kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int
) -> Dim:
    """Keras' `compute_conv_transpose_output_length` along one axis."""
    if length is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def windowed(
    spatial: Sequence[Dim],
    kernel: Sequence[int],
    strides: Sequence[int],
    padding: str,
    dilation: Sequence[int] | None,
    kernel_arg: str,
) -> tuple[Dim, ...]:
    """Output spatial dims of a window op; NS101 when the window does not fit (valid padding)."""
    dilation = dilation or (1,) * len(kernel)
    out: list[Dim] = []
    for axis, (n, k, s, d) in enumerate(zip(spatial, kernel, strides, dilation)):
        size = conv_length(n, k, s, padding, d)
        if size is not None and size <= 0:
            window = "x".join(str(v) for v in kernel)
            extent = "x".join("?" if v is None else str(v) for v in spatial)
            dilated = f" (dilated to {(k - 1) * d + 1})" if d > 1 else ""
            raise ShapeError(
                f"window {window}{dilated} is larger than its {extent} input; "
                "use padding=same or a smaller window",
                code=codes.WINDOW_TOO_LARGE,
                argument=kernel_arg,
            )
        out.append(size)
    return tuple(out)


def product(dims: Sequence[Dim]) -> Dim:
    total = 1
    for dim in dims:
        if dim is None:
            return None
        total *= dim
    return total


# ---- spatial layouts -----------------------------------------------------------------------


def int_tuple(value: int | Sequence[int], rank: int) -> tuple[int, ...]:
    """An INT_TUPLE value as a `rank`-tuple. Binding expands what a user writes, but a Keras
    default (`strides=1` of Conv1D) may reach a shape function as written."""
    if isinstance(value, int):
        return (value,) * rank
    return tuple(value)


def padding_pairs(value: int | Sequence, rank: int) -> tuple[tuple[int, int], ...]:
    """A PADDING_PAIRS value as `rank` (before, after) pairs, read as Keras reads it: an int pads
    every side; for rank 1 two ints are (before, after), for rank n they are one int per axis."""
    if isinstance(value, int):
        return ((value, value),) * rank
    items = tuple(value)
    if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return ((items[0], items[1]),)
    return tuple((v, v) if isinstance(v, int) else (v[0], v[1]) for v in items)


def split_channels(shape: Shape, first: bool) -> tuple[tuple[Dim, ...], Dim]:
    """(spatial dims, channels) of a batchless shape in either data format."""
    if first:
        return tuple(shape[1:]), shape[0]
    return tuple(shape[:-1]), shape[-1]


def join_channels(spatial: Sequence[Dim], channels: Dim, first: bool) -> Shape:
    """The inverse of `split_channels`."""
    return (channels, *spatial) if first else (*spatial, channels)


def known_channels(shape: Shape, what: str, first: bool) -> int:
    """The channel count of `shape`; NS108 when it is unknown, since weights depend on it."""
    channels = split_channels(shape, first)[1]
    if channels is None:
        axis = 1 if first else -1
        raise ShapeError(
            f"{what} needs a known channel count (axis {axis}) to build its weights, got "
            f"{format_shape(shape)}",
            code=codes.UNKNOWN_DIMENSION,
        )
    return channels


def resolve_axis(shape: Shape, axis: int, what: str, argument: str = "axis") -> int:
    """The index into `shape` (batch excluded) of a Keras axis, which counts the batch as axis 0.

    NS102 when the axis is the batch axis or lies outside the input."""
    rank = len(shape) + 1
    if not -rank <= axis < rank:
        raise ShapeError(
            f"axis {axis} is out of range for input {format_shape(shape)} (rank {rank}); "
            f"{what} takes an axis from 1 to {rank - 1} or from -1 to -{rank - 1}",
            code=codes.INCOMPATIBLE_INPUT,
            argument=argument,
        )
    index = axis % rank
    if index == 0:
        raise ShapeError(
            f"axis {axis} is the batch axis of {format_shape(shape)}; {what} takes an axis from "
            f"1 to {rank - 1} or from -1 to -{rank - 1}",
            code=codes.INCOMPATIBLE_INPUT,
            argument=argument,
        )
    return index - 1
