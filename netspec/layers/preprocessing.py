"""Preprocessing layer kinds that keras.io examples put inside their models: normalization,
resizing, center_crop and the random augmentations (identities at inference)."""

from __future__ import annotations

from typing import Any

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import REQUIRED, Arg, Args, LayerKind, Shape, ShapeError, ValueKind, Weight
from netspec.layers.common import (
    data_format_arg,
    format_shape,
    join_channels,
    require_rank,
    resolve_axis,
    split_channels,
)

K = ValueKind

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")
_AUGMENT_INTERPOLATIONS = ("nearest", "bilinear")


# ---- normalization -------------------------------------------------------------------------


def kept_axes(shape: Shape, axis: Any) -> tuple[int, ...]:
    """The axes (batch excluded) that keep their own mean and variance; `axis=None`: none."""
    if axis is None:
        return ()
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted({resolve_axis(shape, a, "normalization") for a in axes}))


def _statistic_shape(shape: Shape, args: Args) -> tuple[int | None, ...]:
    return tuple(shape[i] for i in kept_axes(shape, args["axis"]))


def _given_statistic(value: Any, kept: tuple[int | None, ...], shape: Shape, name: str) -> None:
    """A given mean or variance broadcasts to the kept axes' shape (a number, or a list as long
    as a single kept axis); Keras fails when the model is built otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return
    if not isinstance(value, tuple) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise ShapeError(
            f"normalization `{name}` is a number or a list of numbers, got {value!r}",
            code=codes.WRONG_TYPE,
            argument=name,
        )
    target = kept[-1] if kept else 1
    if len(value) != 1 and target is not None and len(value) != target:
        raise ShapeError(
            f"normalization `{name}` has {len(value)} values, but the normalized axes of input "
            f"{format_shape(shape)} hold {target}; give one value or {target}",
            code=codes.INCOMPATIBLE_INPUT,
            argument=name,
        )


def normalization_infer(inputs: list[Shape], args: Args) -> Shape:
    (shape,) = inputs
    kept = _statistic_shape(shape, args)
    mean, variance = args["mean"], args["variance"]
    if (mean is None) != (variance is None):
        raise ShapeError(
            "normalization takes `mean` and `variance` together, or neither (then it is adapted)",
            code=codes.INCOMPATIBLE_INPUT,
            argument="variance" if variance is None else "mean",
        )
    if mean is not None:
        _given_statistic(mean, kept, shape, "mean")
        _given_statistic(variance, kept, shape, "variance")
    return shape


def normalization_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    (shape,) = inputs
    if args["mean"] is not None:
        return []  # given statistics are constants of the layer, not weights
    kept = _statistic_shape(shape, args)
    if None in kept:
        raise ShapeError(
            f"normalization needs a known size on its axes to hold its statistics, got "
            f"{format_shape(shape)}",
            code=codes.UNKNOWN_DIMENSION,
        )
    stats: tuple[int, ...] = kept  # type: ignore[assignment]
    # The state `adapt()` fills in: never trained, counted by Keras all the same.
    return [
        Weight("mean", stats, trainable=False),
        Weight("variance", stats, trainable=False),
        Weight("count", (), trainable=False),
    ]


NORMALIZATION = LayerKind(
    name="normalization",
    keras_class="Normalization",
    args=(
        Arg("axis", K.AXIS, -1, nullable=True),
        Arg("mean", K.ANY, None, nullable=True),
        Arg("variance", K.ANY, None, nullable=True),
        Arg("invert", K.BOOL, False),
    ),
    infer=normalization_infer,
    weights=normalization_weights,
    # A fixed affine map per feature at inference, as batch norm is.
    traits=T.NORMALIZATION,
    category="preprocessing",
    summary="(x - mean) / sqrt(variance) per feature, with given or adapted statistics.",
)


# ---- resizing and cropping -----------------------------------------------------------------


def _image(inputs: list[Shape], args: Args, what: str) -> tuple[tuple, Any, bool]:
    (shape,) = inputs
    require_rank(shape, 3, what)
    first = args.get("data_format") == "channels_first"
    spatial, channels = split_channels(shape, first)
    return spatial, channels, first


def resizing_infer(inputs: list[Shape], args: Args) -> Shape:
    _, channels, first = _image(inputs, args, "resizing")
    if args["crop_to_aspect_ratio"] and args["pad_to_aspect_ratio"]:
        raise ShapeError(
            "resizing takes crop_to_aspect_ratio or pad_to_aspect_ratio, not both",
            code=codes.INCOMPATIBLE_INPUT,
            argument="pad_to_aspect_ratio",
        )
    return join_channels((args["height"], args["width"]), channels, first)


RESIZING = LayerKind(
    name="resizing",
    keras_class="Resizing",
    args=(
        Arg("height", K.INT, REQUIRED, minimum=1),
        Arg("width", K.INT, REQUIRED, minimum=1),
        Arg("interpolation", K.CHOICE, "bilinear", choices=_RESIZE_INTERPOLATIONS),
        Arg("crop_to_aspect_ratio", K.BOOL, False),
        Arg("pad_to_aspect_ratio", K.BOOL, False),
        Arg("fill_mode", K.CHOICE, "constant", choices=("constant",)),
        Arg("fill_value", K.FLOAT, 0.0),
        Arg("antialias", K.BOOL, False),
        data_format_arg(),
    ),
    infer=resizing_infer,
    traits=T.but(T.PLAIN, spatial_rank=2),
    category="preprocessing",
    summary="Resizes images to `height` x `width`, interpolating.",
)


def center_crop_infer(inputs: list[Shape], args: Args) -> Shape:
    _, channels, first = _image(inputs, args, "center_crop")
    return join_channels((args["height"], args["width"]), channels, first)


CENTER_CROP = LayerKind(
    name="center_crop",
    keras_class="CenterCrop",
    args=(
        Arg("height", K.INT, REQUIRED, minimum=1),
        Arg("width", K.INT, REQUIRED, minimum=1),
        data_format_arg(),
    ),
    infer=center_crop_infer,
    # Keras resizes an image smaller than the crop up to it; a crop only moves values.
    traits=T.but(T.RESHAPING, spatial_rank=2),
    category="preprocessing",
    summary="The central `height` x `width` window of each image (resized up when smaller).",
)


# ---- random augmentations ------------------------------------------------------------------

# In training they transform each image at random; at inference they pass it on unchanged.
AUGMENTATION = T.but(
    T.PLAIN,
    regularization=T.Regularization.AUGMENTATION,
    passes_values=True,
    spatial_rank=2,
)


def _factor(value: Any, name: str, what: str) -> None:
    """A fraction or a (lower, upper) pair of them, as Keras' augmentation layers take it."""
    numbers = value if isinstance(value, tuple) else (value,)
    if len(numbers) not in (1, 2) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers
    ):
        raise ShapeError(
            f"{what} `{name}` is a number or a (lower, upper) pair of numbers, got {value!r}",
            code=codes.WRONG_TYPE,
            argument=name,
        )


def _augment_infer(what: str):
    def infer(inputs: list[Shape], args: Args) -> Shape:
        for name in ("factor", "height_factor", "width_factor"):
            if args.get(name) is not None:
                _factor(args[name], name, what)
        _image(inputs, args, what)
        return inputs[0]

    return infer


def _factor_arg(name: str, default: Any = REQUIRED) -> Arg:
    # A fraction, or a (lower, upper) pair of them.
    return Arg(name, K.ANY, default, nullable=default is None)


def _geometric_args(*factors: Arg) -> tuple[Arg, ...]:
    return (
        *factors,
        Arg("fill_mode", K.CHOICE, "reflect", choices=_FILL_MODES),
        Arg("interpolation", K.CHOICE, "bilinear", choices=_AUGMENT_INTERPOLATIONS),
        Arg("seed", K.INT, None, nullable=True),
        Arg("fill_value", K.FLOAT, 0.0),
        data_format_arg(),
    )


def _augmentation(name: str, keras_class: str, args: tuple[Arg, ...], summary: str) -> LayerKind:
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=args,
        infer=_augment_infer(name),
        traits=AUGMENTATION,
        category="preprocessing",
        summary=summary + " Identity at inference.",
    )


RANDOM_FLIP = _augmentation(
    "random_flip",
    "RandomFlip",
    (
        Arg(
            "mode",
            K.CHOICE,
            "horizontal_and_vertical",
            choices=("horizontal", "vertical", "horizontal_and_vertical"),
        ),
        Arg("seed", K.INT, None, nullable=True),
        data_format_arg(),
    ),
    "Flips images at random in training.",
)
RANDOM_ROTATION = _augmentation(
    "random_rotation",
    "RandomRotation",
    (
        _factor_arg("factor"),
        Arg("fill_mode", K.CHOICE, "reflect", choices=_FILL_MODES),
        Arg("interpolation", K.CHOICE, "bilinear", choices=_AUGMENT_INTERPOLATIONS),
        Arg("seed", K.INT, None, nullable=True),
        Arg("fill_value", K.FLOAT, 0.0),
        data_format_arg(),
    ),
    "Rotates images by a random fraction of a turn in training.",
)
RANDOM_ZOOM = _augmentation(
    "random_zoom",
    "RandomZoom",
    _geometric_args(_factor_arg("height_factor"), _factor_arg("width_factor", None)),
    "Zooms images in or out at random in training.",
)
RANDOM_TRANSLATION = _augmentation(
    "random_translation",
    "RandomTranslation",
    _geometric_args(_factor_arg("height_factor"), _factor_arg("width_factor")),
    "Shifts images by a random fraction of their size in training.",
)
RANDOM_CONTRAST = _augmentation(
    "random_contrast",
    "RandomContrast",
    (
        _factor_arg("factor"),
        Arg("value_range", K.ANY, (0, 255)),
        Arg("seed", K.INT, None, nullable=True),
    ),
    "Scales each image's contrast by a random factor in training.",
)


KINDS: tuple[LayerKind, ...] = (
    NORMALIZATION,
    RESIZING,
    CENTER_CROP,
    RANDOM_FLIP,
    RANDOM_ROTATION,
    RANDOM_ZOOM,
    RANDOM_TRANSLATION,
    RANDOM_CONTRAST,
)
