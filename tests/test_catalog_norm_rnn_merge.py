"""The normalization, recurrent and merge catalog entries against real Keras 3 layers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

keras = pytest.importorskip("keras")

from netspec.layers.catalog import (  # noqa: E402
    LayerKind,
    LayerSpec,
    Linearity,
    ShapeError,
    lookup,
    merge,
    normalization,
    recurrent,
)  # noqa: E402
from netspec.layers.resolve import bind  # noqa: E402

OUR_KINDS = (*normalization.KINDS, *recurrent.KINDS, *merge.KINDS)
SUBJECT = "subject"  # the tested layer's name; weight paths are compared below it


@dataclass(frozen=True)
class Inner:
    """A layer used as a value: built as a Keras layer on one side, a LayerSpec on the other."""

    kind: str
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def keras(self) -> Any:
        cls = getattr(keras.layers, lookup(self.kind).keras_class)
        return cls(name=self.name, **{k: to_keras(v) for k, v in self.kwargs.items()})

    def spec(self) -> LayerSpec:
        args = bind(self.kind, **{k: to_ours(v) for k, v in self.kwargs.items()})
        return LayerSpec(self.kind, args, self.name, frozenset(self.kwargs), lookup(self.kind))


def to_keras(value: Any) -> Any:
    return value.keras() if isinstance(value, Inner) else value


def to_ours(value: Any) -> Any:
    return value.spec() if isinstance(value, Inner) else value


def keras_layer(kind: LayerKind, kwargs: dict[str, Any], shapes: list[tuple]) -> tuple[Any, tuple]:
    """Build the Keras layer on symbolic inputs; its output shape without the batch."""
    cls = getattr(keras.layers, kind.keras_class)
    layer = cls(name=SUBJECT, **{k: to_keras(v) for k, v in kwargs.items()})
    tensors = [keras.Input(shape=shape) for shape in shapes]
    out = layer(tensors if kind.is_merge else tensors[0])
    assert not isinstance(out, (list, tuple)), "one output expected"
    assert out.shape[0] is None
    return layer, tuple(out.shape[1:])


def ours(kind: LayerKind, kwargs: dict[str, Any], shapes: list[tuple]) -> tuple[tuple, list]:
    args = bind(kind.name, **{k: to_ours(v) for k, v in kwargs.items()})
    inputs = [tuple(shape) for shape in shapes]
    return kind.infer(inputs, args), kind.weights(inputs, args)


def our_error(kind_name: str, kwargs: dict[str, Any], shapes: list[tuple]) -> ShapeError:
    with pytest.raises(ShapeError) as caught:
        ours(lookup(kind_name), kwargs, shapes)
    return caught.value


def lstm(name: str = "lstm", **kwargs: Any) -> Inner:
    return Inner("lstm", name, {"units": 3, **kwargs})


CASES: list[tuple[str, dict[str, Any], list[tuple]]] = [
    # normalization
    ("batch_norm", {}, [(4, 5)]),
    ("batch_norm", {}, [(8, 8, 3)]),
    ("batch_norm", {}, [(16,)]),
    ("batch_norm", {}, [(None, 7)]),
    ("batch_norm", {"axis": 1}, [(4, 5)]),
    ("batch_norm", {"axis": -2}, [(None, 6, 3)]),
    ("batch_norm", {"center": False}, [(4, 5)]),
    ("batch_norm", {"center": False, "scale": False}, [(4, 5)]),
    ("batch_norm", {"renorm": True}, [(6,)]),
    ("layer_norm", {}, [(None, 5)]),
    ("layer_norm", {"axis": (-1, 1)}, [(4, 5, 6)]),
    ("layer_norm", {"axis": (1, 2)}, [(4, 5)]),
    ("layer_norm", {"axis": 1, "center": False}, [(4, 5)]),
    ("layer_norm", {"scale": False}, [(3, 3, 8)]),
    ("group_norm", {"groups": 4}, [(None, 8)]),
    ("group_norm", {"groups": -1}, [(4, 4, 6)]),
    ("group_norm", {"groups": 2, "axis": 1}, [(4, 8)]),
    ("group_norm", {"groups": 1, "scale": False}, [(5, 3)]),
    ("group_norm", {}, [(8, 8, 64)]),
    ("unit_norm", {}, [(5,)]),
    ("unit_norm", {"axis": (1, 2)}, [(3, 4)]),
    ("unit_norm", {"axis": 1}, [(None, 4)]),
    # recurrent
    ("simple_rnn", {"units": 3}, [(None, 5)]),
    ("simple_rnn", {"units": 3, "return_sequences": True}, [(7, 5)]),
    ("simple_rnn", {"units": 2, "use_bias": False, "go_backwards": True}, [(None, 4)]),
    ("lstm", {"units": 4}, [(None, 6)]),
    ("lstm", {"units": 4, "return_sequences": True}, [(None, 6)]),
    ("lstm", {"units": 1, "use_bias": False, "unit_forget_bias": False}, [(10, 2)]),
    ("lstm", {"units": 8, "go_backwards": True, "unroll": True}, [(5, 3)]),
    ("gru", {"units": 3}, [(None, 5)]),
    ("gru", {"units": 3, "reset_after": False}, [(7, 5)]),
    ("gru", {"units": 3, "reset_after": False, "use_bias": False}, [(7, 5)]),
    ("gru", {"units": 5, "return_sequences": True}, [(None, 2)]),
    ("bidirectional", {"layer": lstm()}, [(None, 5)]),
    ("bidirectional", {"layer": lstm(return_sequences=True)}, [(7, 5)]),
    (
        "bidirectional",
        {"layer": Inner("gru", "gru", {"units": 3}), "merge_mode": "sum"},
        [(None, 5)],
    ),
    (
        "bidirectional",
        {"layer": Inner("simple_rnn", "rnn", {"units": 2}), "merge_mode": "mul"},
        [(4, 3)],
    ),
    ("bidirectional", {"layer": lstm(return_sequences=True), "merge_mode": "ave"}, [(None, 3)]),
    ("bidirectional", {"layer": lstm("forward_enc")}, [(None, 5)]),
    ("bidirectional", {"layer": lstm(trainable=False)}, [(None, 5)]),
    (
        "bidirectional",
        {"layer": lstm(), "backward_layer": lstm("lstm_back", go_backwards=True)},
        [(None, 5)],
    ),
    (
        "bidirectional",
        {
            "layer": lstm(),
            "backward_layer": Inner("gru", "gru_back", {"units": 3, "go_backwards": True}),
        },
        [(None, 5)],
    ),
    ("time_distributed", {"layer": Inner("dense", "dense", {"units": 3})}, [(None, 5)]),
    ("time_distributed", {"layer": Inner("dense", "dense", {"units": 3})}, [(7, 4, 5)]),
    (
        "time_distributed",
        {"layer": Inner("dense", "dense", {"units": 2, "trainable": False})},
        [(7, 5)],
    ),
    ("time_distributed", {"layer": Inner("batch_norm", "bn")}, [(None, 5)]),
    ("time_distributed", {"layer": Inner("lstm", "lstm", {"units": 3})}, [(7, 4, 5)]),
    ("time_distributed", {"layer": Inner("flatten", "flat")}, [(None, 4, 5)]),
    (
        "time_distributed",
        {"layer": Inner("bidirectional", "bidi", {"layer": lstm()})},
        [(6, None, 5)],
    ),
    # merges
    ("add", {}, [(4, 5), (4, 5)]),
    ("add", {}, [(32, 32, 64), (32, 32, 64), (32, 32, 64)]),
    ("add", {}, [(4, 1), (1, 5)]),
    ("add", {}, [(4, 5), (5,)]),
    ("add", {}, [(None, 5), (3, 5)]),
    ("add", {}, [(1, 5), (None, 5)]),
    ("subtract", {}, [(4, 5), (4, 5)]),
    ("subtract", {}, [(None, 8), (1, 8)]),
    ("multiply", {}, [(4, 5), (4, 5), (4, 1)]),
    ("average", {}, [(6,), (6,)]),
    ("maximum", {}, [(3, 3, 2), (3, 3, 2)]),
    ("minimum", {}, [(None, 2), (None, 2)]),
    ("concat", {}, [(4, 5), (4, 6)]),
    ("concat", {"axis": 1}, [(4, 5), (3, 5)]),
    ("concat", {"axis": -2}, [(2, 5), (3, 5), (1, 5)]),
    ("concat", {}, [(None, 5), (3, 6)]),
    ("concat", {}, [(3, None), (3, 6)]),
    ("concat", {"axis": 2}, [(8, 4, 16), (8, 6, 16)]),
    ("concat", {"axis": 3}, [(8, 8, 16), (8, 8, 32)]),
    ("dot", {"axes": 1}, [(5,), (5,)]),
    ("dot", {"axes": -1}, [(4, 5), (6, 5)]),
    ("dot", {"axes": (2, 1)}, [(4, 5), (5, 6, 7)]),
    ("dot", {"axes": (1, 1), "normalize": True}, [(4, 5), (4, 6)]),
    ("dot", {"axes": (-1, 1)}, [(None, 5), (5, None)]),
]


def _case_id(case: tuple[str, dict[str, Any], list[tuple]]) -> str:
    kind, kwargs, shapes = case
    args = ",".join(f"{k}={getattr(v, 'kind', v)}" for k, v in kwargs.items())
    return f"{kind}({args})-" + "+".join(str(s).replace(" ", "") for s in shapes)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_shape_and_weights_match_keras(case: tuple[str, dict[str, Any], list[tuple]]) -> None:
    kind_name, kwargs, shapes = case
    kind = lookup(kind_name)
    layer, keras_shape = keras_layer(kind, kwargs, shapes)
    shape, weights = ours(kind, kwargs, shapes)
    assert shape == keras_shape
    assert sum(w.size for w in weights) == layer.count_params()
    keras_weights = [
        (w.path.removeprefix(f"{SUBJECT}/"), tuple(w.shape), w.trainable) for w in layer.weights
    ]
    assert [(w.name, w.shape, w.trainable) for w in weights] == keras_weights


def test_parameter_formulas() -> None:
    """The counts the summary promises: batch norm 4C, LSTM 4u(in+u+1), GRU 3u(in+u+2)."""
    c, u, n = 64, 32, 100
    _, bn = ours(lookup("batch_norm"), {}, [(8, 8, c)])
    _, lstm_w = ours(lookup("lstm"), {"units": u}, [(None, n)])
    _, gru_w = ours(lookup("gru"), {"units": u}, [(None, n)])
    assert sum(w.size for w in bn) == 4 * c
    assert sum(w.size for w in bn if not w.trainable) == 2 * c
    assert sum(w.size for w in lstm_w) == 4 * u * (n + u + 1)
    assert sum(w.size for w in gru_w) == 3 * u * (n + u + 2)


# ---- errors: Keras refuses and so do we, with the code the checker reports ------------------

REFUSED = [
    ("add", {}, [(32, 32, 64), (16, 16, 64)], "NS103"),
    ("add", {}, [(4, 5), (4, 5), (4, 6)], "NS103"),
    ("multiply", {}, [(4, 5), (4, 6)], "NS103"),
    ("subtract", {}, [(3,), (4,)], "NS103"),
    ("maximum", {}, [(2, 5), (5, 3)], "NS103"),
    ("concat", {}, [(4, 5), (3, 6)], "NS103"),
    ("concat", {}, [(4, 5), (5,)], "NS103"),
    ("concat", {}, [(None, 5), (3, 5), (4, 5)], "NS103"),
    ("concat", {"axis": 5}, [(4, 5), (4, 5)], "NS102"),
    ("dot", {"axes": 1}, [(5,), (6,)], "NS103"),
    ("dot", {"axes": -1}, [(None,), (5,)], "NS103"),
    ("subtract", {}, [(3,), (3,), (3,)], "NS102"),
    ("simple_rnn", {"units": 3}, [(5,)], "NS106"),
    ("lstm", {"units": 3}, [(5,)], "NS106"),
    ("lstm", {"units": 3}, [(4, 4, 5)], "NS106"),
    ("gru", {"units": 3}, [(4, None)], "NS108"),
    ("lstm", {"units": 3, "stateful": True}, [(4, 5)], "NS102"),
    ("bidirectional", {"layer": lstm()}, [(5,)], "NS106"),
    ("bidirectional", {"layer": lstm(go_backwards=True)}, [(4, 5)], "NS102"),
    ("bidirectional", {"layer": lstm(), "backward_layer": lstm("back")}, [(4, 5)], "NS102"),
    (
        "bidirectional",
        {"layer": lstm(), "backward_layer": lstm("back", go_backwards=True, return_sequences=True)},
        [(4, 5)],
        "NS102",
    ),
    ("time_distributed", {"layer": Inner("dense", "dense", {"units": 3})}, [(5,)], "NS104"),
    ("time_distributed", {"layer": Inner("lstm", "lstm", {"units": 3})}, [(7, 5)], "NS106"),
    ("batch_norm", {}, [(4, None)], "NS108"),
    ("batch_norm", {"axis": 3}, [(4, 5)], "NS102"),
    ("layer_norm", {}, [(None,)], "NS108"),
    ("layer_norm", {"axis": -4}, [(4, 5)], "NS102"),
    ("unit_norm", {"axis": 2}, [(4,)], "NS102"),
    ("group_norm", {"groups": 3}, [(4, 8)], "NS102"),
    ("group_norm", {"groups": 16}, [(4, 8)], "NS102"),
    ("group_norm", {"groups": 2}, [(4, None)], "NS108"),
]


@pytest.mark.parametrize(
    "kind_name, kwargs, shapes, code",
    REFUSED,
    ids=[_case_id(c[:3]) for c in REFUSED],
)
def test_keras_refuses_and_we_report(kind_name: str, kwargs: dict, shapes: list, code: str) -> None:
    with pytest.raises(Exception):  # ValueError, IndexError or TypeError, as Keras has it
        keras_layer(lookup(kind_name), kwargs, shapes)
    error = our_error(kind_name, kwargs, shapes)
    assert error.code == code, error.message
    assert "subject" not in error.message  # the checker prefixes the layer's name


def test_merge_message_names_both_shapes() -> None:
    error = our_error("add", {}, [(32, 32, 64), (16, 16, 64)])
    assert error.message.startswith(
        "add needs inputs of one shape, got (None, 32, 32, 64) and (None, 16, 16, 64)"
    )


def test_rnn_on_a_vector_message() -> None:
    error = our_error("lstm", {"units": 3}, [(5,)])
    assert "(None, 5)" in error.message and "rank 3" in error.message


def test_inner_errors_point_at_the_layer_argument() -> None:
    error = our_error("bidirectional", {"layer": lstm()}, [(5,)])
    assert error.argument == "layer"
    error = our_error("time_distributed", {"layer": Inner("dense", "d", {"units": 2})}, [(3, None)])
    assert (error.code, error.argument) == ("NS108", "layer")


# ---- what Keras accepts but a netspec layer cannot express ----------------------------------


def test_bidirectional_merge_mode_none_gives_two_outputs() -> None:
    kwargs = {"layer": lstm(), "merge_mode": None}
    out = keras.layers.Bidirectional(lstm().keras(), merge_mode=None)(keras.Input((4, 5)))
    assert isinstance(out, (list, tuple)) and len(out) == 2
    error = our_error("bidirectional", kwargs, [(4, 5)])
    assert (error.code, error.argument) == ("NS102", "merge_mode")


def test_bidirectional_backward_width_must_match() -> None:
    # Keras' static shape says (None, 6); running it gives 7: we refuse the mismatch.
    kwargs = {"layer": lstm(), "backward_layer": lstm("back", units=4, go_backwards=True)}
    layer, static = keras_layer(lookup("bidirectional"), kwargs, [(4, 5)])
    assert static == (6,)
    assert tuple(layer(keras.ops.zeros((2, 4, 5))).shape) == (2, 7)
    error = our_error("bidirectional", kwargs, [(4, 5)])
    assert (error.code, error.argument) == ("NS102", "backward_layer")


def test_return_state_is_refused() -> None:
    out = keras.layers.LSTM(3, return_state=True)(keras.Input((4, 5)))
    assert isinstance(out, (list, tuple)) and len(out) == 3
    error = our_error("lstm", {"units": 3, "return_state": True}, [(4, 5)])
    assert (error.code, error.argument) == ("NS102", "return_state")


def test_wrappers_refuse_unfit_inner_layers() -> None:
    error = our_error("bidirectional", {"layer": Inner("dense", "dense", {"units": 3})}, [(4, 5)])
    assert (error.code, error.argument) == ("NS102", "layer")


def test_batch_axis_is_refused() -> None:
    # Keras concatenates along the batch when asked (its static shape drops nothing); a spec that
    # does so is wrong, so netspec refuses axis 0.
    assert our_error("concat", {"axis": 0}, [(4, 5), (4, 5)]).code == "NS102"
    assert our_error("dot", {"axes": 0}, [(5,), (5,)]).code == "NS102"
    assert our_error("batch_norm", {"axis": 0}, [(4, 5)]).code == "NS102"


def test_group_norm_bad_groups() -> None:
    with pytest.raises(ValueError):
        keras.layers.GroupNormalization(groups=0)
    assert our_error("group_norm", {"groups": 0}, [(4, 8)]).argument == "groups"


# ---- the entries themselves ------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUR_KINDS, ids=lambda k: k.name)
def test_auto_name_is_keras(kind: LayerKind) -> None:
    cls = getattr(keras.layers, kind.keras_class)
    sample = {"bidirectional": (lstm().keras(),), "time_distributed": (keras.layers.Dense(2),)}
    sample |= {"simple_rnn": (2,), "lstm": (2,), "gru": (2,), "dot": (1,)}
    layer = cls(*sample.get(kind.name, ()))
    assert re.sub(r"_\d+$", "", layer.name) == kind.auto_name


@pytest.mark.parametrize(
    "name, kind",
    [
        ("batch_normalization", "batch_norm"),
        ("batchnorm", "batch_norm"),
        ("BatchNormalization", "batch_norm"),
        ("layer_normalization", "layer_norm"),
        ("group_normalization", "group_norm"),
        ("unit_normalization", "unit_norm"),
        ("SimpleRNN", "simple_rnn"),
        ("LSTM", "lstm"),
        ("GRU", "gru"),
        ("Bidirectional", "bidirectional"),
        ("TimeDistributed", "time_distributed"),
        ("concatenate", "concat"),
        ("Concatenate", "concat"),
        ("Dot", "dot"),
        ("Add", "add"),
    ],
)
def test_lookup_by_alias(name: str, kind: str) -> None:
    assert lookup(name) is lookup(kind)


LINEARITY = {
    "batch_norm": Linearity.TRANSPARENT,
    "layer_norm": Linearity.NONLINEAR,
    "group_norm": Linearity.NONLINEAR,
    "unit_norm": Linearity.NONLINEAR,
    "simple_rnn": Linearity.NONLINEAR,
    "lstm": Linearity.NONLINEAR,
    "gru": Linearity.NONLINEAR,
    "bidirectional": Linearity.NONLINEAR,
    "time_distributed": Linearity.MAP,
    "add": Linearity.TRANSPARENT,
    "subtract": Linearity.TRANSPARENT,
    "average": Linearity.TRANSPARENT,
    "concat": Linearity.TRANSPARENT,
    "multiply": Linearity.NONLINEAR,
    "maximum": Linearity.NONLINEAR,
    "minimum": Linearity.NONLINEAR,
    "dot": Linearity.NONLINEAR,
}


def test_linearity_category_summary_and_input_counts() -> None:
    assert {k.name: k.linearity for k in OUR_KINDS} == LINEARITY
    for kind in OUR_KINDS:
        assert kind.summary and "\n" not in kind.summary
        assert kind.category in {"normalisation", "recurrent", "merge"}
        if kind in merge.KINDS:
            assert kind.is_merge and kind.min_inputs == 2
        else:
            assert (kind.min_inputs, kind.max_inputs) == (1, 1)
    assert lookup("subtract").max_inputs == lookup("dot").max_inputs == 2


def test_positional_arguments_follow_keras() -> None:
    """`lstm(64, relu)` is `LSTM(64, "relu")`; `bidirectional(lstm(8), sum)` as Keras' order."""
    assert bind("lstm", 64, "relu")["activation"] == "relu"
    assert bind("gru", 4, "tanh", "relu")["recurrent_activation"] == "relu"
    assert bind("group_norm", 8)["groups"] == 8
    assert bind("dot", (1, 2))["axes"] == (1, 2)
    inner = lstm().spec()
    args = bind("bidirectional", inner, "sum")
    assert (args["layer"], args["merge_mode"], args["backward_layer"]) == (inner, "sum", None)
    assert bind("time_distributed", inner)["layer"] == inner


@pytest.mark.parametrize("kind", ["dense", "embedding"])
def test_lora_weights_match_keras(kind: str) -> None:
    from netspec.layers.catalog import lookup
    from netspec.layers.resolve import bind

    if kind == "dense":
        layer = keras.layers.Dense(3, lora_rank=2)
        layer.build((None, 5))
        args, inputs = bind("dense", 3, lora_rank=2), [(5,)]
    else:
        layer = keras.layers.Embedding(10, 4, lora_rank=2)
        layer.build((None, 3))
        args, inputs = bind("embedding", 10, 4, lora_rank=2), [(3,)]
    ours = [(w.name, w.shape, w.trainable) for w in lookup(kind).weights(inputs, args)]
    theirs = [(w.path.split("/", 1)[1], tuple(w.shape), w.trainable) for w in layer.weights]
    assert ours == theirs
