"""Normalization layer kinds: batch, layer, group and unit normalization."""

from __future__ import annotations

from typing import Any

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import Arg, LayerKind, Shape, ShapeError, ValueKind, Weight
from netspec.layers.common import (
    constraint,
    format_shape,
    initializer,
    regularizer,
    resolve_axis,
)

K = ValueKind


def _one_axis(value: Any, what: str) -> int:
    """Batch and group normalization take one int axis (Keras calls `int(axis)` on it)."""
    if isinstance(value, (tuple, list)):
        raise ShapeError(
            f"{what} normalizes over one axis, got axis={tuple(value)}; "
            "layer_norm accepts several axes",
            code=codes.INCOMPATIBLE_INPUT,
            argument="axis",
        )
    return value


def _axes(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _known_dim(shape: Shape, index: int, axis: int, what: str) -> int:
    dim = shape[index]
    if dim is None:
        raise ShapeError(
            f"{what} needs a known size on axis {axis} to build its weights, "
            f"got {format_shape(shape)}",
            code=codes.UNKNOWN_DIMENSION,
        )
    return dim


def _affine_weights(args, shape: tuple[int, ...]) -> list[Weight]:
    """gamma then beta, as every Keras normalization layer creates them."""
    weights = []
    if args["scale"]:
        weights.append(Weight("gamma", shape))
    if args["center"]:
        weights.append(Weight("beta", shape))
    return weights


def _affine_args() -> tuple[Arg, ...]:
    """center ... gamma_constraint: the same run of arguments in batch, layer and group norm."""
    return (
        Arg("center", K.BOOL, True),
        Arg("scale", K.BOOL, True),
        initializer("beta_initializer", "zeros"),
        initializer("gamma_initializer", "ones"),
    )


def _affine_penalties() -> tuple[Arg, ...]:
    return (
        regularizer("beta_regularizer"),
        regularizer("gamma_regularizer"),
        constraint("beta_constraint"),
        constraint("gamma_constraint"),
    )


# ---- batch normalization -------------------------------------------------------------------


def batch_norm_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    resolve_axis(shape, _one_axis(args["axis"], "batch_norm"), "batch_norm")
    return shape


def batch_norm_weights(inputs: list[Shape], args) -> list[Weight]:
    (shape,) = inputs
    axis = _one_axis(args["axis"], "batch_norm")
    channels = (_known_dim(shape, resolve_axis(shape, axis, "batch_norm"), axis, "batch_norm"),)
    weights = _affine_weights(args, channels)
    weights += [Weight("moving_mean", channels, False), Weight("moving_variance", channels, False)]
    if args["renorm"]:
        # Batch renormalization tracks three more statistics, all non-trainable.
        weights += [
            Weight(n, channels, False) for n in ("moving_stddev", "renorm_mean", "renorm_stddev")
        ]
    return weights


BATCH_NORM = LayerKind(
    name="batch_norm",
    keras_class="BatchNormalization",
    args=(
        Arg("axis", K.AXIS, -1),
        Arg("momentum", K.FLOAT, 0.99, minimum=0.0, below=1.0),
        Arg("epsilon", K.FLOAT, 1e-3, minimum=0.0),
        *_affine_args(),
        initializer("moving_mean_initializer", "zeros"),
        initializer("moving_variance_initializer", "ones"),
        *_affine_penalties(),
        Arg("renorm", K.BOOL, False),
        Arg("renorm_clipping", K.ANY, None, nullable=True, doc="a dict with rmax, rmin, dmax"),
        Arg("renorm_momentum", K.FLOAT, 0.99, minimum=0.0, below=1.0),
        Arg("synchronized", K.BOOL, False),
    ),
    infer=batch_norm_infer,
    weights=batch_norm_weights,
    # At inference it is x * (gamma / sqrt(var + eps)) + (beta - mean * ...): an affine map per
    # channel that a neighbouring linear layer absorbs, so it does not break a linear chain.
    aliases=("batch_normalization", "batchnorm"),
    traits=T.but(
        T.NORMALIZATION,
        normalization=T.Normalization.BATCH,
        mask=T.Masking(T.MaskFlow.KEEPS, reads=True, makes=False, training_only=True),
    ),
    category="normalisation",
    summary="Normalizes each channel with batch statistics (moving averages at inference).",
)


# ---- layer normalization -------------------------------------------------------------------


def layer_norm_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    for axis in _axes(args["axis"]):
        resolve_axis(shape, axis, "layer_norm")
    return shape


def layer_norm_weights(inputs: list[Shape], args) -> list[Weight]:
    (shape,) = inputs
    # Keras sorts the raw axis values (negative ones first) and shapes gamma in that order:
    # axis=(-1, 1) on (None, 4, 5, 6) gives gamma (6, 4).
    axes = sorted(_axes(args["axis"]))
    dims = tuple(
        _known_dim(shape, resolve_axis(shape, a, "layer_norm"), a, "layer_norm") for a in axes
    )
    return _affine_weights(args, dims)


LAYER_NORM = LayerKind(
    name="layer_norm",
    keras_class="LayerNormalization",
    args=(
        Arg("axis", K.AXIS, -1),
        Arg("epsilon", K.FLOAT, 1e-3, minimum=0.0),
        *_affine_args(),
        *_affine_penalties(),
    ),
    infer=layer_norm_infer,
    weights=layer_norm_weights,
    aliases=("layer_normalization",),
    traits=T.but(
        T.NORMALIZATION,
        normalization=T.Normalization.LAYER,
        linearity=T.Linearity.NONLINEAR,
        weak_nonlinearity=True,
    ),
    category="normalisation",
    summary="Normalizes each sample over `axis` (the features), then scales and shifts.",
)


# ---- group normalization -------------------------------------------------------------------


def _group_channels(shape: Shape, args) -> int:
    """The channel count after checking that `groups` splits it; -1 means one group per channel."""
    axis = _one_axis(args["axis"], "group_norm")
    channels = _known_dim(shape, resolve_axis(shape, axis, "group_norm"), axis, "group_norm")
    groups = args["groups"]
    if groups == 0 or groups < -1:
        raise ShapeError(
            f"groups must be a positive number or -1 (one group per channel), got {groups}",
            code=codes.INCOMPATIBLE_INPUT,
            argument="groups",
        )
    groups = channels if groups == -1 else groups
    if groups > channels:
        raise ShapeError(
            f"{groups} groups are more than the {channels} channels of {format_shape(shape)}",
            code=codes.INCOMPATIBLE_INPUT,
            argument="groups",
        )
    if channels % groups:
        raise ShapeError(
            f"{groups} groups do not divide the {channels} channels of {format_shape(shape)}",
            code=codes.INCOMPATIBLE_INPUT,
            argument="groups",
        )
    return channels


def group_norm_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    _group_channels(shape, args)  # Keras checks the groups when it builds, i.e. always
    return shape


GROUP_NORM = LayerKind(
    name="group_norm",
    keras_class="GroupNormalization",
    args=(
        # Not minimum=1: Keras documents groups=-1 as instance normalization; infer checks the rest.
        Arg("groups", K.INT, 32, minimum=-1),
        Arg("axis", K.AXIS, -1),
        Arg("epsilon", K.FLOAT, 1e-3, minimum=0.0),
        *_affine_args(),
        *_affine_penalties(),
    ),
    infer=group_norm_infer,
    weights=lambda inputs, args: _affine_weights(args, (_group_channels(inputs[0], args),)),
    aliases=("group_normalization",),
    traits=T.but(
        T.NORMALIZATION,
        normalization=T.Normalization.GROUP,
        linearity=T.Linearity.NONLINEAR,
        weak_nonlinearity=True,
    ),
    category="normalisation",
    summary="Normalizes groups of channels of each sample; groups=-1 is instance normalization.",
)


# ---- unit normalization --------------------------------------------------------------------


def unit_norm_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    for axis in _axes(args["axis"]):
        resolve_axis(shape, axis, "unit_norm")
    return shape


UNIT_NORM = LayerKind(
    name="unit_norm",
    keras_class="UnitNormalization",
    args=(Arg("axis", K.AXIS, -1),),
    infer=unit_norm_infer,
    aliases=("unit_normalization",),
    traits=T.but(
        T.NORMALIZATION,
        normalization=T.Normalization.UNIT,
        linearity=T.Linearity.NONLINEAR,
        weak_nonlinearity=True,
    ),
    category="normalisation",
    summary="Scales each sample to unit L2 norm over `axis`.",
)


KINDS: tuple[LayerKind, ...] = (BATCH_NORM, LAYER_NORM, GROUP_NORM, UNIT_NORM)
