"""The NumPy target: per model a class whose `__call__` runs inference with numpy alone.

Python decides everything here (names, weights, masks, which helper functions a module needs);
templates/numpy.py.jinja and numpy_layers.jinja only lay the result out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Node
from netspec.language.names import camel_case
from netspec.layers.common import format_shape
from netspec.targets.literals import py_literal
from netspec.targets.numpy.ops import (
    CORE_BUILDERS,
    NumpyLayer,
    Site,
    Unsupported,
    build_time_distributed,
)
from netspec.targets.numpy.spatial import SPATIAL_BUILDERS

# Every helper the template can define, in the order it defines them, with what each one calls.
HELPERS: dict[str, tuple[str, ...]] = {
    "linear": (),
    "sigmoid": (),
    "hard_sigmoid": (),
    "hard_silu": ("hard_sigmoid",),
    "silu": ("sigmoid",),
    "relu": (),
    "relu6": (),
    "leaky_relu": (),
    "elu": (),
    "selu": (),
    "celu": (),
    "erf": (),
    "gelu": ("erf",),
    "softplus": (),
    "softsign": (),
    "log_sigmoid": (),
    "mish": ("softplus",),
    "hard_tanh": (),
    "hard_shrink": (),
    "soft_shrink": (),
    "tanh_shrink": (),
    "sparse_plus": (),
    "sparse_sigmoid": (),
    "squareplus": (),
    "softmax": (),
    "log_softmax": (),
    "sparsemax": (),
    "prelu": (),
    "dense": (),
    "embedding": (),
    "channels_last": (),
    "channels_first": (),
    "pads": (),
    "pad": (),
    "windows": ("pad",),
    "conv": ("pads", "windows"),
    "depthwise_conv": ("conv",),
    "separable_conv": ("depthwise_conv",),
    "conv_transpose": ("conv", "pads"),
    "max_pool": ("pads", "windows"),
    "avg_pool": ("pads", "windows"),
    "masked_mean": (),
    "resize": (),
    "bilinear_weights": (),
    "bicubic_weights": (),
    "area_weights": (),
    "lanczos_weights": (),
    "lanczos3_weights": ("lanczos_weights",),
    "lanczos5_weights": ("lanczos_weights",),
    "batch_norm": (),
    "layer_norm": (),
    "group_norm": (),
    "unit_norm": (),
    "recurrent": (),
    "simple_rnn": ("recurrent",),
    "lstm": ("recurrent",),
    "gru": ("recurrent",),
    "bidirectional": (),
    "time_distributed": (),
    "dot": (),
}

BUILDERS = {**CORE_BUILDERS, **SPATIAL_BUILDERS}

# Names the generated module uses besides the helpers; a layer named so gets another local name.
_MODULE_NAMES = frozenset({"np", "weights", "self", "step"} | {f"_{h}" for h in HELPERS})

# How a Keras mask travels (the NumPy target follows it into the layers whose output it changes).
_MASK_KEEPERS = frozenset(
    {
        "activation", "relu", "leaky_relu", "elu", "prelu", "softmax", "dense", "dropout",
        "spatial_dropout1d", "spatial_dropout2d", "gaussian_noise", "gaussian_dropout",
        "batch_norm", "layer_norm", "group_norm", "unit_norm", "rescaling",
    }
)  # fmt: skip
_MASK_USERS = frozenset(
    {"simple_rnn", "lstm", "gru", "bidirectional", "softmax", "global_avg_pool1d"}
)
_MASK_MERGES = frozenset({"add", "subtract", "multiply", "average", "maximum", "minimum"})


@dataclass(frozen=True)
class _Unknown:
    """A mask Keras computes in a way the NumPy target does not follow; `layer` made it."""

    layer: str


Mask = str | _Unknown | None


@dataclass(frozen=True)
class NumpyWeight:
    key: str  # Keras' weight path without the model's prefix
    shape: tuple[int, ...]
    fill: str  # "zeros", or "ones" for scales and variances

    @property
    def key_literal(self) -> str:
        return py_literal(self.key)

    @property
    def shape_literal(self) -> str:
        return py_literal(self.shape)


@dataclass(frozen=True)
class NumpyModel:
    name: str
    class_name: str
    inputs: tuple[str, ...]  # `__call__`'s parameters, in the spec's order
    input_docs: tuple[str, ...]  # `tokens: (batch, None) int32`
    output_docs: tuple[str, ...]
    layers: tuple[NumpyLayer, ...]
    outputs: tuple[str, ...]
    weights: tuple[NumpyWeight, ...]
    helpers: tuple[str, ...]  # the helper functions it needs, in template order

    @property
    def name_literal(self) -> str:
        return py_literal(self.name)


class _Locals:
    """Local variable names of `__call__`: the layer's own name unless the module uses it."""

    def __init__(self) -> None:
        self.used: set[str] = set(_MODULE_NAMES)

    def take(self, name: str) -> str:
        while name in self.used:
            name += "_"
        self.used.add(name)
        return name


def _error(checked: CheckedGraph, node: Node, reason: str) -> Exception:
    from netspec.targets.base import GenerationError

    where = f"{checked.graph.path}:{node.span.line}"
    return GenerationError(
        f"{where}: layer `{node.name}` ({node.kind.name}): the numpy target cannot generate it: "
        f"{reason}"
    )


def _shape_doc(name: str, shape: Any, dtype: str | None = None) -> str:
    text = format_shape(shape).replace("(None", "(batch", 1)
    return f"{name}: {text}" + (f" {dtype}" if dtype else "")


# Weights that start at one (Keras' default initializers); every other weight starts at zero.
_ONES = frozenset({"gamma", "moving_variance", "moving_stddev", "renorm_stddev"})


def _fill(key: str) -> str:
    return "ones" if key.rsplit("/", 1)[-1] in _ONES else "zeros"


def build_layer(site: Site) -> NumpyLayer:
    """The NumpyLayer for one site; time_distributed builds its inner layer the same way."""
    name = site.kind.name
    if name == "time_distributed":
        return build_time_distributed(site, build_layer)
    builder = BUILDERS.get(name)
    if builder is None and site.kind.fixed_activation:
        builder = BUILDERS["activation"]
    if builder is None:
        raise Unsupported(f"no numpy code for `{name}` layers")
    return builder(site)


def _mask_in(checked: CheckedGraph, node: Node, masks: dict[int, Mask]) -> str:
    """The mask expression a mask-using layer receives ('' for none)."""
    found = [masks.get(i) for i in node.inputs]
    first = found[0] if found else None
    if node.kind.name not in _MASK_USERS and node.kind.name != "time_distributed":
        return ""
    if isinstance(first, _Unknown):
        raise _error(
            checked,
            node,
            f"it receives the mask that `{first.layer}` makes, which the numpy "
            "target does not compute",
        )
    if node.kind.name == "time_distributed":
        # Keras hands each step's mask to the inner layer; only a mask-using one changes values.
        inner = node.args["layer"].kind
        if first and (inner in _MASK_USERS or inner == "time_distributed"):
            raise _error(checked, node, f"it passes a mask to its inner `{inner}` layer")
        return ""
    return first or ""


def _mask_out(node: Node, masks: list[Mask], made: str) -> tuple[Mask, str]:
    """The mask of a layer's output and, for a merge, the expression combining its inputs'."""
    kind = node.kind.name
    first = masks[0] if masks else None
    if made:
        return made, ""
    if kind in _MASK_KEEPERS or node.kind.fixed_activation or kind == "time_distributed":
        return first, ""
    if kind in ("simple_rnn", "lstm", "gru"):
        return (first if node.args["return_sequences"] else None), ""
    if kind == "bidirectional":
        return (first if node.args["layer"].args["return_sequences"] else None), ""
    if kind in _MASK_MERGES:
        known = [m for m in masks if m is not None]
        if not known:
            return None, ""
        unknown = next((m for m in known if isinstance(m, _Unknown)), None)
        if unknown is not None:
            return unknown, ""
        expr = str(known[0])
        for other in known[1:]:
            expr = f"np.logical_and({expr}, {other})"
        return expr, expr
    if kind == "concat" and any(m is not None for m in masks):
        return _Unknown(node.name), ""
    return None, ""


def model_context(checked: CheckedGraph) -> NumpyModel:
    graph = checked.graph
    names = _Locals()
    local: dict[int, str] = {n.id: names.take(n.name) for n in graph.nodes}
    masks: dict[int, Mask] = {}
    helpers: set[str] = set()
    layers: list[NumpyLayer] = []
    weights: list[NumpyWeight] = []
    for node in graph.nodes:
        if node.is_input:
            dtype = node.args["dtype"]
            dtype = "float32" if dtype.startswith(("float", "mixed", "bfloat")) else dtype
            layers.append(NumpyLayer("input", local[node.id], (local[node.id],), py_literal(dtype)))
            continue
        node_weights = checked.weights.get(node.id, [])
        access = {}
        for weight in node_weights:
            key = f"{node.name}/{weight.name}"
            weights.append(NumpyWeight(key, weight.shape, _fill(key)))
            access[weight.name] = f"weights[{py_literal(key)}]"
        makes_mask = node.kind.name == "masking" or (
            node.kind.name == "embedding" and node.args["mask_zero"]
        )
        site = Site(
            kind=node.kind,
            args=node.args,
            name=node.name,
            var=local[node.id],
            inputs=tuple(local[i] for i in node.inputs),
            shapes=tuple(checked.shapes[i] for i in node.inputs),  # type: ignore[misc]
            weights=access,
            helpers=helpers,
            mask=_mask_in(checked, node, masks),
            mask_var=names.take(f"{node.name}_mask") if makes_mask else "",
        )
        try:
            layer = build_layer(site)
        except Unsupported as exc:
            raise _error(checked, node, str(exc)) from None
        mask, combined = _mask_out(node, [masks.get(i) for i in node.inputs], layer.mask_var)
        if combined:
            mask_var = names.take(f"{node.name}_mask")
            layer = replace(layer, mask_var=mask_var, mask_expr=combined)
            mask = mask_var
        masks[node.id] = mask
        layers.append(layer)
    needed = _closure(helpers)
    return NumpyModel(
        name=graph.name,
        class_name=camel_case(graph.name),
        inputs=tuple(local[i] for i in graph.inputs),
        input_docs=tuple(
            _shape_doc(local[i], checked.shapes[i], graph.nodes[i].args["dtype"])
            for i in graph.inputs
        ),
        output_docs=tuple(
            _shape_doc(graph.nodes[i].name, checked.shapes[i]) for i in graph.outputs
        ),
        layers=tuple(layers),
        outputs=tuple(local[i] for i in graph.outputs),
        weights=tuple(weights),
        helpers=tuple(h for h in HELPERS if h in needed),
    )


def _closure(helpers: set[str]) -> set[str]:
    needed: set[str] = set()
    pending = list(helpers)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in HELPERS:
            raise KeyError(f"numpy target: unknown helper {name!r}")
        needed.add(name)
        pending.extend(HELPERS[name])
    return needed
