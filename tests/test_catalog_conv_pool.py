"""Conv, pooling, padding, cropping and upsampling kinds, checked against real Keras 3 layers."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from netspec.layers.catalog import (
    LayerKind,
    Linearity,
    ShapeError,
    conv,
    lookup,
    pooling,
)  # noqa: E402  # noqa: E402
from netspec.layers.resolve import bind  # noqa: E402

CF = {"data_format": "channels_first"}

# (kind, positional args, keyword args, input shape without batch). The same arguments go to
# our catalog entry (through `bind`, as a spec would) and to the Keras constructor.
CASES: list[tuple[str, tuple, dict[str, Any], tuple]] = [
    ("conv1d", (8, 3), {}, (20, 4)),
    ("conv1d", (8, 3), {"strides": 2, "padding": "same"}, (21, 4)),
    ("conv1d", (8, 3), {"padding": "causal", "dilation_rate": 2}, (None, 4)),
    ("conv1d", (8, 5), {"strides": 3}, (None, 6)),
    ("conv1d", (6, 3), {"groups": 3}, (10, 9)),
    ("conv1d", (8, 3), CF, (4, 20)),
    ("conv1d", (8, 3), {"padding": "causal", "use_bias": False, "strides": 2}, (7, 4)),
    ("conv1d", (4, 2), {"dilation_rate": 3}, (7, 2)),
    ("conv2d", (32, 3), {}, (28, 28, 1)),
    ("conv2d", (16, (3, 5)), {"strides": (2, 1), "padding": "same"}, (31, 17, 3)),
    ("conv2d", (16, 3), {"dilation_rate": 2}, (None, 32, 3)),
    ("conv2d", (8, 3), {**CF, "strides": 2}, (3, 32, None)),
    ("conv2d", (8, 1), {"groups": 4}, (7, 7, 8)),
    ("conv2d", (64, 7), {"strides": 2, "padding": "same", "use_bias": False}, (224, 224, 3)),
    ("conv2d", (8, 4), {"strides": 3}, (10, 11, 2)),
    ("conv2d", (8, (1, 3)), {**CF, "groups": 2, "dilation_rate": (1, 2)}, (4, 9, 9)),
    ("conv3d", (4, 3), {}, (8, 8, 8, 2)),
    ("conv3d", (4, (1, 2, 3)), {"strides": 2, "padding": "same"}, (None, 9, 7, 2)),
    ("conv3d", (4, 3), {**CF, "groups": 2, "use_bias": False}, (2, 5, 6, 7)),
    ("depthwise_conv2d", (3,), {}, (10, 10, 4)),
    (
        "depthwise_conv2d",
        (3,),
        {"depth_multiplier": 2, "padding": "same", "strides": 2},
        (11, None, 4),
    ),
    ("depthwise_conv2d", (5,), {"dilation_rate": 2, "use_bias": False}, (16, 16, 3)),
    ("depthwise_conv2d", ((3, 1),), {**CF, "depth_multiplier": 3}, (4, 9, 9)),
    ("depthwise_conv2d", (3,), {"strides": 2, "dilation_rate": 2}, (10, 10, 4)),
    ("separable_conv2d", (8, 3), {}, (10, 10, 4)),
    (
        "separable_conv2d",
        (16, 3),
        {"depth_multiplier": 2, "padding": "same", "strides": 2},
        (None, 15, 4),
    ),
    ("separable_conv2d", (8, (3, 5)), {**CF, "use_bias": False}, (4, 12, 12)),
    ("separable_conv2d", (8, 3), {"dilation_rate": 2}, (12, 12, 3)),
    ("conv1d_transpose", (8, 3), {}, (10, 4)),
    ("conv1d_transpose", (8, 3), {"strides": 2}, (10, 4)),
    ("conv1d_transpose", (8, 2), {"strides": 3}, (10, 4)),
    ("conv1d_transpose", (8, 3), {"strides": 2, "padding": "same"}, (None, 4)),
    ("conv1d_transpose", (8, 3), {"strides": 2, "output_padding": 1}, (10, 4)),
    ("conv1d_transpose", (8, 4), {"strides": 2, "padding": "same", "output_padding": 1}, (10, 4)),
    ("conv1d_transpose", (8, 3), {"dilation_rate": 2}, (10, 4)),
    ("conv1d_transpose", (8, 3), {**CF, "strides": 2}, (4, 10)),
    ("conv2d_transpose", (16, 3), {}, (8, 8, 32)),
    ("conv2d_transpose", (16, 3), {"strides": 2, "padding": "same"}, (8, None, 32)),
    ("conv2d_transpose", (16, (2, 3)), {"strides": (2, 3), "output_padding": (1, 2)}, (7, 5, 3)),
    (
        "conv2d_transpose",
        (16, 4),
        {"strides": 2, "padding": "same", "output_padding": 0, "use_bias": False},
        (7, 7, 3),
    ),
    ("conv2d_transpose", (8, 3), {**CF, "strides": 2}, (3, 6, 6)),
    ("conv2d_transpose", (8, 3), {"dilation_rate": 2, "padding": "same"}, (6, 6, 3)),
    ("max_pool1d", (), {}, (10, 3)),
    ("max_pool1d", (3,), {}, (10, 3)),
    ("max_pool1d", (3,), {"strides": 1, "padding": "same"}, (None, 3)),
    ("max_pool1d", (2,), CF, (3, 11)),
    ("max_pool1d", (4,), {"strides": 2}, (11, 3)),
    ("max_pool2d", (), {}, (28, 28, 8)),
    ("max_pool2d", ((3, 3),), {"strides": 2}, (None, 15, 8)),
    ("max_pool2d", (3,), {"padding": "same", "strides": (2, 1)}, (11, 11, 2)),
    ("max_pool2d", (2,), CF, (3, 9, None)),
    ("avg_pool1d", (2,), {}, (10, 3)),
    ("avg_pool1d", (3,), {"strides": 2, "padding": "same"}, (None, 3)),
    ("avg_pool1d", (5,), {**CF, "strides": 1}, (3, 9)),
    ("avg_pool2d", (2,), {}, (8, 8, 3)),
    ("avg_pool2d", ((2, 3),), {"padding": "same"}, (7, None, 3)),
    ("avg_pool2d", (3,), {**CF, "strides": 2}, (3, 9, 10)),
    ("max_pool3d", (), {}, (8, 8, 8, 2)),
    ("max_pool3d", ((2, 3, 1),), {"strides": (1, 2, 1), "padding": "same"}, (7, 9, None, 3)),
    ("max_pool3d", (2,), CF, (3, 6, 7, 8)),
    ("avg_pool3d", (2,), {}, (6, 6, 6, 1)),
    ("avg_pool3d", (3,), {"strides": 2, "padding": "same"}, (None, 9, 10, 2)),
    ("avg_pool3d", ((1, 2, 2),), CF, (2, 5, 6, 7)),
    ("global_avg_pool1d", (), {}, (10, 3)),
    ("global_avg_pool1d", (), {"keepdims": True}, (None, 3)),
    ("global_avg_pool1d", (), CF, (3, 10)),
    ("global_avg_pool2d", (), {}, (7, 7, 512)),
    ("global_avg_pool2d", (), {"keepdims": True}, (None, None, 8)),
    ("global_avg_pool2d", (), {**CF, "keepdims": True}, (8, 5, 5)),
    ("global_max_pool1d", (), {}, (None, 16)),
    ("global_max_pool1d", (), {**CF, "keepdims": True}, (16, 10)),
    ("global_max_pool2d", (), {}, (5, 5, 3)),
    ("global_max_pool2d", (), {"keepdims": True}, (5, None, 3)),
    ("global_max_pool2d", (), CF, (3, 5, 5)),
    ("global_avg_pool3d", (), {}, (4, 5, 6, 3)),
    ("global_avg_pool3d", (), {"keepdims": True}, (None, 5, 6, 3)),
    ("global_max_pool3d", (), {}, (4, 5, 6, 3)),
    ("global_max_pool3d", (), {**CF, "keepdims": True}, (3, 4, 5, 6)),
    ("zero_pad1d", (), {}, (10, 3)),
    ("zero_pad1d", (2,), {}, (None, 3)),
    ("zero_pad1d", ((1, 3),), {}, (10, 3)),
    ("zero_pad1d", ((0, 2),), CF, (3, 10)),
    ("zero_pad2d", (), {}, (8, 8, 3)),
    ("zero_pad2d", (2,), {}, (8, None, 3)),
    ("zero_pad2d", ((1, 2),), {}, (10, 11, 3)),
    ("zero_pad2d", (((1, 0), (2, 3)),), CF, (3, 10, None)),
    ("cropping1d", (), {}, (10, 3)),
    ("cropping1d", (2,), {}, (10, 3)),
    ("cropping1d", ((0, 3),), {}, (None, 3)),
    ("cropping1d", ((1, 2),), {}, (4, 3)),
    ("cropping2d", (), {}, (8, 8, 3)),
    ("cropping2d", (1,), {}, (8, 8, 3)),
    ("cropping2d", ((2, 1),), {}, (10, 11, 3)),
    ("cropping2d", (((1, 0), (2, 3)),), CF, (3, 10, None)),
    ("upsampling1d", (), {}, (5, 3)),
    ("upsampling1d", (3,), {}, (None, 3)),
    ("upsampling2d", (), {}, (5, 6, 3)),
    ("upsampling2d", ((2, 3),), {"interpolation": "bilinear"}, (None, 4, 3)),
    ("upsampling2d", (2,), CF, (3, 5, 6)),
    ("upsampling2d", (3,), {"interpolation": "bicubic"}, (4, 4, 1)),
    ("zero_pad3d", (), {}, (4, 5, 6, 2)),
    ("zero_pad3d", (((1, 0), (2, 3), (0, 1)),), {}, (4, None, 6, 2)),
    ("zero_pad3d", (2,), {"data_format": "channels_first"}, (2, 4, 5, 6)),
    ("cropping3d", (), {}, (4, 5, 6, 2)),
    ("cropping3d", (((1, 0), (2, 1), (0, 1)),), {}, (4, 5, None, 2)),
    ("upsampling3d", (), {}, (4, 5, 6, 2)),
    ("upsampling3d", ((1, 2, 3),), {"data_format": "channels_first"}, (2, 4, 5, 6)),
    ("conv3d_transpose", (3, 2), {"strides": 2}, (4, 5, 6, 2)),
    ("conv3d_transpose", (3, 3), {"padding": "same", "use_bias": False}, (4, None, 6, 2)),
]

KINDS: tuple[LayerKind, ...] = conv.KINDS + pooling.KINDS


def keras_layer(kind: LayerKind, positional: tuple, keywords: dict[str, Any]):
    return getattr(keras.layers, kind.keras_class)(*positional, **keywords)


def keras_symbolic(layer, shape: tuple) -> tuple:
    """The output shape (batch excluded) of calling `layer` on a symbolic input, which builds it."""
    out = layer(keras.KerasTensor((None, *shape)))
    return tuple(out.shape[1:])


def case_id(case: tuple) -> str:
    kind, positional, keywords, shape = case
    parts = [str(p) for p in positional] + [f"{k}={v}" for k, v in keywords.items()]
    return f"{kind}({', '.join(parts)})-{shape}".replace(" ", "")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_shape_and_weights_match_keras(case: tuple) -> None:
    name, positional, keywords, shape = case
    kind = lookup(name)
    assert kind is not None and kind.name == name
    args = bind(kind, *positional, **keywords)
    ours = kind.infer([shape], args)

    layer = keras_layer(kind, positional, keywords)
    theirs = keras_symbolic(layer, shape)
    assert ours == theirs
    assert ours == tuple(layer.compute_output_shape((None, *shape)))[1:]

    weights = kind.weights([shape], args)
    assert sum(w.size for w in weights) == layer.count_params()
    # Keras' path is `<layer name>/<variable>`; the layer name carries a process-wide counter.
    assert [(w.name, w.shape) for w in weights] == [
        (v.path.split("/", 1)[1], tuple(v.shape)) for v in layer.weights
    ]
    assert [w.trainable for w in weights] == [v.trainable for v in layer.weights]


def test_every_kind_has_cases() -> None:
    assert {c[0] for c in CASES} == {k.name for k in KINDS}


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_names_aliases_and_auto_names(kind: LayerKind) -> None:
    assert lookup(kind.name) is kind
    assert lookup(kind.keras_class) is kind
    for alias in kind.aliases:
        assert lookup(alias) is kind, alias
        if alias[0].isupper():  # a class-name alias must be a real Keras alias of the class
            assert getattr(keras.layers, alias) is getattr(keras.layers, kind.keras_class)
    positional, keywords = next((p, k) for n, p, k, _ in CASES if n == kind.name)
    layer = keras_layer(kind, positional, keywords)
    assert re.fullmatch(rf"{kind.auto_name}(_\d+)?", layer.name), layer.name
    assert kind.summary and kind.category in ("conv", "pooling", "reshaping")


LINEARITY = {
    "conv1d": Linearity.MAP,
    "conv2d": Linearity.MAP,
    "conv3d": Linearity.MAP,
    "depthwise_conv2d": Linearity.MAP,
    "separable_conv2d": Linearity.MAP,
    "conv1d_transpose": Linearity.MAP,
    "conv2d_transpose": Linearity.MAP,
    "conv3d_transpose": Linearity.MAP,
    "max_pool1d": Linearity.NONLINEAR,
    "max_pool2d": Linearity.NONLINEAR,
    "global_max_pool1d": Linearity.NONLINEAR,
    "global_max_pool2d": Linearity.NONLINEAR,
    "max_pool3d": Linearity.NONLINEAR,
    "global_max_pool3d": Linearity.NONLINEAR,
}


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_linearity(kind: LayerKind) -> None:
    assert kind.linearity is LINEARITY.get(kind.name, Linearity.TRANSPARENT)


def test_choices() -> None:
    assert "causal" in lookup("conv1d").arg("padding").choices
    for name in ("conv2d", "conv1d_transpose", "max_pool1d", "separable_conv2d"):
        assert lookup(name).arg("padding").choices == ("valid", "same")
    assert set(lookup("upsampling2d").arg("interpolation").choices) >= {"nearest", "bilinear"}


# ---- errors --------------------------------------------------------------------------------

# (kind, positional, keywords, input shape, code, argument): inputs Keras refuses as well.
ERRORS: list[tuple[str, tuple, dict[str, Any], tuple, str, str | None]] = [
    ("conv2d", (8, 5), {}, (4, 4, 3), "NS101", "kernel_size"),
    ("conv2d", (8, 3), {"dilation_rate": 3}, (6, 10, 3), "NS101", "kernel_size"),
    ("conv2d", (8, 3), CF, (3, 2, 10), "NS101", "kernel_size"),
    ("conv1d", (8, 7), {"strides": 2}, (5, 3), "NS101", "kernel_size"),
    ("conv3d", (8, 3), {}, (8, 2, 8, 1), "NS101", "kernel_size"),
    ("depthwise_conv2d", (3,), {}, (2, 2, 3), "NS101", "kernel_size"),
    ("separable_conv2d", (8, 3), {}, (10, 2, 3), "NS101", "kernel_size"),
    ("max_pool2d", (3,), {}, (2, 10, 3), "NS101", "pool_size"),
    ("max_pool1d", (), {}, (1, 3), "NS101", "pool_size"),
    ("avg_pool1d", (4,), {"strides": 1}, (3, 3), "NS101", "pool_size"),
    ("avg_pool2d", (3,), CF, (3, 10, 2), "NS101", "pool_size"),
    ("max_pool3d", (3,), {}, (8, 2, 8, 1), "NS101", "pool_size"),
    ("cropping1d", (), {}, (2, 3), "NS101", "cropping"),
    ("cropping1d", ((3, 0),), {}, (3, 3), "NS101", "cropping"),
    ("cropping2d", ((0, 2),), {}, (5, 2, 3), "NS101", "cropping"),
    ("cropping2d", (1,), CF, (3, 2, 5), "NS101", "cropping"),
    ("conv2d", (8, 3), {}, (28, 28), "NS104", None),
    ("conv2d", (8, 3), {}, (4, 28, 28, 3), "NS104", None),
    ("conv1d", (8, 3), {}, (28,), "NS104", None),
    ("conv1d_transpose", (8, 3), {}, (28, 28, 3), "NS104", None),
    ("max_pool2d", (), {}, (28, 3), "NS104", None),
    ("global_avg_pool2d", (), {}, (28, 3), "NS104", None),
    ("global_max_pool1d", (), {}, (28, 28, 3), "NS104", None),
    ("zero_pad2d", (), {}, (28, 3), "NS104", None),
    ("cropping1d", (), {}, (28, 28, 3), "NS104", None),
    ("upsampling1d", (), {}, (28, 28, 3), "NS104", None),
    ("upsampling2d", (), {}, (28, 3), "NS104", None),
    ("conv2d", (8, 3), {"groups": 3}, (10, 10, 4), "NS102", "groups"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case_id(c[:4]) for c in ERRORS])
def test_shape_errors_match_keras(case: tuple) -> None:
    name, positional, keywords, shape, code, argument = case
    kind = lookup(name)
    with pytest.raises(ShapeError) as caught:
        kind.infer([shape], bind(kind, *positional, **keywords))
    assert caught.value.code == code
    assert caught.value.argument == argument
    # Keras' transposed convs fail on a wrong rank with an IndexError, not a message.
    with pytest.raises((ValueError, IndexError)):
        keras_symbolic(keras_layer(kind, positional, keywords), shape)


def test_window_message_names_the_numbers() -> None:
    kind = lookup("conv2d")
    with pytest.raises(ShapeError) as caught:
        kind.infer([(4, 4, 3)], bind(kind, 8, 5))
    assert caught.value.message == (
        "window 5x5 is larger than its 4x4 input; use padding=same or a smaller window"
    )


def test_same_padding_never_too_small() -> None:
    kind = lookup("conv2d")
    assert kind.infer([(2, 2, 3)], bind(kind, 8, 5, padding="same")) == (2, 2, 8)


# Keras refuses these in the constructor, before any input is seen.
CONSTRUCTOR_ERRORS = [
    ("conv2d", (8, 3), {"strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ("conv1d_transpose", (8, 3), {"strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ("conv2d", (6, 3), {"groups": 4}, "groups"),
    ("conv2d_transpose", (8, 3), {"strides": 2, "output_padding": 2}, "output_padding"),
    ("conv1d_transpose", (8, 3), {"output_padding": 1}, "output_padding"),
]


@pytest.mark.parametrize(
    "case", CONSTRUCTOR_ERRORS, ids=[case_id((*c[:3], ())) for c in CONSTRUCTOR_ERRORS]
)
def test_argument_conflicts_are_ns102(case: tuple) -> None:
    name, positional, keywords, argument = case
    kind = lookup(name)
    rank = int(name[4])
    shape = (16,) * rank + (8,)
    with pytest.raises(ShapeError) as caught:
        kind.infer([shape], bind(kind, *positional, **keywords))
    assert (caught.value.code, caught.value.argument) == ("NS102", argument)
    with pytest.raises(ValueError):
        keras_layer(kind, positional, keywords)


def test_transpose_output_of_size_zero_is_ns101() -> None:
    # Keras reports a 0-sized output here without complaint; a spec should not build it.
    kind = lookup("conv2d_transpose")
    args = bind(kind, 8, 2, padding="same", output_padding=0)
    with pytest.raises(ShapeError) as caught:
        kind.infer([(1, 1, 4)], args)
    assert caught.value.code == "NS101"
    assert keras_symbolic(
        keras_layer(kind, (8, 2), {"padding": "same", "output_padding": 0}), (1, 1, 4)
    ) == (0, 0, 8)


@pytest.mark.parametrize(
    "name, positional, keywords, shape",
    [
        ("conv2d", (8, 3), {}, (10, 10, None)),
        ("conv1d", (8, 3), CF, (None, 10)),
        ("depthwise_conv2d", (3,), {}, (10, 10, None)),
        ("separable_conv2d", (8, 3), {}, (10, 10, None)),
        ("conv2d_transpose", (8, 3), {}, (10, 10, None)),
    ],
)
def test_unknown_channels_infer_but_cannot_weigh(name, positional, keywords, shape) -> None:
    kind = lookup(name)
    args = bind(kind, *positional, **keywords)
    out = kind.infer([shape], args)
    assert len(out) == len(shape)
    with pytest.raises(ShapeError) as caught:
        kind.weights([shape], args)
    assert caught.value.code == "NS108"
