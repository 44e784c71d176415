"""Every catalog kind against its real Keras 3 constructor: argument names, positional order and
defaults, in one test over all kinds."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import netspec
from netspec.layers.base import COMMON_ARGS, REQUIRED, LayerKind
from netspec.layers.catalog import all_kinds
from netspec.layers.ops import is_operation

# Arguments of Keras' base `Layer`: the catalog states them once, in COMMON_ARGS, and lowering
# gives `name`. SpatialDropout*D and the pooling classes repeat some of them in their signatures.
BASE_ARGS = frozenset({arg.name for arg in COMMON_ARGS} | {"name"})

_QUANTIZATION = (
    "a keras.quantizers config object, which acts only under a quantized dtype policy "
    "(int8, int4, float8), and netspec's dtypes have none"
)
# Keras arguments the catalog leaves out on purpose, with the reason; netspec answers NS003.
LEFT_OUT: dict[str, tuple[tuple[str, ...], str]] = {
    "dense": (("quantization_config",), _QUANTIZATION),
    "embedding": (("quantization_config",), _QUANTIZATION),
    "einsum_dense": (
        ("gptq_unpacked_column_size", "quantization_config"),
        "GPTQ and quantization settings, which act only on a quantized model: " + _QUANTIZATION,
    ),
    # `input [SHAPE] DTYPE` is keras.Input(shape, dtype); it is a statement, not a call, so only
    # the names matter, not the positions of what it leaves out.
    "input": (
        ("batch_size", "sparse", "ragged", "batch_shape", "tensor", "optional"),
        "the input statement states a shape and a dtype: the batch stays open, the tensor dense",
    ),
}

# Keras defaults that mean something other than what they say, read as netspec states them.
READ_AS: dict[tuple[str, str], Any] = {
    # keras.Input(shape=None) raises "You must pass a `shape` argument" (there is no batch_shape).
    ("input", "shape"): REQUIRED,
    # keras.Input(dtype=None) is keras.config.floatx(), float32 out of the box; the generated
    # code always passes the dtype, so the user's keras.json cannot change it.
    ("input", "dtype"): "float32",
}


def _position_embedding(sequence_length, initializer="glorot_uniform", **kwargs):
    """keras_hub's PositionEmbedding constructor, as it documents it (keras_hub is not installed
    here; the generated Keras module defines the layer itself)."""


# Kinds from outside keras.layers, with their constructors' signatures.
OUTSIDE_KERAS = {"position_embedding": _position_embedding}


def keras_constructor(kind: LayerKind) -> Callable[..., Any]:
    """What a spec's layer of this kind becomes in Keras: `input [SHAPE]` is a keras.Input call."""
    if kind.name == "input":
        return keras.Input
    if kind.name in OUTSIDE_KERAS:
        return OUTSIDE_KERAS[kind.name]
    return getattr(keras.layers, kind.keras_class)


def keras_parameters(kind: LayerKind) -> list[inspect.Parameter]:
    """The constructor's own parameters, in order: no self, **kwargs or base Layer arguments
    (unless the kind states one itself, as input states its dtype)."""
    constructor = keras_constructor(kind)
    function = constructor.__init__ if inspect.isclass(constructor) else constructor
    return [
        param
        for param in inspect.signature(function).parameters.values()
        if param.name != "self"
        and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
        and (param.name not in BASE_ARGS or kind.arg(param.name) is not None)
    ]


def described(name: str, default: Any) -> tuple[str, str, Any]:
    # The type too: 0 == 0.0 == False, but the generated code and the docs show the literal.
    return (name, type(default).__name__, default)


# Operations on values (`x * 0.5`) are not Keras layers: they have no constructor to match.
LAYER_KINDS = [kind for kind in all_kinds() if not is_operation(kind)]


@pytest.mark.parametrize("kind", LAYER_KINDS, ids=lambda kind: kind.name)
def test_arguments_are_the_keras_constructor(kind: LayerKind) -> None:
    params = keras_parameters(kind)
    if kind.fixed_activation:
        # `tanh` is Activation("tanh"): the one argument is given by the kind itself.
        assert kind.keras_class == "Activation"
        params = [param for param in params if param.name != "activation"]
    left_out, _reason = LEFT_OUT.get(kind.name, ((), ""))
    keras_names = [param.name for param in params]
    assert set(left_out) <= set(keras_names), "LEFT_OUT names an argument Keras does not have"
    kept = [param for param in params if param.name not in left_out]
    if left_out and kind.name != "input":
        # Only trailing arguments may be left out, or a positional call would bind differently.
        assert keras_names[: len(kept)] == [param.name for param in kept]
    expected = []
    for param in kept:
        default = REQUIRED if param.default is inspect.Parameter.empty else param.default
        expected.append(described(param.name, READ_AS.get((kind.name, param.name), default)))
    assert [described(arg.name, arg.default) for arg in kind.args] == expected


def test_allow_lists_name_catalog_kinds() -> None:
    names = {kind.name for kind in all_kinds()}
    assert set(LEFT_OUT) <= names
    assert {kind for kind, _ in READ_AS} <= names


def test_embedding_weights_keep_keras_positions_and_only_none_passes() -> None:
    """Keras' Embedding takes `weights` 7th, so `lora_rank` is the 8th positional argument."""
    layer = keras.layers.Embedding(10, 4, "uniform", None, None, False, None, 2)
    assert layer.lora_rank == 2
    spec = (
        "model m {\n  input [5] int32\n  embedding(10, 4, uniform, None, None, false, None, 2)\n}\n"
    )
    assert netspec.lint_source(spec) == []
    refused = netspec.lint_source(spec.replace("None, 2)", "(1, 2), 2)"))
    assert [(d.code, "weights" in d.message) for d in refused] == [("NS102", True)]


# Numbers a user may write for a numeric argument: each one the catalog binds must build in Keras.
PROBE_NUMBERS = (-1, 0, 0.0, 0.5, 1, 1.0, 1.5, 2, 7, 1000, 1e6)
# A value for a required argument while another one is probed.
PROBE_REQUIRED = {"int": 4, "float": 0.5, "int tuple": 2, "shape": (4,)}
# Ranges checked when shapes are inferred, with the input at hand: a convolution's `groups`
# must divide the filters and the channels; group_norm's must be -1 or split the channels.
CHECKED_WITH_SHAPES = frozenset(
    {("conv1d", "groups"), ("conv2d", "groups"), ("conv3d", "groups"), ("group_norm", "groups")}
)


def test_every_number_the_catalog_binds_builds_in_keras() -> None:
    """The catalog's ranges are Keras' own or stricter: a number netspec lets through a layer's
    argument never makes the Keras constructor raise (GaussianNoise refuses stddev above 1)."""
    from netspec.layers.base import ValueKind
    from netspec.layers.resolve import BindError, bind

    refused: list[str] = []
    for kind in LAYER_KINDS:  # operations on values have no Keras constructor
        if kind.name == "input":
            continue
        required = {}
        for arg in kind.args:
            if arg.required:
                required[arg.name] = PROBE_REQUIRED.get(arg.kind.value)
        if None in required.values():
            continue  # a required layer or option: covered by the per-family tests
        constructor = keras_constructor(kind)
        for arg in kind.args:
            if arg.kind not in (ValueKind.INT, ValueKind.FLOAT):
                continue
            if (kind.name, arg.name) in CHECKED_WITH_SHAPES:
                continue
            for number in PROBE_NUMBERS:
                if arg.kind is ValueKind.INT and isinstance(number, float):
                    continue
                given = {**required, arg.name: number}
                try:
                    bind(kind, **given)
                except BindError:
                    continue
                fixed = (kind.fixed_activation,) if kind.fixed_activation else ()
                try:
                    constructor(*fixed, **given)
                except Exception as error:  # noqa: BLE001 - any refusal is the finding
                    refused.append(f"{kind.name}({arg.name}={number!r}): {error}")
    assert refused == []
