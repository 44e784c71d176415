"""PyTorch code for the core, reshaping, merge and normalization layer kinds."""

from __future__ import annotations

from collections.abc import Sequence

from netspec.targets.literals import py_literal, string_literal
from netspec.targets.torch.activations import activate
from netspec.targets.torch.emit import (
    Emitter,
    atom,
    channel_dim,
    dims_literal,
    from_spec,
    to_spec,
    torch_dim,
    torch_order,
)


def permute_between(expr: str, held: Sequence[int], wanted: Sequence[int]) -> str:
    """`expr`, whose dims hold the spec axes `held`, permuted to hold `wanted`."""
    perm = tuple(held.index(a) for a in wanted)
    if perm == tuple(range(len(perm))):
        return expr
    return f"{atom(expr)}.permute{py_literal(perm)}"


def on_last_axis(call: str, var: str, rank: int) -> str:
    """`call(var)` for a torch op on the last axis (nn.Linear): images go channels last around it."""
    return from_spec(f"{call}({to_spec(var, rank)})", rank)


# ---- core ----------------------------------------------------------------------------------


def gen_dense(e: Emitter) -> None:
    if e.args.get("lora_rank") is not None:
        raise e.fail("dense with lora_rank is not supported by the torch target")
    features, units = e.in_shape[-1], e.args["units"]
    bias = "" if e.args["use_bias"] else ", bias=False"
    module = e.module("nn.Linear", f"{features}, {units}{bias}")
    e.weight("kernel", ("weight",), "transpose", "kernel_initializer")
    if e.args["use_bias"]:
        e.weight("bias", ("bias",), "copy", "bias_initializer")
    e.assign(activate(e, on_last_axis(module, e.x, e.in_rank)))


def gen_embedding(e: Emitter) -> None:
    if e.args.get("lora_rank") is not None:
        raise e.fail("embedding with lora_rank is not supported by the torch target")
    module = e.module("nn.Embedding", f"{e.args['input_dim']}, {e.args['output_dim']}")
    e.weight("embeddings", ("weight",), "copy", "embeddings_initializer")
    ids = e.x if e.integer_input else f"{e.x}.long()"
    e.assign(from_spec(f"{module}({to_spec(ids, e.in_rank)})", e.out_rank))


def gen_dropout(e: Emitter) -> None:
    noise = e.args.get("noise_shape")
    if noise is None:
        module = e.module("nn.Dropout", repr(float(e.args["rate"])))
        e.assign(f"{module}({e.x})")
        return
    # One mask of `noise_shape` (batch included, None = the input's size), broadcast.
    sizes = []
    for dim, axis in enumerate(torch_order(e.in_rank)):
        size = noise[axis] if axis < len(noise) else None
        sizes.append(f"{e.x}.shape[{dim}]" if size is None else str(size))
    mask = (
        f"F.dropout({e.x}.new_ones({', '.join(sizes)}), {float(e.args['rate'])!r}, self.training)"
    )
    e.assign(f"{e.x} * {mask}")


def gen_spatial_dropout1d(e: Emitter) -> None:
    # Keras drops whole feature channels of (N, L, C); Dropout1d does so on (N, C, L).
    module = e.module("nn.Dropout1d", repr(float(e.args["rate"])))
    e.assign(f"{module}({e.x}.transpose(1, 2)).transpose(1, 2)")


def gen_spatial_dropout2d(e: Emitter) -> None:
    module = e.module("nn.Dropout2d", repr(float(e.args["rate"])))
    e.assign(f"{module}({e.x})")


def gen_gaussian_noise(e: Emitter) -> None:
    e.helper("GaussianNoise")
    module = e.module("GaussianNoise", repr(float(e.args["stddev"])))
    e.assign(f"{module}({e.x})")


def gen_alpha_dropout(e: Emitter) -> None:
    # torch's AlphaDropout is Keras' arithmetic (SELU's saturation value, then the affine map
    # that keeps mean and variance); it draws one mask per value, so no noise_shape.
    if e.args.get("noise_shape") is not None:
        raise e.fail(
            "alpha_dropout with noise_shape is not supported by the torch target (torch draws "
            "one mask per value); leave noise_shape out for torch"
        )
    module = e.module("nn.AlphaDropout", repr(float(e.args["rate"])))
    e.assign(f"{module}({e.x})")


def gen_gaussian_dropout(e: Emitter) -> None:
    e.helper("GaussianDropout")
    module = e.module("GaussianDropout", repr(float(e.args["rate"])))
    e.assign(f"{module}({e.x})")


def gen_flatten(e: Emitter) -> None:
    if e.in_rank <= 1:
        e.assign(e.x)
        return
    # Keras flattens in (h, w, c) order: images go channels last first, so that the next
    # dense layer's weight is kernel.T as everywhere else.
    e.assign(f"{atom(to_spec(e.x, e.in_rank))}.flatten(1)")


def gen_reshape(e: Emitter) -> None:
    target = [(-1 if d is None else d) for d in e.args["target_shape"]]
    batch = f"{e.x}.shape[0]" if -1 in target else "-1"
    sizes = ", ".join(str(d) for d in target)
    e.assign(from_spec(f"{atom(to_spec(e.x, e.in_rank))}.reshape({batch}, {sizes})", e.out_rank))


def gen_permute(e: Emitter) -> None:
    dims = (0, *e.args["dims"])
    # The output's torch layout holds out-spec axes; out-spec axis i is in-spec axis dims[i].
    wanted = tuple(dims[a] for a in torch_order(e.out_rank))
    e.assign(permute_between(e.x, torch_order(e.in_rank), wanted))


def gen_repeat_vector(e: Emitter) -> None:
    e.assign(f"{e.x}.unsqueeze(1).repeat(1, {e.args['n']}, 1)")


def gen_rescaling(e: Emitter) -> None:
    scale, offset = float(e.args["scale"]), float(e.args["offset"])
    expr = f"{e.x} * {scale!r}"
    e.assign(expr if offset == 0 else f"{expr} + {offset!r}")


def gen_masking(e: Emitter) -> None:
    # Keras zeroes the steps whose features all equal mask_value. The mask it attaches for the
    # layers downstream is checked by the model (masked_layers): none of them may use it.
    value = float(e.args["mask_value"])
    dim = torch_dim(-1, e.in_rank)
    e.assign(f"{e.x} * ({e.x} != {value!r}).any(dim={dim}, keepdim=True)")


# ---- merges --------------------------------------------------------------------------------


def _same_rank_inputs(e: Emitter) -> tuple[list[str], int, bool]:
    """The inputs as Keras merges them: of one rank, or in the spec layout with unit axes
    inserted after the batch (Keras expands the lower-rank inputs at axis 1)."""
    ranks = [len(s) for s in e.in_shapes]
    top = max(ranks)
    if len(set(ranks)) == 1:
        return list(e.inputs), top, False
    values = []
    for var, rank in zip(e.inputs, ranks):
        value = to_spec(var, rank)
        if rank < top:
            value = f"{atom(value)}[:, {', '.join(['None'] * (top - rank))}]"
        values.append(value)
    return values, top, True


def _elementwise(e: Emitter, combine) -> None:
    values, rank, in_spec = _same_rank_inputs(e)
    expr = combine(values)
    e.assign(from_spec(expr, rank) if in_spec else expr)


def gen_add(e: Emitter) -> None:
    _elementwise(e, lambda v: " + ".join(v))


def gen_subtract(e: Emitter) -> None:
    _elementwise(e, lambda v: f"{v[0]} - {atom(v[1])}")


def gen_multiply(e: Emitter) -> None:
    _elementwise(e, lambda v: " * ".join(atom(x) for x in v))


def gen_average(e: Emitter) -> None:
    _elementwise(e, lambda v: f"({' + '.join(v)}) / {len(v)}")


def _fold(function: str):
    def combine(values: list[str]) -> str:
        expr = values[0]
        for value in values[1:]:
            expr = f"{function}({expr}, {value})"
        return expr

    return combine


def gen_maximum(e: Emitter) -> None:
    _elementwise(e, _fold("torch.maximum"))


def gen_minimum(e: Emitter) -> None:
    _elementwise(e, _fold("torch.minimum"))


def gen_concat(e: Emitter) -> None:
    dim = torch_dim(e.args["axis"], e.in_rank)
    e.assign(f"torch.cat([{', '.join(e.inputs)}], dim={dim})")


def gen_dot(e: Emitter) -> None:
    """keras.layers.Dot: batch_dot over one axis of each input, as an einsum in the spec layout."""
    axes = e.args["axes"]
    pair = tuple(axes) if isinstance(axes, tuple) else (axes, axes)
    ranks = [len(s) for s in e.in_shapes]
    index = [pair[i] % (ranks[i] + 1) for i in range(2)]
    values = [to_spec(v, r) for v, r in zip(e.inputs, ranks)]
    if e.args["normalize"]:
        values = [f"F.normalize({v}, dim={i}, eps=1e-07)" for v, i in zip(values, index)]
    letters = iter("ijklmnopqrstuvw")
    first = ["b"] + [next(letters) for _ in range(ranks[0])]
    second = ["b"] + [next(letters) for _ in range(ranks[1])]
    second[index[1]] = first[index[0]]
    out = first[: index[0]] + first[index[0] + 1 :] + second[1 : index[1]] + second[index[1] + 1 :]
    equation = "".join(first) + "," + "".join(second) + "->" + "".join(out)
    expr = f"torch.einsum({string_literal(equation)}, {values[0]}, {values[1]})"
    if len(out) == 1:
        expr += ".unsqueeze(1)"  # two vectors give (batch, 1), as Keras' batch_dot
    e.assign(from_spec(expr, e.out_rank))


# ---- normalization -------------------------------------------------------------------------


def _affine_weights(e: Emitter) -> list[str]:
    """Map gamma and beta; returns the torch parameters Keras lacks (held at 1 and 0)."""
    fixed = []
    if e.args["scale"]:
        e.weight("gamma", ("weight",), "copy", "gamma_initializer")
    elif e.args["center"]:
        fixed.append("weight")
    if e.args["center"]:
        e.weight("beta", ("bias",), "copy", "beta_initializer")
    elif e.args["scale"]:
        fixed.append("bias")
    return fixed


def _channels_to_dim1(expr: str, dim: int) -> str:
    return expr if dim == 1 else f"{atom(expr)}.transpose(1, {dim})"


def gen_batch_norm(e: Emitter) -> None:
    if e.args["renorm"]:
        raise e.fail("batch renormalization (renorm=true) has no torch equivalent")
    dim = channel_dim(e.args["axis"], e.in_rank)
    torch_rank = e.in_rank + 1
    if torch_rank not in (2, 3, 4, 5):
        raise e.fail(f"batch_norm on a rank-{torch_rank} input has no torch BatchNorm class")
    cls = f"nn.BatchNorm{max(torch_rank - 2, 1)}d"
    channels = e.in_shape[e.args["axis"] % (e.in_rank + 1) - 1]
    affine = e.args["scale"] or e.args["center"]
    momentum = round(1 - e.args["momentum"], 12)
    args = f"{channels}, eps={e.args['epsilon']!r}, momentum={momentum!r}"
    module = e.module(cls, args + ("" if affine else ", affine=False"))
    fixed = _affine_weights(e)
    e.fix(fixed)
    e.weight("moving_mean", ("running_mean",), "copy", "moving_mean_initializer")
    e.weight("moving_variance", ("running_var",), "copy", "moving_variance_initializer")
    x = _channels_to_dim1(e.x, dim)
    if e.frozen:
        # Keras 3 runs a frozen batch norm in inference mode, in training too.
        call = (
            f"F.batch_norm({x}, {module}.running_mean, {module}.running_var, {module}.weight, "
            f"{module}.bias, False, 0.0, {module}.eps)"
        )
    else:
        call = f"{module}({x})"
    e.assign(_channels_to_dim1(call, dim))


def gen_layer_norm(e: Emitter) -> None:
    axis = e.args["axis"]
    axes = sorted({a % (e.in_rank + 1) for a in (axis if isinstance(axis, tuple) else (axis,))})
    shape = tuple(e.in_shape[a - 1] for a in axes)
    args = f"{dims_literal(shape)}, eps={e.args['epsilon']!r}"
    if not (e.args["scale"] or e.args["center"]):
        args += ", elementwise_affine=False"
    elif not e.args["center"]:
        args += ", bias=False"
    module = e.module("nn.LayerNorm", args)
    conversion = "copy" if len(axes) == 1 else "reshape"
    fixed = []
    if e.args["scale"]:
        # Keras reshapes gamma to the normalized axes in their order; so does this conversion.
        e.weight("gamma", ("weight",), conversion, "gamma_initializer")
    elif e.args["center"]:
        fixed.append("weight")
    if e.args["center"]:
        e.weight("beta", ("bias",), conversion, "beta_initializer")
    e.fix(fixed)
    held = torch_order(e.in_rank)
    work = tuple(a for a in range(e.in_rank + 1) if a not in axes) + tuple(axes)
    inner = f"{module}({permute_between(e.x, held, work)})"
    e.assign(permute_between(inner, work, held))


def gen_group_norm(e: Emitter) -> None:
    dim = channel_dim(e.args["axis"], e.in_rank)
    channels = e.in_shape[e.args["axis"] % (e.in_rank + 1) - 1]
    groups = channels if e.args["groups"] == -1 else e.args["groups"]
    affine = e.args["scale"] or e.args["center"]
    args = f"{groups}, {channels}, eps={e.args['epsilon']!r}"
    module = e.module("nn.GroupNorm", args + ("" if affine else ", affine=False"))
    e.fix(_affine_weights(e))
    e.assign(_channels_to_dim1(f"{module}({_channels_to_dim1(e.x, dim)})", dim))


def gen_unit_norm(e: Emitter) -> None:
    axis = e.args["axis"]
    dims = sorted({torch_dim(a, e.in_rank) for a in (axis if isinstance(axis, tuple) else (axis,))})
    if len(dims) == 1:
        e.assign(f"F.normalize({e.x}, dim={dims[0]})")
    else:
        norm = (
            f"torch.linalg.vector_norm({e.x}, dim={tuple(dims)!r}, keepdim=True).clamp_min(1e-12)"
        )
        e.assign(f"{e.x} / {norm}")
