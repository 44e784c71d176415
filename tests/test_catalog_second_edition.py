"""The kinds of the language's second edition (attention, einsum_dense, position_embedding,
normalization, per-channel rescaling, preprocessing) against real Keras 3 layers; the 3D
family is in test_catalog_conv_pool.py."""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from netspec.layers.catalog import (
    LayerKind,
    Linearity,
    ShapeError,
    attention,
    lookup,
    preprocessing,
)
from netspec.layers.resolve import bind

# (kind, positional, keywords, input shapes without the batch): built by netspec through `bind`
# as a spec would, and by Keras on symbolic inputs.
CASES: list[tuple[str, tuple, dict[str, Any], list[tuple]]] = [
    ("multi_head_attention", (4, 8), {}, [(10, 16), (12, 20)]),
    ("multi_head_attention", (2, 8), {}, [(None, 16), (None, 16)]),
    (
        "multi_head_attention",
        (4, 8),
        {"value_dim": 6, "output_shape": 7},
        [(10, 16), (12, 20), (12, 5)],
    ),
    (
        "multi_head_attention",
        (2, 8),
        {"use_bias": False, "attention_axes": (1, 2)},
        [(3, 4, 16), (3, 4, 16)],
    ),
    ("multi_head_attention", (2, 8), {"output_shape": (3, 5)}, [(10, 16), (12, 20)]),
    ("multi_head_attention", (4, 8), {"use_gate": True, "dropout": 0.1}, [(10, 16), (12, 20)]),
    ("attention", (), {}, [(10, 16), (12, 16)]),
    ("attention", (), {"use_scale": True, "score_mode": "concat"}, [(10, 16), (12, 16)]),
    ("attention", (True,), {}, [(None, 8), (None, 5), (None, 8)]),
    ("additive_attention", (), {}, [(10, 16), (12, 5), (12, 16)]),
    ("additive_attention", (False,), {}, [(10, 16), (12, 16)]),
    # Keras attends within each slice of the axes before the steps (a batched matmul)
    ("attention", (), {"use_scale": True}, [(3, 10, 16), (3, 12, 5), (3, 12, 16)]),
    ("attention", (), {"score_mode": "concat"}, [(2, 3, 10, 16), (2, 3, 12, 16)]),
    ("additive_attention", (), {}, [(None, 10, 16), (4, 12, 16)]),
    ("einsum_dense", ("ab,bc->ac", 8), {"bias_axes": "c"}, [(16,)]),
    ("einsum_dense", ("abc,cd->abd", (None, 8)), {"bias_axes": "d"}, [(5, 16)]),
    ("einsum_dense", ("abc,cde->abde", (5, 4, 8)), {"bias_axes": "de"}, [(5, 16)]),
    (
        "einsum_dense",
        ("abc,cde->abde", (5, 4, 8)),
        {"bias_axes": "e", "activation": "relu"},
        [(5, 16)],
    ),
    ("einsum_dense", ("...b,bc->...c", 8), {}, [(5, 16)]),
    ("einsum_dense", ("ab...,bc->ac...", 8), {"bias_axes": "c"}, [(16, 3)]),
    ("einsum_dense", ("abcd,cde->abe", (4, 6)), {}, [(4, 3, 5)]),
    ("normalization", (), {}, [(5, 3)]),
    ("normalization", (), {"axis": (1, 2)}, [(5, 3)]),
    ("normalization", (None,), {}, [(5, 3)]),
    ("normalization", (), {"mean": (1.0, 2.0, 3.0), "variance": (1.0, 2.0, 3.0)}, [(5, 3)]),
    ("normalization", (), {"mean": 2.0, "variance": 3.0, "invert": True}, [(4, 4, 3)]),
    ("rescaling", (1.0 / 255,), {}, [(4, 4, 3)]),
    ("rescaling", ((1.0, 2.0, 3.0),), {"offset": (0.0, 1.0, 2.0)}, [(4, 4, 3)]),
    ("rescaling", ((0.5,),), {"offset": -1.0}, [(None, 3)]),
    ("resizing", (8, 9), {}, [(10, 12, 3)]),
    (
        "resizing",
        (8, 9),
        {"interpolation": "nearest", "data_format": "channels_first"},
        [(3, 10, 12)],
    ),
    ("center_crop", (3, 4), {}, [(10, 12, 3)]),
    ("random_flip", (), {}, [(10, 12, 3)]),
    ("random_flip", ("horizontal",), {"seed": 1}, [(None, None, 3)]),
    ("random_rotation", (0.1,), {}, [(10, 12, 3)]),
    ("random_zoom", (0.1,), {"width_factor": (-0.2, 0.3)}, [(10, 12, 3)]),
    ("random_translation", (0.1, 0.2), {}, [(10, 12, 3)]),
    ("random_contrast", (0.2,), {}, [(10, 12, 3)]),
]

NEW_KINDS = (
    *attention.KINDS,
    *preprocessing.KINDS,
    lookup("rescaling"),
)


def keras_call(kind: LayerKind, layer, shapes: list[tuple]):
    inputs = [keras.KerasTensor((None, *s)) for s in shapes]
    if kind.inputs_as_arguments:
        return layer(*inputs)
    return layer(inputs) if len(inputs) > 1 else layer(inputs[0])


def case_id(case: tuple) -> str:
    kind, positional, keywords, shapes = case
    parts = [repr(p) for p in positional] + [f"{k}={v!r}" for k, v in keywords.items()]
    return f"{kind}({', '.join(parts)})-{shapes}".replace(" ", "")


def keras_value(value: Any) -> Any:
    # Keras takes lists where a spec writes tuples of numbers (per-channel scales, statistics).
    if isinstance(value, tuple) and value and isinstance(value[0], float):
        return list(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_shape_and_weights_match_keras(case: tuple) -> None:
    name, positional, keywords, shapes = case
    kind = lookup(name)
    assert kind is not None and kind.name == name
    args = bind(kind, *positional, **keywords)
    ours = kind.infer(list(shapes), args)
    cls = getattr(keras.layers, kind.keras_class)
    layer = cls(
        *[keras_value(p) for p in positional], **{k: keras_value(v) for k, v in keywords.items()}
    )
    out = keras_call(kind, layer, shapes)
    assert ours == tuple(out.shape[1:])
    weights = kind.weights(list(shapes), args)
    assert sum(w.size for w in weights) == layer.count_params()
    assert [(w.name, w.shape, w.trainable) for w in weights] == [
        (v.path.split("/", 1)[1], tuple(v.shape), v.trainable) for v in layer.weights
    ]


def test_every_new_kind_has_cases() -> None:
    assert {k.name for k in NEW_KINDS} - {"position_embedding"} <= {c[0] for c in CASES}


def test_einsum_dense_with_two_elided_axes_is_shaped_as_it_computes() -> None:
    # Keras' symbolic shape lists two left-elided axes in reverse order (its own loop inserts
    # each at the front); the layer computes them in order, and netspec follows what it computes.
    kind = lookup("einsum_dense")
    args = bind(kind, "...b,bc->...c", 8)
    layer = keras.layers.EinsumDense("...b,bc->...c", 8)
    computed = layer(np.zeros((2, 5, 6, 16), dtype="float32"))
    assert kind.infer([(5, 6, 16)], args) == tuple(computed.shape[1:]) == (5, 6, 8)


# keras_hub is not a dependency: its PositionEmbedding is checked against what it documents
# (weight `embeddings` of (sequence_length, features), output shaped like its input).
@pytest.mark.parametrize("shape", [(10, 32), (None, 32), (4, 10, 8)])
def test_position_embedding(shape: tuple) -> None:
    kind = lookup("position_embedding")
    args = bind(kind, 12)
    assert kind.infer([shape], args) == shape
    weights = kind.weights([shape], args)
    assert [(w.name, w.shape, w.trainable) for w in weights] == [
        ("embeddings", (12, shape[-1]), True)
    ]


# (kind, positional, keywords, shapes, code, argument): what Keras only finds when the model runs,
# or refuses as it builds.
ERRORS: list[tuple[str, tuple, dict[str, Any], list[tuple], str, str | None]] = [
    ("attention", (), {}, [(10, 16), (12, 8)], "NS103", None),
    ("additive_attention", (), {}, [(10, 16), (12, 8)], "NS103", None),
    ("attention", (), {}, [(10, 16), (12, 16), (11, 16)], "NS103", None),
    ("multi_head_attention", (4, 8), {}, [(10, 16), (12, 20), (11, 20)], "NS103", None),
    ("multi_head_attention", (4, 8), {}, [(10, 16), (None, 20), (11, 20)], "NS103", None),
    ("attention", (), {}, [(10,), (12,)], "NS104", None),
    ("attention", (), {}, [(4, 10, 16), (3, 12, 16)], "NS103", None),
    # a key of lower rank broadcasts against the query's axes in Keras only when the batch fits
    ("additive_attention", (), {}, [(4, 10, 16), (12, 16)], "NS103", None),
    ("rescaling", ((1.0, 2.0),), {}, [(4, 4, 3)], "NS102", "scale"),
    ("rescaling", (1.0,), {"offset": (1.0, 2.0)}, [(4, 4, 3)], "NS102", "offset"),
    ("normalization", (), {"mean": (1.0, 2.0), "variance": (1.0, 1.0)}, [(5, 3)], "NS102", "mean"),
    ("position_embedding", (8,), {}, [(10, 4)], "NS102", "sequence_length"),
    ("einsum_dense", ("abc,cd->abd", (6, 8)), {}, [(5, 16)], "NS102", "output_shape"),
    ("einsum_dense", ("abc,cd->abd", (None, 8)), {}, [(16,)], "NS104", None),
    ("einsum_dense", ("abc,cd->abe", (None, 8)), {}, [(5, 16)], "NS102", "equation"),
    ("einsum_dense", ("ab,bc->ac", 8), {"bias_axes": "x"}, [(16,)], "NS102", "bias_axes"),
    ("resizing", (8, 9), {}, [(10, 12)], "NS104", None),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case_id(c[:4]) for c in ERRORS])
def test_errors(case: tuple) -> None:
    name, positional, keywords, shapes, code, argument = case
    kind = lookup(name)
    args = bind(kind, *positional, **keywords)
    with pytest.raises(ShapeError) as caught:
        kind.infer(list(shapes), args)
        kind.weights(list(shapes), args)
    assert (caught.value.code, caught.value.argument) == (code, argument)


@pytest.mark.parametrize(
    "name, positional, keywords, shapes",
    [
        ("attention", (), {}, [(10, 16), (12, 8)]),
        ("additive_attention", (), {}, [(10, 16), (12, 8)]),
        ("attention", (), {}, [(4, 10, 16), (3, 12, 16)]),
        ("rescaling", ((1.0, 2.0),), {}, [(4, 4, 3)]),
        ("normalization", (), {"mean": [1.0, 2.0], "variance": [1.0, 1.0]}, [(5, 3)]),
    ],
)
def test_keras_fails_on_these_when_run(name, positional, keywords, shapes) -> None:
    kind = lookup(name)
    cls = getattr(keras.layers, kind.keras_class)
    layer = cls(*[keras_value(p) for p in positional], **keywords)
    arrays = [np.ones((1, *s), dtype="float32") for s in shapes]
    with pytest.raises(Exception):  # noqa: B017 - TensorFlow raises its own error classes
        layer(arrays) if len(arrays) > 1 else layer(arrays[0])


@pytest.mark.parametrize("kind", NEW_KINDS, ids=[k.name for k in NEW_KINDS])
def test_names_and_auto_names(kind: LayerKind) -> None:
    assert lookup(kind.name) is kind
    assert lookup(kind.keras_class) is kind
    if kind.name == "position_embedding":
        return  # keras_hub's class, not keras.layers'
    positional, keywords = next((p, k) for n, p, k, _ in CASES if n == kind.name)
    layer = getattr(keras.layers, kind.keras_class)(
        *[keras_value(p) for p in positional], **{k: keras_value(v) for k, v in keywords.items()}
    )
    assert re.fullmatch(rf"{kind.auto_name}(_\d+)?", layer.name), layer.name


def test_rules_traits() -> None:
    assert lookup("einsum_dense").linearity is Linearity.MAP
    for name in ("multi_head_attention", "attention", "additive_attention"):
        assert lookup(name).linearity is Linearity.NONLINEAR
    assert lookup("position_embedding").traits.shape_only
    assert not lookup("dense").traits.shape_only
    for name in ("random_flip", "random_rotation", "random_zoom", "random_contrast"):
        assert lookup(name).traits.in_training_only
    assert lookup("multi_head_attention").inputs_as_arguments
    assert not lookup("attention").inputs_as_arguments
