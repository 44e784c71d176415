"""The NumPy target's generators of spatial layers: convolutions, pooling, padding, cropping,
resampling, and flatten; a channels_first layer runs channels last between two transposes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from netspec.layers.common import int_tuple, padding_pairs
from netspec.layers.traits import Pooling
from netspec.targets.literals import py_literal
from netspec.targets.numpy.site import NumpyLayer, Site, fused, keywords, wrapped

# ---- layouts -------------------------------------------------------------------------------


def _first(site: Site) -> bool:
    return site.args.get("data_format") == "channels_first"


def _channels_last(
    site: Site, build: Callable[[Site], NumpyLayer], keep: bool = True
) -> NumpyLayer:
    """Run a channels-last generator on a channels_first layer: move the channels around it."""
    if not _first(site):
        return build(site)
    moved = replace(site, inputs=(f"{site.use('channels_last')}({site.x})",))
    layer = build(moved)
    if not keep:  # keepdims=false: no channel axis left to move back
        return layer
    return replace(layer, expr=wrapped(layer.expr, (site.use("channels_first"),)))


channels_last_layer = _channels_last  # for the generators of other modules


def build_flatten(site: Site) -> NumpyLayer:
    x = site.x
    if _first(site) and len(site.shapes[0]) > 1:
        x = f"{site.use('channels_last')}({x})"
    return site.layer(f"{x}.reshape(len({x}), -1)")


# ---- convolutions --------------------------------------------------------------------------


def _rank(site: Site) -> int:
    return len(site.shapes[0]) - 1


def _window(site: Site, rank: int) -> str:
    strides = int_tuple(site.arg("strides"), rank)
    dilation = int_tuple(site.arg("dilation_rate"), rank)
    return keywords(
        [("strides", strides), ("dilation", dilation), ("padding", site.arg("padding"))]
    )


def _bias(site: Site) -> str:
    return site.weight("bias", site.arg("use_bias"))


def build_conv(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        groups = site.arg("groups")
        args = f"{site.weight('kernel')}, {_bias(site)}, {_window(site, rank)}"
        if groups != 1:
            args += f", groups={groups}"
        return site.layer(site.call("conv", args), fused(site, site.arg("activation")))

    return _channels_last(site, build)


def build_depthwise_conv2d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        args = f"{site.weight('kernel')}, {_bias(site)}, {_window(site, 2)}"
        return site.layer(site.call("depthwise_conv", args), fused(site, site.arg("activation")))

    return _channels_last(site, build)


def build_separable_conv2d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        kernels = f"{site.weight('depthwise_kernel')}, {site.weight('pointwise_kernel')}"
        args = f"{kernels}, {_bias(site)}, {_window(site, 2)}"
        return site.layer(site.call("separable_conv", args), fused(site, site.arg("activation")))

    return _channels_last(site, build)


def build_conv_transpose(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        extra = site.arg("output_padding")
        extra = None if extra is None else int_tuple(extra, rank)
        args = f"{site.weight('kernel')}, {_bias(site)}, {_window(site, rank)}"
        args += f", output_padding={py_literal(extra)}"
        return site.layer(site.call("conv_transpose", args), fused(site, site.arg("activation")))

    return _channels_last(site, build)


# ---- pooling, padding, cropping, upsampling ------------------------------------------------


def build_pool(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        pool = int_tuple(site.arg("pool_size"), rank)
        strides = pool if site.arg("strides") is None else int_tuple(site.arg("strides"), rank)
        helper = "max_pool" if site.kind.traits.pooling is Pooling.MAX else "avg_pool"
        args = keywords([("pool", pool), ("strides", strides), ("padding", site.arg("padding"))])
        return site.layer(site.call(helper, args))

    return _channels_last(site, build)


def build_global_pool(site: Site) -> NumpyLayer:
    keepdims = site.arg("keepdims")

    def build(site: Site) -> NumpyLayer:
        if site.mask:  # global average pooling over steps leaves the masked ones out
            return site.layer(site.call("masked_mean", site.mask, f"keepdims={keepdims}"))
        axes = py_literal(tuple(range(1, _rank(site) + 1)))
        args = f"axis={axes}" + (", keepdims=True" if keepdims else "")
        function = "np.max" if site.kind.traits.pooling is Pooling.MAX else "np.mean"
        return site.layer(f"{function}({site.x}, {args})")

    return _channels_last(site, build, keep=keepdims)


def build_zero_pad(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        pairs = padding_pairs(site.arg("padding"), _rank(site))
        return site.layer(f"np.pad({site.x}, {py_literal(((0, 0), *pairs, (0, 0)))})")

    return _channels_last(site, build)


def build_cropping(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        pairs = padding_pairs(site.arg("cropping"), _rank(site))
        parts = [":"] + [f"{a or ''}:{-b if b else ''}" for a, b in pairs] + [":"]
        return site.layer(f"{site.x}[{', '.join(parts)}]")

    return _channels_last(site, build)


def build_upsampling1d(site: Site) -> NumpyLayer:
    return site.layer(f"np.repeat({site.x}, {py_literal(site.arg('size'))}, axis=1)")


_RESIZE_WEIGHTS = {
    "bilinear": ("bilinear_weights",),
    "bicubic": ("bicubic_weights",),
    "area": ("area_weights",),
    "lanczos3": ("lanczos3_weights",),
    "lanczos5": ("lanczos5_weights",),
}


def build_upsampling2d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rows, columns = int_tuple(site.arg("size"), 2)
        method = site.arg("interpolation")
        if method == "nearest":
            return site.layer(f"np.repeat(np.repeat({site.x}, {rows}, axis=1), {columns}, axis=2)")
        weights = site.use(*_RESIZE_WEIGHTS[method])
        return site.layer(site.call("resize", py_literal((rows, columns)), weights))

    return _channels_last(site, build)
