"""Pooling, padding, cropping and upsampling layer kinds (1D, 2D and 3D)."""

from __future__ import annotations

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
)
from netspec.layers.common import (
    PADDINGS,
    channels_first,
    data_format_arg,
    int_tuple,
    join_channels,
    padding_pairs,
    require_rank,
    split_channels,
    windowed,
)

K = ValueKind

# UpSampling2D resizes with `keras.ops.image.resize` for anything but "nearest".
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")


def _spatial(
    inputs: list[Shape], args: Args, rank: int, what: str
) -> tuple[tuple, int | None, bool]:
    """(spatial dims, channels, channels first) of the single input, after the rank check."""
    (shape,) = inputs
    require_rank(shape, rank + 1, what)
    first = channels_first(args)
    spatial, channels = split_channels(shape, first)
    return spatial, channels, first


# ---- max and average pooling ---------------------------------------------------------------


def _pool_traits(
    mode: str, rank: int, window: T.Window | None, masked_mean: bool = False
) -> T.Traits:
    if mode == "max":
        return T.but(
            T.POOLING,
            linearity=T.Linearity.NONLINEAR,
            weak_nonlinearity=True,
            pooling=T.Pooling.MAX,
            window=window,
            integers=T.Integers.WHOLE,
            spatial_rank=rank,
        )
    # GlobalAveragePooling1D leaves masked steps out of its mean, and passes no mask on.
    mask = T.Masking(T.MaskFlow.ENDS, reads=True, makes=False) if masked_mean else T.NO_MASK
    return T.but(T.POOLING, pooling=T.Pooling.AVERAGE, window=window, mask=mask, spatial_rank=rank)


def _pool(rank: int, mode: str) -> LayerKind:
    name = f"{mode}_pool{rank}d"

    def infer(inputs: list[Shape], args: Args) -> Shape:
        spatial, channels, first = _spatial(inputs, args, rank, name)
        pool = int_tuple(args["pool_size"], rank)
        # strides=None means non-overlapping windows: the pool size.
        strides = pool if args["strides"] is None else int_tuple(args["strides"], rank)
        out = windowed(spatial, pool, strides, args["padding"], None, "pool_size")
        return join_channels(out, channels, first)

    if mode == "max":
        keras_class, what = f"MaxPooling{rank}D", "maximum"
        aliases: tuple[str, ...] = (f"max_pooling{rank}d", f"MaxPool{rank}D")
        # MaxPooling has a default window of 2; AveragePooling (3.15) has none.
        pool_default = 2 if rank == 1 else (2,) * rank
    else:
        keras_class, what = f"AveragePooling{rank}D", "mean"
        aliases = (f"average_pooling{rank}d", f"avg_pooling{rank}d", f"AvgPool{rank}D")
        pool_default = REQUIRED
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=(
            Arg("pool_size", K.INT_TUPLE, pool_default, rank=rank, minimum=1),
            Arg("strides", K.INT_TUPLE, None, rank=rank, minimum=1, nullable=True),
            Arg("padding", K.CHOICE, "valid", choices=PADDINGS),
            data_format_arg(),
        ),
        infer=infer,
        aliases=aliases,
        traits=_pool_traits(mode, rank, T.window("pool_size", dilation=False)),
        category="pooling",
        summary=f"The {what} over each {rank}D window of `pool_size`, stepping by `strides`.",
    )


MAX_POOL1D = _pool(1, "max")
MAX_POOL2D = _pool(2, "max")
AVG_POOL1D = _pool(1, "avg")
AVG_POOL2D = _pool(2, "avg")
MAX_POOL3D = _pool(3, "max")
AVG_POOL3D = _pool(3, "avg")


# ---- global pooling ------------------------------------------------------------------------


def _global_pool(rank: int, mode: str) -> LayerKind:
    name = f"global_{mode}_pool{rank}d"

    def infer(inputs: list[Shape], args: Args) -> Shape:
        _, channels, first = _spatial(inputs, args, rank, name)
        if args["keepdims"]:
            return join_channels((1,) * rank, channels, first)
        return (channels,)

    if mode == "max":
        keras_class = f"GlobalMaxPooling{rank}D"
        aliases: tuple[str, ...] = (f"global_max_pooling{rank}d", f"GlobalMaxPool{rank}D")
    else:
        keras_class = f"GlobalAveragePooling{rank}D"
        aliases = (
            f"global_average_pooling{rank}d",
            f"global_avg_pooling{rank}d",
            f"GlobalAvgPool{rank}D",
        )
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=(data_format_arg(), Arg("keepdims", K.BOOL, False)),
        infer=infer,
        aliases=aliases,
        traits=_pool_traits(mode, rank, None, masked_mean=(rank == 1 and mode == "avg")),
        category="pooling",
        summary=f"The {'maximum' if mode == 'max' else 'mean'} over all {rank}D positions, "
        "per channel; `keepdims` keeps the spatial axes as 1s.",
    )


GLOBAL_AVG_POOL1D = _global_pool(1, "avg")
GLOBAL_AVG_POOL2D = _global_pool(2, "avg")
GLOBAL_MAX_POOL1D = _global_pool(1, "max")
GLOBAL_MAX_POOL2D = _global_pool(2, "max")
GLOBAL_AVG_POOL3D = _global_pool(3, "avg")
GLOBAL_MAX_POOL3D = _global_pool(3, "max")


# ---- zero padding and cropping -------------------------------------------------------------


# Keras' defaults, as each class writes them: one position on each side of every axis.
_ZERO_PAD_DEFAULTS = {1: 1, 2: (1, 1), 3: ((1, 1), (1, 1), (1, 1))}


def _zero_pad(rank: int) -> LayerKind:
    name = f"zero_pad{rank}d"

    def infer(inputs: list[Shape], args: Args) -> Shape:
        spatial, channels, first = _spatial(inputs, args, rank, name)
        pairs = padding_pairs(args["padding"], rank)
        out = tuple(None if n is None else n + a + b for n, (a, b) in zip(spatial, pairs))
        return join_channels(out, channels, first)

    return LayerKind(
        name=name,
        keras_class=f"ZeroPadding{rank}D",
        args=(
            Arg("padding", K.PADDING_PAIRS, _ZERO_PAD_DEFAULTS[rank], rank=rank),
            data_format_arg(),
        ),
        infer=infer,
        aliases=(f"zero_padding{rank}d",),
        traits=T.but(T.RESHAPING, integers=T.Integers.WHOLE, spatial_rank=rank),
        category="reshaping",
        summary=f"Pads the {rank} spatial axes with zeros: an int, one per axis, or (before, after).",
    )


ZERO_PAD1D = _zero_pad(1)
ZERO_PAD2D = _zero_pad(2)
ZERO_PAD3D = _zero_pad(3)


def _cropping(rank: int) -> LayerKind:
    name = f"cropping{rank}d"

    def infer(inputs: list[Shape], args: Args) -> Shape:
        spatial, channels, first = _spatial(inputs, args, rank, name)
        pairs = padding_pairs(args["cropping"], rank)
        out = []
        for axis, (n, (a, b)) in enumerate(zip(spatial, pairs)):
            if n is not None and n - a - b <= 0:
                where = "" if rank == 1 else f" on spatial axis {axis + 1}"
                raise ShapeError(
                    f"cropping ({a}, {b}) removes all {n} positions{where}; crop fewer than {n}",
                    code=codes.WINDOW_TOO_LARGE,
                    argument="cropping",
                )
            out.append(None if n is None else n - a - b)
        return join_channels(out, channels, first)

    # Cropping1D has no data_format: it always crops axis 1.
    if rank == 1:
        args: tuple[Arg, ...] = (Arg("cropping", K.PADDING_PAIRS, (1, 1), rank=1),)
    else:
        # Cropping2D crops nothing by default, Cropping3D one position on each side.
        default = ((1, 1),) * rank if rank == 3 else ((0, 0),) * rank
        args = (Arg("cropping", K.PADDING_PAIRS, default, rank=rank), data_format_arg())
    return LayerKind(
        name=name,
        keras_class=f"Cropping{rank}D",
        args=args,
        infer=infer,
        traits=T.but(T.RESHAPING, spatial_rank=rank),
        category="reshaping",
        summary=f"Crops the {rank} spatial axes: an int, one per axis, or (before, after).",
    )


CROPPING1D = _cropping(1)
CROPPING2D = _cropping(2)
CROPPING3D = _cropping(3)


# ---- upsampling ----------------------------------------------------------------------------


# No framework holds a dimension past a signed 64-bit index; nor does a factor stay exact past it.
_MAX_DIMENSION = 2**63 - 1


def _upsampled(spatial: tuple, size: tuple[int, ...], what: str) -> tuple:
    """Each dimension times its factor; a factor or a product past 64 bits is NS007 on `size`."""
    out = []
    for n, factor in zip(spatial, size):
        if factor > _MAX_DIMENSION:
            raise ShapeError(
                f"{what} `size` is out of range: over 64 bits",
                code=codes.VALUE_OUT_OF_RANGE,
                argument="size",
            )
        if n is not None and n * factor > _MAX_DIMENSION:
            raise ShapeError(
                f"{what} `size` {factor} makes a dimension of {n} larger than 64 bits hold",
                code=codes.VALUE_OUT_OF_RANGE,
                argument="size",
            )
        out.append(None if n is None else n * factor)
    return tuple(out)


def _upsampling1d_infer(inputs: list[Shape], args: Args) -> Shape:
    spatial, channels, _ = _spatial(inputs, {}, 1, "upsampling1d")
    return (*_upsampled(spatial, (args["size"],), "upsampling1d"), channels)


UPSAMPLING1D = LayerKind(
    name="upsampling1d",
    keras_class="UpSampling1D",
    # Keras takes a plain int here (a 1-tuple is a TypeError), unlike UpSampling2D.
    args=(Arg("size", K.INT, 2, minimum=1),),
    infer=_upsampling1d_infer,
    aliases=("up_sampling1d",),
    traits=T.but(T.RESHAPING, integers=T.Integers.WHOLE, spatial_rank=1),
    category="reshaping",
    summary="Repeats each step `size` times along the time axis.",
)


def _upsampling2d_infer(inputs: list[Shape], args: Args) -> Shape:
    spatial, channels, first = _spatial(inputs, args, 2, "upsampling2d")
    out = _upsampled(spatial, int_tuple(args["size"], 2), "upsampling2d")
    return join_channels(out, channels, first)


def _nearest_keeps_whole(args) -> T.Integers:
    """Nearest-neighbour upsampling copies values; the other interpolations compute new ones."""
    nearest = args.get("interpolation", "nearest") == "nearest"
    return T.Integers.WHOLE if nearest else T.Integers.CASTS


UPSAMPLING2D = LayerKind(
    name="upsampling2d",
    keras_class="UpSampling2D",
    args=(
        Arg("size", K.INT_TUPLE, (2, 2), rank=2, minimum=1),
        data_format_arg(),
        Arg("interpolation", K.CHOICE, "nearest", choices=INTERPOLATIONS),
    ),
    infer=_upsampling2d_infer,
    # Every interpolation is a fixed linear resampling, so none learns or breaks linearity.
    aliases=("up_sampling2d",),
    traits=T.but(T.RESHAPING, integers=_nearest_keeps_whole, spatial_rank=2),
    category="reshaping",
    summary="Scales height and width by `size`, repeating rows and columns or interpolating.",
)


def _upsampling3d_infer(inputs: list[Shape], args: Args) -> Shape:
    spatial, channels, first = _spatial(inputs, args, 3, "upsampling3d")
    out = _upsampled(spatial, int_tuple(args["size"], 3), "upsampling3d")
    return join_channels(out, channels, first)


UPSAMPLING3D = LayerKind(
    name="upsampling3d",
    keras_class="UpSampling3D",
    args=(Arg("size", K.INT_TUPLE, (2, 2, 2), rank=3, minimum=1), data_format_arg()),
    infer=_upsampling3d_infer,
    aliases=("up_sampling3d",),
    traits=T.but(T.RESHAPING, integers=T.Integers.WHOLE, spatial_rank=3),
    category="reshaping",
    summary="Scales depth, height and width by `size`, repeating each position.",
)


KINDS: tuple[LayerKind, ...] = (
    MAX_POOL1D,
    MAX_POOL2D,
    AVG_POOL1D,
    AVG_POOL2D,
    MAX_POOL3D,
    AVG_POOL3D,
    GLOBAL_AVG_POOL1D,
    GLOBAL_AVG_POOL2D,
    GLOBAL_MAX_POOL1D,
    GLOBAL_MAX_POOL2D,
    GLOBAL_AVG_POOL3D,
    GLOBAL_MAX_POOL3D,
    ZERO_PAD1D,
    ZERO_PAD2D,
    ZERO_PAD3D,
    CROPPING1D,
    CROPPING2D,
    CROPPING3D,
    UPSAMPLING1D,
    UPSAMPLING2D,
    UPSAMPLING3D,
)
