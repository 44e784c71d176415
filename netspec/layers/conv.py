"""Convolution layer kinds: conv1d/2d/3d, depthwise and separable conv2d, transposed conv1d/2d/3d."""

from __future__ import annotations

from collections.abc import Sequence

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import (
    REQUIRED,
    Arg,
    Args,
    LayerKind,
    Shape,
    ShapeError,
    ValueKind,
    Weight,
)
from netspec.layers.common import (
    PADDINGS,
    activation_arg,
    channels_first,
    conv_transpose_length,
    data_format_arg,
    int_tuple,
    join_channels,
    known_channels,
    require_rank,
    split_channels,
    weight_args,
    windowed,
)

K = ValueKind


# ---- argument builders ---------------------------------------------------------------------


def _ones(rank: int) -> int | tuple[int, ...]:
    """Keras writes the unit stride of its 1D layers as `1`, of the others as a tuple."""
    return 1 if rank == 1 else (1,) * rank


def _kernel_arg(rank: int) -> Arg:
    return Arg("kernel_size", K.INT_TUPLE, REQUIRED, rank=rank, minimum=1)


def _strides_arg(rank: int) -> Arg:
    return Arg("strides", K.INT_TUPLE, _ones(rank), rank=rank, minimum=1)


def _dilation_arg(rank: int) -> Arg:
    return Arg("dilation_rate", K.INT_TUPLE, _ones(rank), rank=rank, minimum=1)


def _padding_arg(causal: bool = False) -> Arg:
    # Only Conv1D takes "causal" (left padding, for sequence models).
    return Arg("padding", K.CHOICE, "valid", choices=PADDINGS + (("causal",) if causal else ()))


def _filters_arg() -> Arg:
    return Arg("filters", K.INT, REQUIRED, minimum=1)


def _depth_multiplier_arg() -> Arg:
    return Arg("depth_multiplier", K.INT, 1, minimum=1)


def _fmt(values: Sequence[int]) -> str:
    return "x".join(str(v) for v in values)


# ---- shared shape logic --------------------------------------------------------------------


def _window_args(args: Args, rank: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    return (
        int_tuple(args["kernel_size"], rank),
        int_tuple(args["strides"], rank),
        int_tuple(args["dilation_rate"], rank),
    )


def _refuse_strided_dilation(strides: tuple[int, ...], dilation: tuple[int, ...]) -> None:
    # Conv and ConvTranspose refuse the pair in their constructors (depthwise and separable
    # accept it), so the model could not even be built.
    if max(strides) > 1 and max(dilation) > 1:
        raise ShapeError(
            f"strides {_fmt(strides)} cannot be combined with dilation_rate {_fmt(dilation)}: "
            "Keras allows strides > 1 or dilation_rate > 1, not both",
            code=codes.INCOMPATIBLE_INPUT,
            argument="dilation_rate",
        )


def _spatial_out(shape: Shape, args: Args, rank: int, what: str) -> tuple[Shape, bool]:
    """Output spatial dims of a forward convolution and whether channels come first."""
    require_rank(shape, rank + 1, what)
    first = channels_first(args)
    spatial, _ = split_channels(shape, first)
    kernel, strides, dilation = _window_args(args, rank)
    out = windowed(spatial, kernel, strides, args["padding"], dilation, "kernel_size")
    return out, first


# ---- conv1d / conv2d / conv3d --------------------------------------------------------------


def _conv(rank: int) -> LayerKind:
    name = f"conv{rank}d"

    def infer(inputs: list[Shape], args: Args) -> Shape:
        (shape,) = inputs
        _refuse_strided_dilation(*_window_args(args, rank)[1:])
        groups, filters = args["groups"], args["filters"]
        if filters % groups:
            raise ShapeError(
                f"groups={groups} does not divide filters={filters}",
                code=codes.INCOMPATIBLE_INPUT,
                argument="groups",
            )
        out, first = _spatial_out(shape, args, rank, name)
        channels = split_channels(shape, first)[1]
        if channels is not None and channels % groups:
            raise ShapeError(
                f"groups={groups} does not divide the {channels} input channels",
                code=codes.INCOMPATIBLE_INPUT,
                argument="groups",
            )
        return join_channels(out, filters, first)

    def weights(inputs: list[Shape], args: Args) -> list[Weight]:
        channels = known_channels(inputs[0], name, channels_first(args))
        kernel = int_tuple(args["kernel_size"], rank)
        found = [Weight("kernel", (*kernel, channels // args["groups"], args["filters"]))]
        if args["use_bias"]:
            found.append(Weight("bias", (args["filters"],)))
        return found

    keras_class = f"Conv{rank}D"
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=(
            _filters_arg(),
            _kernel_arg(rank),
            _strides_arg(rank),
            _padding_arg(causal=rank == 1),
            data_format_arg(),
            _dilation_arg(rank),
            Arg("groups", K.INT, 1, minimum=1),
            activation_arg(),
            Arg("use_bias", K.BOOL, True),
            *weight_args("kernel", "bias"),
        ),
        infer=infer,
        weights=weights,
        aliases=(f"convolution{rank}d", f"Convolution{rank}D"),
        traits=T.but(T.LEARNED_MAP, window=T.window(), spatial_rank=rank),
        category="conv",
        summary=f"A {rank}D convolution: `filters` learned kernels slid over the input.",
    )


CONV1D = _conv(1)
CONV2D = _conv(2)
CONV3D = _conv(3)


# ---- depthwise and separable ---------------------------------------------------------------


def _depthwise_infer(inputs: list[Shape], args: Args) -> Shape:
    (shape,) = inputs
    out, first = _spatial_out(shape, args, 2, "depthwise_conv2d")
    channels = split_channels(shape, first)[1]
    return join_channels(
        out, None if channels is None else channels * args["depth_multiplier"], first
    )


def _depthwise_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    channels = known_channels(inputs[0], "depthwise_conv2d", channels_first(args))
    multiplier = args["depth_multiplier"]
    # Keras 3 names the depthwise kernel plain `kernel` (Keras 2 said `depthwise_kernel`).
    found = [Weight("kernel", (*int_tuple(args["kernel_size"], 2), channels, multiplier))]
    if args["use_bias"]:
        found.append(Weight("bias", (channels * multiplier,)))
    return found


DEPTHWISE_CONV2D = LayerKind(
    name="depthwise_conv2d",
    keras_class="DepthwiseConv2D",
    args=(
        _kernel_arg(2),
        _strides_arg(2),
        _padding_arg(),
        _depth_multiplier_arg(),
        data_format_arg(),
        _dilation_arg(2),
        activation_arg(),
        Arg("use_bias", K.BOOL, True),
        *weight_args("depthwise", "bias"),
    ),
    infer=_depthwise_infer,
    weights=_depthwise_weights,
    aliases=("depthwise_convolution2d",),
    traits=T.but(T.LEARNED_MAP, factorised=True, window=T.window(), spatial_rank=2),
    category="conv",
    summary="A 2D convolution of each input channel on its own, `depth_multiplier` maps per channel.",
)


def _separable_infer(inputs: list[Shape], args: Args) -> Shape:
    (shape,) = inputs
    out, first = _spatial_out(shape, args, 2, "separable_conv2d")
    return join_channels(out, args["filters"], first)


def _separable_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    channels = known_channels(inputs[0], "separable_conv2d", channels_first(args))
    multiplier, filters = args["depth_multiplier"], args["filters"]
    found = [
        Weight("depthwise_kernel", (*int_tuple(args["kernel_size"], 2), channels, multiplier)),
        Weight("pointwise_kernel", (1, 1, channels * multiplier, filters)),
    ]
    if args["use_bias"]:
        found.append(Weight("bias", (filters,)))
    return found


SEPARABLE_CONV2D = LayerKind(
    name="separable_conv2d",
    keras_class="SeparableConv2D",
    args=(
        _filters_arg(),
        _kernel_arg(2),
        _strides_arg(2),
        _padding_arg(),
        data_format_arg(),
        _dilation_arg(2),
        _depth_multiplier_arg(),
        activation_arg(),
        Arg("use_bias", K.BOOL, True),
        *weight_args("depthwise", "pointwise", "bias"),
    ),
    infer=_separable_infer,
    weights=_separable_weights,
    aliases=("separable_convolution2d", "SeparableConvolution2D"),
    traits=T.but(T.LEARNED_MAP, window=T.window(), spatial_rank=2),
    category="conv",
    summary="A depthwise 2D convolution followed by a 1x1 convolution to `filters` channels.",
)


# ---- transposed convolutions ---------------------------------------------------------------


def _conv_transpose(rank: int) -> LayerKind:
    name = f"conv{rank}d_transpose"

    def infer(inputs: list[Shape], args: Args) -> Shape:
        (shape,) = inputs
        require_rank(shape, rank + 1, name)
        kernel, strides, dilation = _window_args(args, rank)
        _refuse_strided_dilation(strides, dilation)
        extra = args["output_padding"]
        extras = (None,) * rank if extra is None else int_tuple(extra, rank)
        if extra is not None and any(e >= s for e, s in zip(extras, strides)):
            raise ShapeError(
                f"output_padding {_fmt(extras)} must be smaller than strides {_fmt(strides)} "
                "on every axis",
                code=codes.INCOMPATIBLE_INPUT,
                argument="output_padding",
            )
        first = channels_first(args)
        spatial, _ = split_channels(shape, first)
        out = []
        for n, k, s, e, d in zip(spatial, kernel, strides, extras, dilation):
            size = conv_transpose_length(n, k, s, args["padding"], e, d)
            # Keras itself returns the 0 here; the convolution then has nothing to produce.
            if size is not None and size <= 0:
                raise ShapeError(
                    f"output size would be {size}: input {n}, kernel {k}, strides {s}, "
                    f"padding={args['padding']}, output_padding {e}; use a larger output_padding "
                    "or padding=valid",
                    code=codes.WINDOW_TOO_LARGE,
                    argument="output_padding",
                )
            out.append(size)
        return join_channels(out, args["filters"], first)

    def weights(inputs: list[Shape], args: Args) -> list[Weight]:
        channels = known_channels(inputs[0], name, channels_first(args))
        kernel = int_tuple(args["kernel_size"], rank)
        # The transpose's kernel is laid out (k..., out, in): the forward conv's, swapped.
        found = [Weight("kernel", (*kernel, args["filters"], channels))]
        if args["use_bias"]:
            found.append(Weight("bias", (args["filters"],)))
        return found

    keras_class = f"Conv{rank}DTranspose"
    output_padding = Arg("output_padding", K.INT_TUPLE, None, rank=rank, minimum=0, nullable=True)
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=(
            _filters_arg(),
            _kernel_arg(rank),
            _strides_arg(rank),
            _padding_arg(),
            # Conv3DTranspose takes data_format before output_padding, the others after it.
            *(
                (data_format_arg(), output_padding)
                if rank == 3
                else (output_padding, data_format_arg())
            ),
            _dilation_arg(rank),
            activation_arg(),
            Arg("use_bias", K.BOOL, True),
            *weight_args("kernel", "bias"),
        ),
        infer=infer,
        weights=weights,
        aliases=(f"convolution{rank}d_transpose", f"Convolution{rank}DTranspose"),
        traits=T.but(T.LEARNED_MAP, window=T.window(transposed=True), spatial_rank=rank),
        category="conv",
        summary=f"A transposed {rank}D convolution (learned upsampling), the gradient of conv{rank}d.",
    )


CONV1D_TRANSPOSE = _conv_transpose(1)
CONV2D_TRANSPOSE = _conv_transpose(2)
CONV3D_TRANSPOSE = _conv_transpose(3)


KINDS: tuple[LayerKind, ...] = (
    CONV1D,
    CONV2D,
    CONV3D,
    DEPTHWISE_CONV2D,
    SEPARABLE_CONV2D,
    CONV1D_TRANSPOSE,
    CONV2D_TRANSPOSE,
    CONV3D_TRANSPOSE,
)
