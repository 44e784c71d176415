"""The NumPy target's builders of spatial layers: convolutions, pooling, padding, cropping,
resampling, and flatten; a channels_first layer runs channels last between two transposes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from netspec.layers.common import int_tuple, padding_pairs
from netspec.targets.literals import py_literal
from netspec.targets.numpy.ops import NumpyLayer, Site, fused, keywords, simple

# ---- layouts -------------------------------------------------------------------------------


def _first(site: Site) -> bool:
    return site.args.get("data_format") == "channels_first"


def _channels_last(
    site: Site, build: Callable[[Site], NumpyLayer], keep: bool = True
) -> NumpyLayer:
    """Run a channels-last builder on a channels_first layer: move the channels around it."""
    if not _first(site):
        return build(site)
    moved = replace(site, inputs=(f"{site.use('channels_last')}({site.x})",))
    layer = build(moved)
    wrap = (site.use("channels_first"),) if keep else ()
    return replace(layer, wrap=wrap + layer.wrap)


def build_flatten(site: Site) -> NumpyLayer:
    inputs = site.inputs
    if _first(site) and len(site.shapes[0]) > 1:
        inputs = (f"{site.use('channels_last')}({site.x})",)
    return NumpyLayer("flatten", site.var, inputs)


# ---- convolutions --------------------------------------------------------------------------


def _rank(site: Site) -> int:
    return len(site.shapes[0]) - 1


def _window(site: Site, rank: int) -> str:
    strides = int_tuple(site.arg("strides"), rank)
    dilation = int_tuple(site.arg("dilation_rate"), rank)
    return keywords(
        [("strides", strides), ("dilation", dilation), ("padding", site.arg("padding"))]
    )


def build_conv(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        groups = site.arg("groups")
        args = f"{site.weight('kernel')}, {site.weight('bias')}, {_window(site, rank)}"
        if groups != 1:
            args += f", groups={groups}"
        site.use("conv", "pads", "windows", "pad")
        return simple(site, site.kind.name, args, fused(site, site.arg("activation")))

    return _channels_last(site, build)


def build_depthwise_conv2d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        args = f"{site.weight('kernel')}, {site.weight('bias')}, {_window(site, 2)}"
        site.use("depthwise_conv", "conv", "pads", "windows", "pad")
        return simple(site, "depthwise_conv2d", args, fused(site, site.arg("activation")))

    return _channels_last(site, build)


def build_separable_conv2d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        kernels = f"{site.weight('depthwise_kernel')}, {site.weight('pointwise_kernel')}"
        args = f"{kernels}, {site.weight('bias')}, {_window(site, 2)}"
        site.use("separable_conv", "depthwise_conv", "conv", "pads", "windows", "pad")
        return simple(site, "separable_conv2d", args, fused(site, site.arg("activation")))

    return _channels_last(site, build)


def build_conv_transpose(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        extra = site.arg("output_padding")
        extra = None if extra is None else int_tuple(extra, rank)
        args = f"{site.weight('kernel')}, {site.weight('bias')}, {_window(site, rank)}"
        args += f", output_padding={py_literal(extra)}"
        site.use("conv_transpose", "conv", "pads", "windows", "pad")
        return simple(site, site.kind.name, args, fused(site, site.arg("activation")))

    return _channels_last(site, build)


# ---- pooling, padding, cropping, upsampling ------------------------------------------------


def build_pool(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        pool = int_tuple(site.arg("pool_size"), rank)
        strides = pool if site.arg("strides") is None else int_tuple(site.arg("strides"), rank)
        mode = "max_pool" if site.kind.name.startswith("max") else "avg_pool"
        site.use(mode, "pads", "windows", "pad")
        args = keywords([("pool", pool), ("strides", strides), ("padding", site.arg("padding"))])
        return simple(site, site.kind.name, args)

    return _channels_last(site, build)


def build_global_pool(site: Site) -> NumpyLayer:
    keepdims = site.arg("keepdims")

    def build(site: Site) -> NumpyLayer:
        rank = _rank(site)
        axes = py_literal(tuple(range(1, rank + 1)))
        args = f"axis={axes}" + (", keepdims=True" if keepdims else "")
        if site.mask and site.kind.name == "global_avg_pool1d":
            site.use("masked_mean")
            args = f"{site.mask}, keepdims={keepdims}"
            return NumpyLayer("global_avg_pool1d", site.var, site.inputs, args, variant="masked")
        return simple(site, site.kind.name, args)

    return _channels_last(site, build, keep=keepdims)


def build_zero_pad(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        pairs = padding_pairs(site.arg("padding"), _rank(site))
        return simple(site, site.kind.name, py_literal(((0, 0), *pairs, (0, 0))))

    return _channels_last(site, build)


def build_cropping(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        pairs = padding_pairs(site.arg("cropping"), _rank(site))
        parts = [":"] + [f"{a or ''}:{-b if b else ''}" for a, b in pairs] + [":"]
        return simple(site, site.kind.name, ", ".join(parts))

    return _channels_last(site, build)


def build_upsampling1d(site: Site) -> NumpyLayer:
    return simple(site, "upsampling1d", py_literal(site.arg("size")))


_RESIZE_WEIGHTS = {
    "bilinear": ("bilinear_weights",),
    "bicubic": ("bicubic_weights",),
    "area": ("area_weights",),
    "lanczos3": ("lanczos3_weights", "lanczos_weights"),
    "lanczos5": ("lanczos5_weights", "lanczos_weights"),
}


def build_upsampling2d(site: Site) -> NumpyLayer:
    def build(site: Site) -> NumpyLayer:
        size = int_tuple(site.arg("size"), 2)
        method = site.arg("interpolation")
        if method == "nearest":
            return NumpyLayer(
                "upsampling2d", site.var, site.inputs, values=(str(size[0]), str(size[1]))
            )
        site.use("resize")
        weights = site.use(*_RESIZE_WEIGHTS[method])
        args = f"{py_literal(size)}, {weights}"
        return NumpyLayer("upsampling2d", site.var, site.inputs, args, variant="resize")

    return _channels_last(site, build)


SPATIAL_BUILDERS: dict[str, Callable[[Site], NumpyLayer]] = {
    "flatten": build_flatten,
    "depthwise_conv2d": build_depthwise_conv2d,
    "separable_conv2d": build_separable_conv2d,
    "upsampling1d": build_upsampling1d,
    "upsampling2d": build_upsampling2d,
    **dict.fromkeys(("conv1d", "conv2d", "conv3d"), build_conv),
    **dict.fromkeys(("conv1d_transpose", "conv2d_transpose"), build_conv_transpose),
    **dict.fromkeys(("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"), build_pool),
    **dict.fromkeys(
        ("global_avg_pool1d", "global_avg_pool2d", "global_max_pool1d", "global_max_pool2d"),
        build_global_pool,
    ),
    **dict.fromkeys(("zero_pad1d", "zero_pad2d"), build_zero_pad),
    **dict.fromkeys(("cropping1d", "cropping2d"), build_cropping),
}
