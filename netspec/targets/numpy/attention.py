"""The NumPy target's generators of the second edition's kinds: attention, einsum_dense,
position_embedding, normalization, resizing and cropping, and the 3D upsampling."""

from __future__ import annotations

from dataclasses import replace

from netspec.layers.common import int_tuple
from netspec.layers.preprocessing import kept_axes
from netspec.targets.literals import py_literal
from netspec.targets.numpy.site import NumpyLayer, Site, Unsupported, fused
from netspec.targets.numpy.spatial import channels_last_layer


def _key(site: Site) -> str:
    return site.inputs[2] if len(site.inputs) == 3 else site.inputs[1]


def build_multi_head_attention(site: Site) -> NumpyLayer:
    if site.arg("use_gate"):
        raise Unsupported("multi_head_attention with use_gate=true has no numpy code")
    rank = len(site.shapes[0]) + 1
    axes = site.arg("attention_axes")
    middle = tuple(range(1, rank - 1))
    if axes is not None:
        given = tuple(sorted(a % rank for a in ((axes,) if isinstance(axes, int) else axes)))
        if given != middle:
            raise Unsupported(
                "multi_head_attention over some of its middle axes (attention_axes) has no "
                "numpy code; attention over all of them (the default) has"
            )
    bias = site.arg("use_bias")
    names = ("query", "key", "value", "attention_output")
    weights = []
    for name in names:
        weights.append(site.weight(f"{name}/kernel"))
        weights.append(site.weight(f"{name}/bias", bias))
    return site.layer(site.call("multi_head_attention", site.inputs[1], _key(site), *weights))


def build_attention(site: Site) -> NumpyLayer:
    scale = site.weight("scale", site.arg("use_scale"))
    concat = site.arg("score_mode") == "concat"
    weight = site.weight("concat_score_weight", concat)
    return site.layer(site.call("attention", site.inputs[1], _key(site), scale, weight))


def build_additive_attention(site: Site) -> NumpyLayer:
    scale = site.weight("scale", site.arg("use_scale"))
    return site.layer(site.call("additive_attention", site.inputs[1], _key(site), scale))


def build_einsum_dense(site: Site) -> NumpyLayer:
    if site.arg("lora_rank") is not None:
        raise Unsupported("einsum_dense with lora_rank has no numpy code")
    equation = py_literal(site.arg("equation").replace(" ", ""))
    expr = f"np.einsum({equation}, {site.x}, {site.weight('kernel')})"
    if site.arg("bias_axes") is not None:
        expr = f"{expr} + {site.weight('bias')}"
    return site.layer(expr, fused(site, site.arg("activation")))


def build_position_embedding(site: Site) -> NumpyLayer:
    table = site.weight("embeddings")
    x = site.x
    return site.layer(f"np.broadcast_to({table}[: {x}.shape[-2]], {x}.shape)")


def build_normalization(site: Site) -> NumpyLayer:
    shape = site.shapes[0]
    kept = kept_axes(shape, site.arg("axis"))
    # The statistics broadcast against the input: the kept axes keep their size, the rest 1.
    broadcast = (1, *(shape[i] if i in kept else 1 for i in range(len(shape))))
    if site.arg("mean") is None:
        mean, variance = site.weight("mean"), site.weight("variance")
    else:
        mean, variance = py_literal(site.arg("mean")), py_literal(site.arg("variance"))
    invert = site.arg("invert")
    args = f"{mean}, {variance}, {py_literal(broadcast)}, invert={invert}"
    return site.layer(site.call("normalization", args))


def build_resizing(site: Site) -> NumpyLayer:
    if site.arg("interpolation") != "bilinear":
        raise Unsupported(
            f"resizing interpolation={site.arg('interpolation')} has no numpy code; bilinear has"
        )
    if site.arg("crop_to_aspect_ratio") or site.arg("pad_to_aspect_ratio"):
        raise Unsupported("resizing to an aspect ratio (crop or pad) has no numpy code")
    if site.arg("antialias"):
        raise Unsupported("resizing with antialias=true has no numpy code")

    def build(site: Site) -> NumpyLayer:
        size = py_literal((site.arg("height"), site.arg("width")))
        return site.layer(site.call("resize_to", size, site.use("bilinear_weights")))

    return channels_last_layer(site, build)


def build_center_crop(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rows, cols = site.shapes[0][:2]
        height, width = site.arg("height"), site.arg("width")
        if rows is None or cols is None or rows < height or cols < width:
            raise Unsupported(
                "center_crop of an image that may be smaller than the crop (Keras resizes it "
                "up) has no numpy code"
            )
        top, left = (rows - height) // 2, (cols - width) // 2
        return site.layer(f"{site.x}[:, {top}:{top + height}, {left}:{left + width}]")

    if site.args.get("data_format") == "channels_first":
        shape = site.shapes[0]
        site = replace(site, shapes=((*shape[1:], shape[0]),))
    return channels_last_layer(site, build)


def build_upsampling3d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        expr = site.x
        for axis, factor in enumerate(int_tuple(site.arg("size"), 3), start=1):
            expr = f"np.repeat({expr}, {factor}, axis={axis})"
        return site.layer(expr)

    return channels_last_layer(site, build)
