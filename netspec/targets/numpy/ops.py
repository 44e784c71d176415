"""The NumPy target's layer builders: each turns one layer's resolved arguments into the call that
templates/numpy_layers.jinja lays out, and records the helper functions that call needs.

This module holds the shared types and the builders of activations, core layers, normalization,
recurrent layers and merges; numpy_spatial.py those of convolutions, pooling and resampling."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from netspec.layers.base import LayerKind
from netspec.layers.catalog import LayerSpec, Shape, lookup
from netspec.targets.literals import py_literal


class Unsupported(Exception):
    """A layer the NumPy target cannot compute exactly; the message says why."""


@dataclass(frozen=True)
class NumpyLayer:
    """One line of `__call__`: `var = <macro's expression>` (a wrapped layer is an `inner` one)."""

    macro: str  # the template macro: the kind's name, `activation` for activation functions
    var: str  # the local variable holding its output
    inputs: tuple[str, ...]  # expressions of its inputs
    args: str = ""  # the helper's further arguments, rendered
    wrap: tuple[str, ...] = ()  # functions applied to the result, outermost first
    # Wrapped layers: bidirectional's two directions, time_distributed's one inner layer.
    inner: tuple[NumpyLayer, ...] = ()
    mask_var: str = ""  # a variable for the mask this layer makes (set before its output)
    mask_expr: str = ""
    variant: str = ""  # for kinds computed two ways: which one
    values: tuple[str, ...] = ()  # separate rendered values, where a macro places them apart


@dataclass
class Site:
    """What a builder gets: the layer, its input expressions and shapes, its weights, its mask."""

    kind: LayerKind
    args: Mapping[str, Any]
    name: str
    var: str
    inputs: tuple[str, ...]
    shapes: tuple[Shape, ...]
    weights: dict[str, str]  # weight name below the layer -> the expression reading it
    helpers: set[str]
    mask: str = ""  # the mask reaching a layer that uses one
    mask_var: str = ""  # for a layer that makes a mask: the variable to hold it

    def use(self, *names: str) -> str:
        self.helpers.update(names)
        return f"_{names[0]}"

    def weight(self, name: str) -> str:
        return self.weights.get(name, "None")

    def arg(self, name: str) -> Any:
        return self.args[name]

    @property
    def x(self) -> str:
        return self.inputs[0]


# ---- activations ---------------------------------------------------------------------------

# Functions numpy has; every other activation is a helper `_<name>` of the generated module.
_NUMPY_ACTIVATIONS = {"tanh": "np.tanh", "exponential": "np.exp"}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def activation_function(site: Site, name: str | None) -> str:
    """A callable for an activation name (what recurrent layers take)."""
    name = "linear" if name is None else _ALIASES.get(name, name)
    if name in _NUMPY_ACTIVATIONS:
        return _NUMPY_ACTIVATIONS[name]
    return site.use(name)


def fused(site: Site, name: str | None) -> tuple[str, ...]:
    """The wrap for a layer's `activation=` argument: nothing for linear."""
    if name is None or name == "linear":
        return ()
    return (activation_function(site, name),)


def keywords(pairs: list[tuple[str, Any]]) -> str:
    return ", ".join(f"{key}={py_literal(value)}" for key, value in pairs)


def simple(site: Site, macro: str, args: str = "", wrap: tuple[str, ...] = ()) -> NumpyLayer:
    return NumpyLayer(macro, site.var, site.inputs, args, wrap)


def build_activation(site: Site) -> NumpyLayer:
    name = site.kind.fixed_activation or site.arg("activation")
    return simple(site, "activation", wrap=fused(site, name))


def build_relu(site: Site) -> NumpyLayer:
    given = [(key, site.arg(key)) for key in ("negative_slope", "max_value", "threshold")]
    defaults = {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    args = keywords([(k, v) for k, v in given if v != defaults[k]])
    site.use("relu")
    return simple(site, "relu", args)


def build_leaky_relu(site: Site) -> NumpyLayer:
    site.use("leaky_relu")
    return simple(site, "leaky_relu", py_literal(site.arg("negative_slope")))


def build_elu(site: Site) -> NumpyLayer:
    site.use("elu")
    return simple(site, "elu", py_literal(site.arg("alpha")))


def build_softmax(site: Site) -> NumpyLayer:
    if site.mask:
        raise Unsupported("a softmax layer that receives a mask adds it to its input")
    axis = site.arg("axis")
    site.use("softmax")
    return simple(site, "softmax", f"axis={py_literal(axis)}")


def build_prelu(site: Site) -> NumpyLayer:
    site.use("prelu")
    return simple(site, "prelu", site.weight("alpha"))


def build_identity(site: Site) -> NumpyLayer:
    """Dropout and noise layers: identities at inference."""
    return simple(site, site.kind.name)


# ---- core ----------------------------------------------------------------------------------


def build_dense(site: Site) -> NumpyLayer:
    if site.arg("lora_rank") is not None:
        raise Unsupported("lora_rank adds LoRA weights that netspec does not list")
    site.use("dense")
    args = f"{site.weight('kernel')}, {site.weight('bias')}"
    return simple(site, "dense", args, fused(site, site.arg("activation")))


def build_embedding(site: Site) -> NumpyLayer:
    if site.arg("lora_rank") is not None:
        raise Unsupported("lora_rank adds LoRA weights that netspec does not list")
    site.use("embedding")
    layer = simple(site, "embedding", site.weight("embeddings"))
    if site.arg("mask_zero") and site.mask_var:
        return replace(layer, mask_var=site.mask_var, mask_expr=f"{site.x} != 0")
    return layer


def build_masking(site: Site) -> NumpyLayer:
    value = py_literal(site.arg("mask_value"))
    return NumpyLayer(
        "masking",
        site.var,
        site.inputs,
        args=site.mask_var,
        mask_var=site.mask_var,
        mask_expr=f"np.any({site.x} != {value}, axis=-1)",
    )


def build_reshape(site: Site) -> NumpyLayer:
    return simple(site, "reshape", py_literal(tuple(site.arg("target_shape"))))


def build_permute(site: Site) -> NumpyLayer:
    return simple(site, "permute", py_literal((0, *site.arg("dims"))))


def build_repeat_vector(site: Site) -> NumpyLayer:
    return simple(site, "repeat_vector", py_literal(site.arg("n")))


def build_rescaling(site: Site) -> NumpyLayer:
    values = (py_literal(site.arg("scale")), py_literal(site.arg("offset")))
    return NumpyLayer("rescaling", site.var, site.inputs, values=values)


# ---- normalization -------------------------------------------------------------------------


def build_batch_norm(site: Site) -> NumpyLayer:
    site.use("batch_norm")
    stats = f"{site.weight('moving_mean')}, {site.weight('moving_variance')}"
    affine = f"{site.weight('gamma')}, {site.weight('beta')}"
    settings = f"epsilon={py_literal(site.arg('epsilon'))}, axis={py_literal(site.arg('axis'))}"
    return simple(site, "batch_norm", f"{stats}, {affine}, {settings}")


def build_layer_norm(site: Site) -> NumpyLayer:
    site.use("layer_norm")
    axes = site.arg("axis")
    axes = tuple(sorted(axes)) if isinstance(axes, tuple) else (axes,)
    affine = f"{site.weight('gamma')}, {site.weight('beta')}"
    settings = f"axes={py_literal(axes)}, epsilon={py_literal(site.arg('epsilon'))}"
    return simple(site, "layer_norm", f"{affine}, {settings}")


def build_group_norm(site: Site) -> NumpyLayer:
    site.use("group_norm")
    axis = site.arg("axis")
    channels = site.shapes[0][axis if axis < 0 else axis - 1]
    groups = channels if site.arg("groups") == -1 else site.arg("groups")
    affine = f"{site.weight('gamma')}, {site.weight('beta')}"
    settings = f"groups={groups}, axis={axis}, epsilon={py_literal(site.arg('epsilon'))}"
    return simple(site, "group_norm", f"{affine}, {settings}")


def build_unit_norm(site: Site) -> NumpyLayer:
    site.use("unit_norm")
    return simple(site, "unit_norm", f"axis={py_literal(site.arg('axis'))}")


# ---- recurrent -----------------------------------------------------------------------------


def _rnn_args(
    site: Site, kind: str, spec: Mapping[str, Any], prefix: str = "", zero_masked: bool = False
) -> str:
    """The arguments of `_<kind>(x, ...)`: its weights below `prefix`, activations, flags, mask."""
    cell = f"{prefix}{kind}_cell/"
    weights = ", ".join(
        site.weight(f"{cell}{name}") for name in ("kernel", "recurrent_kernel", "bias")
    )
    parts = [weights, f"activation={activation_function(site, spec['activation'])}"]
    if kind != "simple_rnn":
        parts.append(
            f"recurrent_activation={activation_function(site, spec['recurrent_activation'])}"
        )
    if kind == "gru":
        parts.append(f"reset_after={spec['reset_after']}")
    for flag in ("go_backwards", "return_sequences"):
        if spec[flag]:
            parts.append(f"{flag}=True")
    if site.mask:
        parts.append(f"mask={site.mask}")
        if zero_masked:
            parts.append("zero_masked=True")
    return ", ".join(parts)


def build_rnn(site: Site) -> NumpyLayer:
    site.use(site.kind.name, "recurrent")
    return simple(site, site.kind.name, _rnn_args(site, site.kind.name, site.args))


def build_bidirectional(site: Site) -> NumpyLayer:
    forward: LayerSpec = site.arg("layer")
    backward: LayerSpec = site.arg("backward_layer") or LayerSpec(
        forward.kind, {**forward.args, "go_backwards": not forward.args["go_backwards"]}, ""
    )
    # The weights name each copy: `forward_lstm/...` first, then the backward copy's.
    prefixes = []
    for name in site.weights:
        head = name.split("/", 1)[0] + "/"
        if head not in prefixes:
            prefixes.append(head)
    inner = []
    for spec, prefix in zip((forward, backward), prefixes):
        site.use(spec.kind, "recurrent")
        # Keras' Bidirectional zeroes the outputs of masked steps when it returns sequences.
        zero_masked = spec.args["return_sequences"]
        args = _rnn_args(site, spec.kind, spec.args, prefix, zero_masked)
        inner.append(NumpyLayer(spec.kind, "", site.inputs, args))
    site.use("bidirectional")
    merge = py_literal(site.arg("merge_mode"))
    sequences = forward.args["return_sequences"]
    args = f"merge_mode={merge}, return_sequences={sequences}"
    return NumpyLayer("bidirectional", site.var, site.inputs, args, inner=tuple(inner))


def build_time_distributed(site: Site, build_inner: Callable[[Site], NumpyLayer]) -> NumpyLayer:
    spec: LayerSpec = site.arg("layer")
    kind = lookup(spec.kind)
    assert kind is not None
    prefix = f"{spec.name}/"
    weights = {k[len(prefix) :]: v for k, v in site.weights.items() if k.startswith(prefix)}
    step = Site(
        kind=kind,
        args=spec.args,
        name=site.name,
        var="",
        inputs=("step",),
        shapes=(site.shapes[0][1:],),
        weights=weights,
        helpers=site.helpers,
    )
    site.use("time_distributed")
    return NumpyLayer("time_distributed", site.var, site.inputs, inner=(build_inner(step),))


# ---- merges --------------------------------------------------------------------------------


def _aligned(site: Site) -> tuple[str, ...]:
    """Keras' merges give a lower-rank input new axes after the batch, then broadcast."""
    rank = max(len(s) for s in site.shapes)
    return tuple(
        x if len(s) == rank else f"{x}[:, {', '.join(['None'] * (rank - len(s)))}]"
        for x, s in zip(site.inputs, site.shapes)
    )


def build_elementwise(site: Site) -> NumpyLayer:
    return NumpyLayer(site.kind.name, site.var, _aligned(site))


def build_concat(site: Site) -> NumpyLayer:
    return simple(site, "concat", py_literal(site.arg("axis")))


def build_dot(site: Site) -> NumpyLayer:
    axes = site.arg("axes")
    pair = tuple(axes) if isinstance(axes, tuple) else (axes, axes)
    ranks = [len(s) + 1 for s in site.shapes]
    full = tuple(a % r for a, r in zip(pair, ranks))
    site.use("dot")
    return simple(site, "dot", f"axes={py_literal(full)}, normalize={site.arg('normalize')}")


CORE_BUILDERS: dict[str, Callable[[Site], NumpyLayer]] = {
    "activation": build_activation,
    "relu": build_relu,
    "leaky_relu": build_leaky_relu,
    "elu": build_elu,
    "softmax": build_softmax,
    "prelu": build_prelu,
    "dense": build_dense,
    "embedding": build_embedding,
    "masking": build_masking,
    "reshape": build_reshape,
    "permute": build_permute,
    "repeat_vector": build_repeat_vector,
    "rescaling": build_rescaling,
    "batch_norm": build_batch_norm,
    "layer_norm": build_layer_norm,
    "group_norm": build_group_norm,
    "unit_norm": build_unit_norm,
    "bidirectional": build_bidirectional,
    "concat": build_concat,
    "dot": build_dot,
    **dict.fromkeys(
        ("dropout", "spatial_dropout1d", "spatial_dropout2d", "gaussian_noise", "gaussian_dropout"),
        build_identity,
    ),
    **dict.fromkeys(("simple_rnn", "lstm", "gru"), build_rnn),
    **dict.fromkeys(
        ("add", "subtract", "multiply", "average", "maximum", "minimum"), build_elementwise
    ),
}
