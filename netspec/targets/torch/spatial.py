"""PyTorch code for convolutions, pooling, padding, cropping and upsampling.

Torch convolutions take (N, C, *spatial): images already are; a sequence (N, L, C) is transposed
around a 1D layer, a volume (N, D, H, W, C) permuted around a 3D one. (data_format=channels_first
is refused for every layer by torch/target.py before these run.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from netspec.layers.common import int_tuple, padding_pairs
from netspec.layers.traits import Pooling, Window
from netspec.targets.torch.activations import activate
from netspec.targets.torch.emit import IMAGE_RANK, Emitter, atom

_MINUS_INFINITY = 'float("-inf")'
_INTO = {1: ".transpose(1, 2)", 2: "", 3: ".permute(0, 4, 1, 2, 3)"}
_BACK = {1: ".transpose(1, 2)", 2: "", 3: ".permute(0, 2, 3, 4, 1)"}


def into_channels_first(expr: str, spatial: int) -> str:
    return f"{atom(expr)}{_INTO[spatial]}" if _INTO[spatial] else expr


def back_from_channels_first(expr: str, spatial: int) -> str:
    return f"{atom(expr)}{_BACK[spatial]}" if _BACK[spatial] else expr


def compact(values: Sequence[int]) -> str:
    """`3` for (3, 3), `(3, 1)` otherwise: as torch users write kernel sizes."""
    values = tuple(values)
    if len(set(values)) == 1:
        return str(values[0])
    return repr(values)


def same_pads(
    spatial: Sequence[int | None],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> list[tuple[int, int]] | None:
    """Keras' padding='same': total = max((ceil(n/s) - 1) * s + (k - 1) * d + 1 - n, 0), the extra
    one at the end. None when it depends on a size left unknown (then the generated code computes
    it); with stride 1 it is (k - 1) * d whatever the size."""
    pairs = []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        if s == 1:
            total = (k - 1) * d
        elif n is None:
            return None
        else:
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pairs.append((total // 2, total - total // 2))
    return pairs


def pad_call(expr: str, pairs: Sequence[tuple[int, int]], value: str | None = None) -> str:
    """F.pad of the trailing spatial dims (F.pad lists the last dim first)."""
    flat = tuple(v for pair in reversed(pairs) for v in pair)
    fill = f", value={value}" if value else ""
    return f"F.pad({expr}, {flat!r}{fill})"


class Padding:
    """How a window layer pads: in its constructor, before it in forward, or not at all."""

    def __init__(self, e: Emitter, kernel, strides, dilation, spatial_rank: int) -> None:
        self.e = e
        self.kernel, self.strides, self.dilation = tuple(kernel), tuple(strides), tuple(dilation)
        self.rank = spatial_rank
        self.mode = e.args["padding"]
        spatial = e.in_shape[:-1]
        self.pairs = same_pads(spatial, kernel, strides, dilation) if self.mode == "same" else None
        self.dynamic = self.mode == "same" and self.pairs is None

    @property
    def symmetric(self) -> bool:
        return self.pairs is not None and all(a == b for a, b in self.pairs)

    def constructor(self) -> str:
        """The `padding=` argument of the torch layer: Keras' padding when it is symmetric (torch
        pads both sides alike; "same" would warn about even kernels)."""
        if self.symmetric and any(a for a, _ in self.pairs):
            return f", padding={compact([a for a, _ in self.pairs])}"
        return ""

    def before(self, expr: str, value: str | None = None) -> str:
        """`expr` padded ahead of the layer where the constructor cannot do it."""
        if self.mode == "causal":
            return pad_call(expr, [((self.kernel[0] - 1) * self.dilation[0], 0)])
        if self.mode != "same" or self.symmetric:
            return expr
        if self.dynamic:
            self.e.helper("_same_padding")
            fill = f", value={value}" if value else ""
            return (
                f"_same_padding({expr}, {self.kernel!r}, {self.strides!r}, {self.dilation!r}{fill})"
            )
        return pad_call(expr, self.pairs, value)


# ---- convolutions --------------------------------------------------------------------------


def _window(e: Emitter) -> Window:
    window = e.view.kind.traits.window
    assert window is not None, e.view.kind.name  # the registry gives windowed kinds only
    return window


def _spatial_rank(e: Emitter) -> int:
    rank = e.view.kind.traits.spatial_rank
    assert rank is not None, e.view.kind.name  # the registry gives spatial kinds only
    return rank


def _conv_common(e: Emitter, spatial: int) -> tuple[tuple, tuple, tuple, Padding]:
    kernel = int_tuple(e.args["kernel_size"], spatial)
    strides = int_tuple(e.args["strides"], spatial)
    dilation = int_tuple(e.args.get("dilation_rate", 1), spatial)
    return kernel, strides, dilation, Padding(e, kernel, strides, dilation, spatial)


def _window_args(kernel, strides, dilation, padding: Padding) -> str:
    args = f", {compact(kernel)}"
    if max(strides) > 1:
        args += f", stride={compact(strides)}"
    args += padding.constructor()
    if max(dilation) > 1:
        args += f", dilation={compact(dilation)}"
    return args


def _conv_forward(e: Emitter, module: str, padding: Padding, spatial: int) -> None:
    x = padding.before(into_channels_first(e.x, spatial))
    e.assign(activate(e, back_from_channels_first(f"{module}({x})", spatial)))


def gen_conv(e: Emitter) -> None:
    spatial = _spatial_rank(e)
    kernel, strides, dilation, padding = _conv_common(e, spatial)
    channels, filters, groups = e.in_shape[-1], e.args["filters"], e.args["groups"]
    args = f"{channels}, {filters}" + _window_args(kernel, strides, dilation, padding)
    if groups > 1:
        args += f", groups={groups}"
    if not e.args["use_bias"]:
        args += ", bias=False"
    module = e.module(f"nn.Conv{spatial}d", args)
    e.weight("kernel", ("weight",), "conv", "kernel_initializer")
    if e.args["use_bias"]:
        e.weight("bias", ("bias",), "copy", "bias_initializer")
    _conv_forward(e, module, padding, spatial)


def gen_depthwise_conv2d(e: Emitter) -> None:
    kernel, strides, dilation, padding = _conv_common(e, 2)
    channels, multiplier = e.in_shape[-1], e.args["depth_multiplier"]
    args = f"{channels}, {channels * multiplier}" + _window_args(kernel, strides, dilation, padding)
    args += f", groups={channels}"
    if not e.args["use_bias"]:
        args += ", bias=False"
    module = e.module("nn.Conv2d", args)
    # Output channel c * multiplier + m is input channel c's m-th map, in Keras and in torch.
    e.weight("kernel", ("weight",), "depthwise", "depthwise_initializer")
    if e.args["use_bias"]:
        e.weight("bias", ("bias",), "copy", "bias_initializer")
    _conv_forward(e, module, padding, 2)


def gen_separable_conv2d(e: Emitter) -> None:
    kernel, strides, dilation, padding = _conv_common(e, 2)
    e.helper("SeparableConv2d")
    args = f"{e.in_shape[-1]}, {e.args['filters']}" + _window_args(
        kernel, strides, dilation, padding
    )
    if e.args["depth_multiplier"] > 1:
        args += f", depth_multiplier={e.args['depth_multiplier']}"
    if not e.args["use_bias"]:
        args += ", bias=False"
    module = e.module("SeparableConv2d", args)
    e.weight("depthwise_kernel", ("depthwise.weight",), "depthwise", "depthwise_initializer")
    e.weight("pointwise_kernel", ("pointwise.weight",), "conv", "pointwise_initializer")
    if e.args["use_bias"]:
        e.weight("bias", ("pointwise.bias",), "copy", "bias_initializer")
    _conv_forward(e, module, padding, 2)


def _keras_transpose_pads(
    k: int, s: int, d: int, padding: str, extra: int | None
) -> tuple[int, int]:
    """The (left, right) padding of the stride-1 convolution that Keras' transposed convolution
    is (Keras' own conversion for JAX, which matches TensorFlow)."""
    k = (k - 1) * d + 1
    if padding == "valid":
        extra = max(k, s) - k if extra is None else extra
        return k - 1, k - 1 + extra
    total = s + k - 2 if extra is None else k + k % 2 - 2 + extra
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


def gen_conv_transpose(e: Emitter) -> None:
    spatial = _spatial_rank(e)
    kernel = int_tuple(e.args["kernel_size"], spatial)
    strides = int_tuple(e.args["strides"], spatial)
    dilation = int_tuple(e.args["dilation_rate"], spatial)
    extras = e.args["output_padding"]
    extras = (None,) * spatial if extras is None else int_tuple(extras, spatial)
    # Torch's full output has (n - 1) * s + (k - 1) * d + 1 positions; Keras keeps a window of
    # it: `padding` crops both sides, `output_padding` gives one back on the right.
    crops = []
    for k, s, d, extra in zip(kernel, strides, dilation, extras):
        left, right = _keras_transpose_pads(k, s, d, e.args["padding"], extra)
        span = (k - 1) * d
        crops.append((span - left, span - right))
    pads = [left for left, _ in crops]
    out_pads = [max(left - right, 0) for left, right in crops]
    trims = [max(right - left, 0) for left, right in crops]
    for (left, right), s, d in zip(crops, strides, dilation):
        if left < 0 or left - right >= max(s, d):
            raise e.fail(
                "this transposed convolution's Keras output window has no torch padding and "
                "output_padding that give it"
            )
    args = f"{e.in_shape[-1]}, {e.args['filters']}, {compact(kernel)}"
    if max(strides) > 1:
        args += f", stride={compact(strides)}"
    if any(pads):
        args += f", padding={compact(pads)}"
    if any(out_pads):
        args += f", output_padding={compact(out_pads)}"
    if max(dilation) > 1:
        args += f", dilation={compact(dilation)}"
    if not e.args["use_bias"]:
        args += ", bias=False"
    module = e.module(f"nn.ConvTranspose{spatial}d", args)
    e.weight("kernel", ("weight",), "conv", "kernel_initializer")
    if e.args["use_bias"]:
        e.weight("bias", ("bias",), "copy", "bias_initializer")
    out = f"{module}({into_channels_first(e.x, spatial)})"
    if any(trims):
        out += "[:, :, " + ", ".join(f":-{t}" if t else ":" for t in trims) + "]"
    e.assign(activate(e, back_from_channels_first(out, spatial)))


# ---- pooling -------------------------------------------------------------------------------


def gen_pool(e: Emitter) -> None:
    window = _window(e)
    spatial = _spatial_rank(e)
    pool = int_tuple(e.args[window.size], spatial)
    strides = pool if e.args["strides"] is None else int_tuple(e.args["strides"], spatial)
    padding = Padding(e, pool, strides, (1,) * spatial, spatial)
    is_max = e.view.kind.traits.pooling is Pooling.MAX
    args = f"{compact(pool)}"
    if strides != pool:
        args += f", stride={compact(strides)}"
    args += padding.constructor()
    if (
        not is_max
        and padding.mode == "same"
        and padding.symmetric
        and any(a for a, _ in padding.pairs)
    ):
        args += ", count_include_pad=False"  # Keras leaves the padding out of the mean
    module = e.module(f"nn.{'Max' if is_max else 'Avg'}Pool{spatial}d", args)
    x = into_channels_first(e.x, spatial)
    if is_max:
        out = f"{module}({padding.before(x, _MINUS_INFINITY)})"
    else:
        out = f"{module}({padding.before(x)})"
        if padding.before(x) != x:
            # Asymmetric padding: the mean over the positions inside the input only.
            ones = f"torch.ones_like({atom(x)}[:, :1])"
            out = f"{out} / {module}({padding.before(ones)})"
    e.assign(back_from_channels_first(out, spatial))


def gen_global_pool(e: Emitter) -> None:
    # Over every axis but the batch and the channels: (N, C, H, W) for images, (N, L, C) and the
    # other ranks in the spec's layout.
    spatial = (2, 3) if e.in_rank == IMAGE_RANK else tuple(range(1, e.in_rank))
    dims = str(spatial[0]) if len(spatial) == 1 else repr(spatial)
    keep = ", keepdim=True" if e.args["keepdims"] else ""
    op = "amax" if e.view.kind.traits.pooling is Pooling.MAX else "mean"
    e.assign(f"{e.x}.{op}(dim={dims}{keep})")


# ---- padding, cropping, upsampling ---------------------------------------------------------


def gen_zero_pad1d(e: Emitter) -> None:
    ((before, after),) = padding_pairs(e.args["padding"], 1)
    e.assign(f"F.pad({e.x}, (0, 0, {before}, {after}))")


def gen_zero_pad2d(e: Emitter) -> None:
    (top, bottom), (left, right) = padding_pairs(e.args["padding"], 2)
    module = e.module("nn.ZeroPad2d", repr((left, right, top, bottom)))
    e.assign(f"{module}({e.x})")


def _slice(before: int, after: int) -> str:
    return f"{before or ''}:{-after if after else ''}"


def gen_cropping1d(e: Emitter) -> None:
    ((before, after),) = padding_pairs(e.args["cropping"], 1)
    e.assign(f"{e.x}[:, {_slice(before, after)}]")


def gen_cropping2d(e: Emitter) -> None:
    rows, cols = padding_pairs(e.args["cropping"], 2)
    e.assign(f"{e.x}[:, :, {_slice(*rows)}, {_slice(*cols)}]")


def gen_upsampling1d(e: Emitter) -> None:
    e.assign(f"{e.x}.repeat_interleave({e.args['size']}, dim=1)")


def gen_upsampling2d(e: Emitter) -> None:
    size = compact(int_tuple(e.args["size"], 2))
    mode = e.args["interpolation"]
    if mode == "nearest":
        args = f"scale_factor={size}"
    elif mode == "bilinear":
        # Keras resizes with half-pixel centres: torch's align_corners=False.
        args = f'scale_factor={size}, mode="bilinear", align_corners=False'
    elif mode == "area":
        args = f'scale_factor={size}, mode="area"'
    else:
        raise e.fail(
            f"upsampling2d interpolation={mode} has no exact torch equivalent (torch's bicubic "
            "uses another cubic kernel; lanczos does not exist); use nearest, bilinear or area"
        )
    module = e.module("nn.Upsample", args)
    e.assign(f"{module}({e.x})")
