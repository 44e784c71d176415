"""PyTorch code for the recurrent kinds and the wrappers bidirectional and time_distributed.

Torch's nn.RNN/LSTM/GRU with batch_first=True take the spec's (N, L, C). Gate orders: LSTM i, f, g, o
in both; GRU z, r, h in Keras, r, z, n in torch (reset_after=true is torch's GRU).
"""

from __future__ import annotations

from dataclasses import dataclass

from netspec.targets.torch.emit import Emitter, LayerView, from_spec, keras_initializer, to_spec


@dataclass(frozen=True)
class RecurrentLayer:
    """The generator of one recurrent kind, holding what torch needs to know of it (the
    registry's entry for the kind); bidirectional reads it for its inner layer."""

    torch_class: str  # nn.RNN, nn.LSTM, nn.GRU
    kernel_conversion: str = "transpose"  # how the Keras kernels become torch's (gate order)
    bias_conversion: str = "rnn_bias"  # Keras' bias (GRU: two) onto torch's bias_ih and bias_hh
    cell_state: bool = False  # torch returns (h, c) as the last state (LSTM)

    def __call__(self, e: Emitter) -> None:
        gen_rnn(e, self)


# Arguments that do not change what a layer computes, ignored when comparing the two directions.
_DIRECTION_ONLY = {"go_backwards", "name", "seed", "use_cudnn", "unroll", "unit_forget_bias"}
_TRAINING_ONLY = ("_initializer", "_regularizer", "_constraint")  # each direction keeps its own


def _check_cell(e: Emitter, view: LayerView, layer: RecurrentLayer) -> None:
    kind, args = view.kind.name, view.args
    activation = args["activation"]
    gated = "recurrent_activation" in args  # LSTM and GRU; a simple RNN has no gates
    if not gated:
        if activation not in ("tanh", "relu"):
            raise e.fail(
                f"{kind} activation={activation}: torch's {layer.torch_class} has tanh and relu "
                "only"
            )
    else:
        if activation != "tanh" or args["recurrent_activation"] != "sigmoid":
            raise e.fail(
                f"{kind} with activation={activation}, recurrent_activation="
                f"{args['recurrent_activation']}: torch's {layer.torch_class} uses tanh and sigmoid"
            )
    if args.get("reset_after") is False:
        raise e.fail(
            "gru with reset_after=false has no torch equivalent (torch's GRU applies the reset "
            "gate after the recurrent matrix, as Keras' reset_after=true)"
        )
    if args["recurrent_dropout"]:
        raise e.fail("recurrent_dropout has no torch equivalent (nn.LSTM/GRU/RNN have none)")


def _constructor(e: Emitter, view: LayerView, bidirectional: bool) -> str:
    args = f"{e.in_shape[-1]}, {view.args['units']}, batch_first=True"
    if not view.args["use_bias"]:
        args += ", bias=False"
    if view.args["activation"] == "relu":  # a simple RNN's (_check_cell refuses the others')
        args += ', nonlinearity="relu"'
    if bidirectional:
        args += ", bidirectional=True"
    return args


def _map_weights(
    e: Emitter, view: LayerView, layer: RecurrentLayer, prefix: str, suffix: str
) -> None:
    """Keras' cell weights below `prefix` onto torch's layer-0 weights of one direction."""
    args = view.args
    # Keras keeps the weights on the cell, a sublayer below `prefix`: `lstm_cell/kernel`.
    (recurrent_kernel,) = [
        name
        for name in e.expected
        if name.startswith(prefix) and name.endswith("/recurrent_kernel")
    ]
    cell = recurrent_kernel.removesuffix("recurrent_kernel")
    matrix = layer.kernel_conversion
    e.weight(
        f"{cell}kernel",
        (f"weight_ih_l0{suffix}",),
        matrix,
        keras_initializer(args["kernel_initializer"]),
    )
    recurrent = keras_initializer(args["recurrent_initializer"])
    e.weight(f"{cell}recurrent_kernel", (f"weight_hh_l0{suffix}",), matrix, recurrent)
    if args["use_bias"]:
        bias = keras_initializer(args["bias_initializer"])
        if args.get("unit_forget_bias"):  # LSTM: ones for the forget gate
            bias = ("unit_forget_bias", {"base": bias})
        # Keras has one bias (GRU: an input and a recurrent one); torch adds bias_ih and bias_hh.
        paths = (f"bias_ih_l0{suffix}", f"bias_hh_l0{suffix}")
        e.weight(f"{cell}bias", paths, layer.bias_conversion, bias)


def _sequence_input(e: Emitter, view: LayerView, x: str) -> str:
    if view.args.get("go_backwards"):
        x = f"{x}.flip(1)"  # Keras then returns the steps in the order it ran them
    rate = view.args["dropout"]
    if rate:
        # Keras drops the same input features at every step: whole channels of (N, C, L).
        x = f"F.dropout1d({x}.transpose(1, 2), {float(rate)!r}, self.training).transpose(1, 2)"
    return x


def gen_rnn(e: Emitter, layer: RecurrentLayer) -> None:
    view = e.view
    _check_cell(e, view, layer)
    module = e.module(layer.torch_class, _constructor(e, view, False))
    _map_weights(e, view, layer, "", "")
    e.line(f"{e.out_var}, _ = {module}({_sequence_input(e, view, e.x)})")
    if not view.args["return_sequences"]:
        e.assign(f"{e.out_var}[:, -1]")  # the output of the last step


def _merge(mode: str, first: str, second: str) -> str:
    return {
        "sum": f"{first} + {second}",
        "mul": f"{first} * {second}",
        "ave": f"({first} + {second}) / 2",
    }[mode]


def gen_bidirectional(e: Emitter) -> None:
    forward = LayerView.of_spec(e.args["layer"])
    layer = e.builder.generator_for(forward.kind)
    if not isinstance(layer, RecurrentLayer):  # the checker admits recurrent layers only
        raise e.fail(f"internal error: bidirectional({forward.kind.name}) is not recurrent")
    _check_cell(e, forward, layer)
    if forward.args["dropout"]:
        raise e.fail(
            "bidirectional with dropout in its layer: Keras draws a separate input mask per "
            "direction, torch's bidirectional RNN sees one input"
        )
    backward_spec = e.args["backward_layer"]
    backward = forward
    if backward_spec is not None:
        backward = LayerView.of_spec(backward_spec)
        differs = sorted(
            key
            for key in set(forward.args) | set(backward.args)
            if key not in _DIRECTION_ONLY
            and not key.endswith(_TRAINING_ONLY)
            and forward.args.get(key) != backward.args.get(key)
        )
        if backward.kind != forward.kind or differs or forward.args.get("go_backwards"):
            raise e.fail(
                "bidirectional with a backward_layer that differs from its layer "
                f"({', '.join(differs) or 'kind or direction'}): torch's bidirectional RNN runs "
                "one configuration both ways"
            )
    names = list(e.expected)
    forward_prefix = names[0].split("/")[0] + "/"
    backward_prefix = names[-1].split("/")[0] + "/"
    e.frozen = e.frozen or forward.args.get("trainable") is False
    module = e.module(layer.torch_class, _constructor(e, forward, True))
    _map_weights(e, forward, layer, forward_prefix, "")
    _map_weights(e, backward, layer, backward_prefix, "_reverse")
    mode = e.args["merge_mode"]
    x = _sequence_input(e, forward, e.x)
    units = forward.args["units"]
    if forward.args["return_sequences"]:
        # Torch's output already holds the backward steps in input order, as Keras flips them.
        if mode == "concat":
            e.line(f"{e.out_var}, _ = {module}({x})")
            return
        steps = e.temp("steps")
        e.line(f"{steps}, _ = {module}({x})")
        e.assign(_merge(mode, f"{steps}[..., :{units}]", f"{steps}[..., {units}:]"))
        return
    # The last states of both directions (Keras: not the backward output at the last step).
    state = e.temp("h")
    if layer.cell_state:
        e.line(f"_, ({state}, _) = {module}({x})")
    else:
        e.line(f"_, {state} = {module}({x})")
    if mode == "concat":
        e.assign(f"torch.cat([{state}[0], {state}[1]], dim=-1)")
    else:
        e.assign(_merge(mode, f"{state}[0]", f"{state}[1]"))


def gen_time_distributed(e: Emitter) -> None:
    """The inner layer on (N * T, ...), one set of weights for every step."""
    inner = LayerView.of_spec(e.args["layer"])
    step_rank, out_step_rank = e.in_rank - 1, e.out_rank - 1
    steps = e.temp("steps")
    e.line(f"{steps} = {from_spec(f'{to_spec(e.x, e.in_rank)}.flatten(0, 1)', step_rank)}")
    prefix = inner.name + "/"
    sub = Emitter(
        e.builder,
        inner,
        e.attr,
        [steps],
        [e.in_shape[1:]],
        e.out_shape[1:],
        steps,
        [type(w)(w.name[len(prefix) :], w.shape, w.trainable) for w in e.expected.values()],
        key_prefix=e.key_prefix + prefix,
        frozen=e.frozen,
        integer_input=e.integer_input,
    )
    e.builder.generator_for(inner.kind)(sub)
    sub.check_weights()
    e.registered = list(e.expected)
    sizes = f"({e.x}.shape[0], {e.x}.shape[2])" if e.in_rank == 3 else f"{e.x}.shape[:2]"
    unflat = f"{to_spec(steps, out_step_rank)}.unflatten(0, {sizes})"
    e.assign(from_spec(unflat, e.out_rank))
