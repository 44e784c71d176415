"""PyTorch code for the second edition's kinds: attention, einsum_dense, position_embedding,
normalization, resizing and cropping, the 3D padding, cropping and upsampling, and the random
augmentations (identities in eval mode). Their weights keep Keras' layouts in helper modules of
torch.py.jinja, so every conversion is a copy."""

from __future__ import annotations

from netspec.layers.common import int_tuple, padding_pairs
from netspec.layers.preprocessing import kept_axes
from netspec.targets.literals import py_literal
from netspec.targets.torch.activations import activate
from netspec.targets.torch.emit import IMAGE_RANK, Emitter, from_spec, to_spec


def _spec_inputs(e: Emitter) -> list[str]:
    return [to_spec(var, len(shape)) for var, shape in zip(e.inputs, e.in_shapes)]


def _key(values: list[str]) -> str:
    return values[2] if len(values) == 3 else values[1]


def gen_multi_head_attention(e: Emitter) -> None:
    if e.args["use_gate"]:
        raise e.fail("multi_head_attention with use_gate=true is not supported by the torch target")
    rank = e.in_rank + 1
    axes = e.args["attention_axes"]
    if axes is not None:
        given = tuple(sorted(a % rank for a in ((axes,) if isinstance(axes, int) else axes)))
        if given != tuple(range(1, rank - 1)):
            raise e.fail(
                "multi_head_attention over some of its middle axes (attention_axes) is not "
                "supported by the torch target; attention over all of them (the default) is"
            )
    e.helper("MultiHeadAttention")
    shapes = {w: e.expected[f"{w}/kernel"].shape for w in ("query", "key", "value")}
    out = e.expected["attention_output/kernel"].shape
    bias = e.args["use_bias"]
    args = ", ".join(
        [
            py_literal(shapes["query"]),
            py_literal(shapes["key"]),
            py_literal(shapes["value"]),
            py_literal(out),
            f"bias={bias}",
        ]
    )
    module = e.module("MultiHeadAttention", args)
    for name in ("query", "key", "value", "attention_output"):
        e.weight(f"{name}/kernel", (f"{name}_kernel",), "copy", "kernel_initializer")
        if bias:
            e.weight(f"{name}/bias", (f"{name}_bias",), "copy", "bias_initializer")
    values = _spec_inputs(e)
    e.assign(from_spec(f"{module}({values[0]}, {values[1]}, {_key(values)})", e.out_rank))


def gen_attention(e: Emitter) -> None:
    e.helper("Attention")
    concat = e.args["score_mode"] == "concat"
    module = e.module("Attention", f"use_scale={e.args['use_scale']}, concat={concat}")
    # Keras' scalars: 1-element tensors in torch, reshaped on the way.
    if e.args["use_scale"]:
        e.weight("scale", ("scale",), "reshape", "ones")
    if concat:
        e.weight("concat_score_weight", ("concat_score_weight",), "reshape", "ones")
    values = _spec_inputs(e)
    e.assign(from_spec(f"{module}({values[0]}, {values[1]}, {_key(values)})", e.out_rank))


def gen_additive_attention(e: Emitter) -> None:
    e.helper("AdditiveAttention")
    scale = e.expected["scale"].shape if e.args["use_scale"] else None
    module = e.module("AdditiveAttention", py_literal(scale))
    if e.args["use_scale"]:
        e.weight("scale", ("scale",), "copy", "glorot_uniform")
    values = _spec_inputs(e)
    e.assign(from_spec(f"{module}({values[0]}, {values[1]}, {_key(values)})", e.out_rank))


def gen_einsum_dense(e: Emitter) -> None:
    if e.args.get("lora_rank") is not None:
        raise e.fail("einsum_dense with lora_rank is not supported by the torch target")
    e.helper("EinsumDense")
    equation = e.args["equation"].replace(" ", "")
    kernel = e.expected["kernel"].shape
    bias = e.expected["bias"].shape if "bias" in e.expected else None
    args = f"{py_literal(equation)}, {py_literal(kernel)}, {py_literal(bias)}"
    module = e.module("EinsumDense", args)
    e.weight("kernel", ("kernel",), "copy", "kernel_initializer")
    if bias is not None:
        e.weight("bias", ("bias",), "copy", "bias_initializer")
    x = to_spec(e.x, e.in_rank)
    e.assign(from_spec(activate(e, f"{module}({x})"), e.out_rank))


def gen_position_embedding(e: Emitter) -> None:
    e.helper("PositionEmbedding")
    table = e.expected["embeddings"].shape
    module = e.module("PositionEmbedding", f"{table[0]}, {table[1]}")
    e.weight("embeddings", ("embeddings",), "copy", "initializer")
    e.assign(from_spec(f"{module}({to_spec(e.x, e.in_rank)})", e.out_rank))


def gen_normalization(e: Emitter) -> None:
    e.helper("Normalization")
    shape = e.in_shape
    kept = kept_axes(shape, e.args["axis"])
    broadcast = (1, *(shape[i] if i in kept else 1 for i in range(len(shape))))
    args = f"{py_literal(broadcast)}, invert={e.args['invert']}"
    if e.args["mean"] is not None:
        args += f", mean={py_literal(e.args['mean'])}, variance={py_literal(e.args['variance'])}"
    module = e.module("Normalization", args)
    if e.args["mean"] is None:
        e.weight("mean", ("running_mean",), "reshape", "zeros")
        e.weight("variance", ("running_var",), "reshape", "ones")
        e.weight("count", ("count",), "reshape", "zeros")
    e.assign(from_spec(f"{module}({to_spec(e.x, e.in_rank)})", e.out_rank))


def gen_rescaling(e: Emitter) -> None:
    """x * scale + offset, a per-channel list as a tensor on the channel axis."""
    parts = []
    for key in ("scale", "offset"):
        value = e.args[key]
        if isinstance(value, tuple):
            parts.append(f"torch.tensor({py_literal(value)})")
        else:
            parts.append(repr(float(value)))
    x = to_spec(e.x, e.in_rank)
    e.assign(from_spec(f"{x} * {parts[0]} + {parts[1]}", e.out_rank))


def _refuse_channels_first(e: Emitter) -> None:
    if e.args.get("data_format") == "channels_first":
        raise e.fail("data_format=channels_first is not supported by the torch target")


def gen_resizing(e: Emitter) -> None:
    _refuse_channels_first(e)
    if e.args["interpolation"] != "bilinear":
        raise e.fail(
            f"resizing interpolation={e.args['interpolation']} is not supported by the torch "
            "target (bilinear is)"
        )
    if e.args["crop_to_aspect_ratio"] or e.args["pad_to_aspect_ratio"] or e.args["antialias"]:
        raise e.fail(
            "resizing with crop_to_aspect_ratio, pad_to_aspect_ratio or antialias is not "
            "supported by the torch target"
        )
    size = py_literal((e.args["height"], e.args["width"]))
    # Keras resizes with half-pixel centres and no antialiasing: align_corners=False.
    e.assign(f'F.interpolate({e.x}, size={size}, mode="bilinear", align_corners=False)')


def gen_center_crop(e: Emitter) -> None:
    _refuse_channels_first(e)
    rows, cols = e.in_shape[:2]
    height, width = e.args["height"], e.args["width"]
    if rows is None or cols is None or rows < height or cols < width:
        raise e.fail(
            "center_crop of an image that may be smaller than the crop (Keras resizes it up) is "
            "not supported by the torch target"
        )
    top, left = (rows - height) // 2, (cols - width) // 2
    e.assign(f"{e.x}[:, :, {top}:{top + height}, {left}:{left + width}]")


def gen_identity(e: Emitter) -> None:
    """The random augmentations: identities in eval mode, as Keras' at inference. (Training-time
    augmentation is left to torchvision's transforms.)"""
    e.assign(e.x)


def gen_zero_pad3d(e: Emitter) -> None:
    _refuse_channels_first(e)
    pairs = padding_pairs(e.args["padding"], 3)
    flat = (0, 0) + tuple(v for pair in reversed(pairs) for v in pair)
    e.assign(f"F.pad({e.x}, {flat!r})")


def gen_cropping3d(e: Emitter) -> None:
    _refuse_channels_first(e)
    slices = [f"{a or ''}:{-b if b else ''}" for a, b in padding_pairs(e.args["cropping"], 3)]
    e.assign(f"{e.x}[:, {', '.join(slices)}]")


def gen_upsampling3d(e: Emitter) -> None:
    _refuse_channels_first(e)
    expr = e.x
    for dim, factor in enumerate(int_tuple(e.args["size"], 3), start=1):
        expr = f"{expr}.repeat_interleave({factor}, dim={dim})"
    e.assign(expr)


assert IMAGE_RANK == 3  # resizing and center_crop index (N, C, H, W)
