"""Recurrent layer kinds: simple_rnn, lstm, gru and the wrappers bidirectional, time_distributed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import (
    REQUIRED,
    Arg,
    LayerKind,
    LayerSpec,
    Shape,
    ShapeError,
    ValueKind,
    Weight,
)
from netspec.layers.common import (
    activation_arg,
    format_shape,
    known_last,
    require_min_rank,
    weight_args,
)

K = ValueKind
R = TypeVar("R")

# Keras' gate count per cell: the kernels stack the gates along their last axis.
_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


# ---- simple_rnn, lstm, gru -----------------------------------------------------------------


def _rnn_infer(what: str) -> Callable[[list[Shape], Any], Shape]:
    def infer(inputs: list[Shape], args) -> Shape:
        (shape,) = inputs
        if len(shape) != 2:
            raise ShapeError(
                f"{what} needs a sequence (batch, time, features) of rank 3, got "
                f"{format_shape(shape)} (rank {len(shape) + 1}); when a recurrent layer feeds "
                "it, give that one return_sequences=true, otherwise reshape or repeat_vector "
                "makes one",
                code=codes.RNN_NEEDS_SEQUENCE,
            )
        if args["return_state"]:
            # With return_state Keras returns [output, *states]: several values from one layer.
            raise ShapeError(
                f"return_state=true makes {what} return its states as extra outputs, which a "
                "netspec layer cannot pass on; use return_sequences instead",
                code=codes.INCOMPATIBLE_INPUT,
                argument="return_state",
            )
        if args["stateful"]:
            raise ShapeError(
                f"stateful=true needs a fixed batch size, and the input {format_shape(shape)} "
                "leaves the batch open",
                code=codes.INCOMPATIBLE_INPUT,
                argument="stateful",
            )
        units = args["units"]
        return (shape[0], units) if args["return_sequences"] else (units,)

    return infer


def _rnn_weights(what: str) -> Callable[[list[Shape], Any], list[Weight]]:
    def weights(inputs: list[Shape], args) -> list[Weight]:
        features = known_last(inputs[0], what)
        units = args["units"]
        width = _GATES[what] * units
        # Keras keeps the variables on the cell, a sublayer named after the class: lstm_cell.
        cell = f"{what}_cell"
        out = [
            Weight(f"{cell}/kernel", (features, width)),
            Weight(f"{cell}/recurrent_kernel", (units, width)),
        ]
        if args["use_bias"]:
            # A GRU with reset_after keeps separate input and recurrent biases, stacked: (2, 3u).
            two_biases = what == "gru" and args["reset_after"]
            out.append(Weight(f"{cell}/bias", (2, width) if two_biases else (width,)))
        return out

    return weights


def _dropouts() -> tuple[Arg, ...]:
    return (
        Arg("dropout", K.FLOAT, 0.0, minimum=0.0, below=1.0),
        Arg("recurrent_dropout", K.FLOAT, 0.0, minimum=0.0, below=1.0),
    )


def _sequence_flags() -> tuple[Arg, ...]:
    return (
        Arg("return_sequences", K.BOOL, False),
        Arg("return_state", K.BOOL, False),
        Arg("go_backwards", K.BOOL, False),
        Arg("stateful", K.BOOL, False),
        Arg("unroll", K.BOOL, False),
    )


_SEED = Arg("seed", K.INT, None, nullable=True)
_USE_CUDNN = Arg("use_cudnn", K.ANY, "auto", doc='"auto", true or false')
# kernel, recurrent, bias initializers; their regularizers and activity_regularizer; constraints.
_WEIGHT_ARGS = weight_args("kernel", "recurrent", "bias", defaults={"recurrent": "orthogonal"})


def _rnn_kind(name: str, keras_class: str, args: tuple[Arg, ...], summary: str) -> LayerKind:
    return LayerKind(
        name=name,
        keras_class=keras_class,
        args=args,
        infer=_rnn_infer(name),
        weights=_rnn_weights(name),
        traits=T.RECURRENT,
        category="recurrent",
        summary=summary,
    )


# The three constructors share arguments but not their order: SimpleRNN puts seed last, LSTM
# and GRU before return_sequences; LSTM has unit_forget_bias, GRU reset_after.
SIMPLE_RNN = _rnn_kind(
    "simple_rnn",
    "SimpleRNN",
    (
        Arg("units", K.INT, REQUIRED, minimum=1),
        activation_arg("tanh"),
        Arg("use_bias", K.BOOL, True),
        *_WEIGHT_ARGS,
        *_dropouts(),
        *_sequence_flags(),
        _SEED,
    ),
    "A fully connected RNN: h = activation(x @ kernel + h @ recurrent_kernel + bias).",
)

LSTM = _rnn_kind(
    "lstm",
    "LSTM",
    (
        Arg("units", K.INT, REQUIRED, minimum=1),
        activation_arg("tanh"),
        Arg("recurrent_activation", K.ACTIVATION, "sigmoid", nullable=True),
        Arg("use_bias", K.BOOL, True),
        *_WEIGHT_ARGS[:3],
        Arg("unit_forget_bias", K.BOOL, True),
        *_WEIGHT_ARGS[3:],
        *_dropouts(),
        _SEED,
        *_sequence_flags(),
        _USE_CUDNN,
    ),
    "Long short-term memory over a sequence (gates i, f, c, o).",
)

GRU = _rnn_kind(
    "gru",
    "GRU",
    (
        Arg("units", K.INT, REQUIRED, minimum=1),
        activation_arg("tanh"),
        Arg("recurrent_activation", K.ACTIVATION, "sigmoid", nullable=True),
        Arg("use_bias", K.BOOL, True),
        *_WEIGHT_ARGS,
        *_dropouts(),
        _SEED,
        *_sequence_flags(),
        Arg("reset_after", K.BOOL, True),
        _USE_CUDNN,
    ),
    "Gated recurrent unit over a sequence (gates z, r, h; reset_after=true as in Keras 3).",
)


# ---- wrappers ------------------------------------------------------------------------------


def _inner_kind(spec: LayerSpec, argument: str) -> LayerKind:
    kind = spec.entry
    if kind is None:
        raise ShapeError(
            f"unknown layer kind `{spec.kind}`", code=codes.UNKNOWN_NAME, argument=argument
        )
    return kind


def _as_argument(argument: str, call: Callable[[], R]) -> R:
    """Run an inner layer's shape or weight function; its errors point at the wrapper's argument."""
    try:
        return call()
    except ShapeError as err:
        raise ShapeError(err.message, code=err.code, argument=argument) from err


def _inner_infer(spec: LayerSpec, shape: Shape, argument: str) -> Shape:
    kind = _inner_kind(spec, argument)
    return _as_argument(argument, lambda: kind.infer([shape], spec.args))


def _inner_weights(spec: LayerSpec, shape: Shape, prefix: str, argument: str) -> list[Weight]:
    """The inner layer's weights below `prefix`; trainable=false on the inner layer freezes them."""
    kind = _inner_kind(spec, argument)
    frozen = not spec.args.get("trainable", True)
    weights = _as_argument(argument, lambda: kind.weights([shape], spec.args))
    return [Weight(f"{prefix}/{w.name}", w.shape, w.trainable and not frozen) for w in weights]


def _require_recurrent(spec: LayerSpec, argument: str) -> LayerKind:
    kind = _inner_kind(spec, argument)
    if kind.arg("go_backwards") is None:
        raise ShapeError(
            f"bidirectional wraps a recurrent layer (simple_rnn, lstm, gru), got `{spec.kind}`",
            code=codes.INCOMPATIBLE_INPUT,
            argument=argument,
        )
    return kind


def bidirectional_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    forward: LayerSpec = args["layer"]
    _require_recurrent(forward, "layer")
    out = _inner_infer(forward, shape, "layer")
    backward: LayerSpec | None = args["backward_layer"]
    if backward is None and forward.args.get("go_backwards"):
        # Keras makes the backward copy with go_backwards=true, and two backward runs it refuses.
        raise ShapeError(
            "layer has go_backwards=true, so both directions would run backwards; "
            "leave go_backwards out",
            code=codes.INCOMPATIBLE_INPUT,
            argument="layer",
        )
    if backward is not None:
        _check_backward(forward, backward)
        back_out = _inner_infer(backward, shape, "backward_layer")
        if back_out != out:
            # Keras derives its static shape from the forward layer alone, so a backward layer of
            # another width builds a model whose declared shape differs from what it computes.
            raise ShapeError(
                f"backward_layer gives {format_shape(back_out)} but layer gives "
                f"{format_shape(out)}; both directions need the same units",
                code=codes.INCOMPATIBLE_INPUT,
                argument="backward_layer",
            )
    mode = args["merge_mode"]
    if mode is None:
        raise ShapeError(
            "merge_mode=None returns the two directions as two outputs, which a netspec layer "
            'cannot pass on; use "concat", "sum", "mul" or "ave"',
            code=codes.INCOMPATIBLE_INPUT,
            argument="merge_mode",
        )
    if mode == "concat":
        last = out[-1]
        return out[:-1] + (None if last is None else 2 * last,)
    return out


def _check_backward(forward: LayerSpec, backward: LayerSpec) -> None:
    """Keras' own checks on a given backward layer (`Bidirectional._verify_layer_config`)."""
    _require_recurrent(backward, "backward_layer")
    if forward.args.get("go_backwards") == backward.args.get("go_backwards"):
        raise ShapeError(
            "backward_layer needs go_backwards=true (the opposite of layer's go_backwards)",
            code=codes.INCOMPATIBLE_INPUT,
            argument="backward_layer",
        )
    for flag in ("stateful", "return_sequences", "return_state"):
        if forward.args.get(flag) != backward.args.get(flag):
            raise ShapeError(
                f"backward_layer needs the same {flag} as layer: got "
                f"{backward.args.get(flag)} and {forward.args.get(flag)}",
                code=codes.INCOMPATIBLE_INPUT,
                argument="backward_layer",
            )


def bidirectional_weights(inputs: list[Shape], args) -> list[Weight]:
    (shape,) = inputs
    forward: LayerSpec = args["layer"]
    backward: LayerSpec | None = args["backward_layer"]
    # Keras copies the layer as `forward_<name>` and, unless given one, `backward_<name>`; a given
    # backward layer keeps its own name.
    weights = _inner_weights(
        forward, shape, f"forward_{forward.name.removeprefix('forward_')}", "layer"
    )
    if backward is None:
        back_name = f"backward_{forward.name.removeprefix('backward_')}"
        weights += _inner_weights(forward, shape, back_name, "layer")
    else:
        weights += _inner_weights(backward, shape, backward.name, "backward_layer")
    return weights


BIDIRECTIONAL = LayerKind(
    name="bidirectional",
    keras_class="Bidirectional",
    args=(
        Arg("layer", K.LAYER, REQUIRED),
        Arg(
            "merge_mode", K.CHOICE, "concat", choices=("sum", "mul", "concat", "ave"), nullable=True
        ),
        Arg("weights", K.ANY, None, nullable=True, doc="initial weights; netspec passes them on"),
        Arg("backward_layer", K.LAYER, None, nullable=True),
    ),
    infer=bidirectional_infer,
    weights=bidirectional_weights,
    # A kind has one linearity, and the layers bidirectional accepts are all recurrent.
    traits=T.but(T.RECURRENT, wrapper=T.Wrapper.BOTH_DIRECTIONS),
    category="recurrent",
    summary="Runs a recurrent layer forwards and backwards and merges the two (concat by default).",
)


def _time_step(shape: Shape, args) -> tuple[LayerSpec, Shape]:
    require_min_rank(shape, 2, "time_distributed")
    inner: LayerSpec = args["layer"]
    kind = _inner_kind(inner, "layer")
    if kind.max_inputs != 1 or kind.min_inputs != 1:
        raise ShapeError(
            f"time_distributed wraps a layer of one input, got `{inner.kind}`",
            code=codes.INCOMPATIBLE_INPUT,
            argument="layer",
        )
    return inner, shape[1:]


def time_distributed_infer(inputs: list[Shape], args) -> Shape:
    inner, step = _time_step(inputs[0], args)
    return (inputs[0][0],) + _inner_infer(inner, step, "layer")


def time_distributed_weights(inputs: list[Shape], args) -> list[Weight]:
    inner, step = _time_step(inputs[0], args)
    # One copy of the inner layer's weights serves every step: `time_distributed/dense/kernel`.
    return _inner_weights(inner, step, inner.name, "layer")


TIME_DISTRIBUTED = LayerKind(
    name="time_distributed",
    keras_class="TimeDistributed",
    args=(Arg("layer", K.LAYER, REQUIRED),),
    infer=time_distributed_infer,
    weights=time_distributed_weights,
    # Its linearity is its inner layer's, but a kind has one value: MAP fits the common
    # time_distributed(dense), a per-step linear map. The linear-collapse rule (NS201) should ask
    # the inner kind (and its activation) instead of trusting this value for other inner layers.
    traits=T.but(T.PLAIN, linearity=T.Linearity.MAP, mask=T.KEEPS_MASK, wrapper=T.Wrapper.PER_STEP),
    category="recurrent",
    summary="Applies its inner layer to every time step (axis 1) with one set of weights.",
)


KINDS: tuple[LayerKind, ...] = (SIMPLE_RNN, LSTM, GRU, BIDIRECTIONAL, TIME_DISTRIBUTED)
