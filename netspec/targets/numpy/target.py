"""The NumPy target: per model a class whose `__call__` runs inference with numpy alone.

Python decides everything here (names, weights, masks, which helper functions a module needs,
each layer's expression through the generators of registry.py); templates/numpy.py.jinja gives
the module its shape and defines the helpers.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Node
from netspec.language.names import camel_case
from netspec.layers.base import LayerKind
from netspec.layers.catalog import lookup
from netspec.layers.common import format_shape
from netspec.layers.traits import MaskFlow, Wrapper
from netspec.targets.base import GenerationError
from netspec.targets.literals import py_literal
from netspec.targets.numpy.registry import build_layer
from netspec.targets.numpy.site import NumpyLayer, Site, Unsupported, WeightMismatch

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
    "resize_to": (),
    "normalization": (),
    "multi_head_attention": (),
    "attention": (),
    "additive_attention": (),
    "bilinear_weights": (),
    "bicubic_weights": (),
    "area_weights": (),
    "lanczos_weights": (),
    "lanczos3_weights": ("lanczos_weights",),
    "nested": (),
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

# What the `site` module adds to builtins, or not (`python -S`): left out, so that the output
# does not depend on how Python was started.
_SITE = frozenset({"copyright", "credits", "exit", "help", "license", "quit"})
# Names the generated module uses besides the helpers, and Python's builtins, which its
# expressions call (`len`, `range`, ...): a layer or input named so gets another local name.
_MODULE_NAMES = frozenset(
    {"np", "weights", "self", "step"} | {f"_{h}" for h in HELPERS} | set(dir(builtins)) - _SITE
)


def _reads_mask(kind: LayerKind) -> bool:
    """Whether what `kind` computes at inference depends on the mask it receives (batch norm
    reads one for its batch statistics only; inference uses its moving ones)."""
    return kind.traits.mask.reads_at_inference


def _takes_mask(kind: LayerKind) -> bool:
    """A kind that reads the mask it receives, or hands it to its inner layer on each step."""
    return _reads_mask(kind) or kind.traits.wrapper is Wrapper.PER_STEP


def _makes_mask(node: Node) -> bool:
    makes = node.kind.traits.mask.makes
    return makes is True or (isinstance(makes, str) and bool(node.args[makes]))


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
    members: tuple[str, ...] = ()  # `self.encoder_model = Encoder()`: nested models, made once

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


def _error(checked: CheckedGraph, node: Node, reason: str) -> GenerationError:
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


def _mask_in(checked: CheckedGraph, node: Node, masks: dict[int, Mask]) -> str:
    """The mask expression a mask-using layer receives ('' for none)."""
    if not _takes_mask(node.kind):
        return ""
    found = [masks.get(i) for i in node.inputs]
    first = found[0] if found else None
    if node.kind.is_merge and any(m is not None for m in found):
        # Multiply, maximum and minimum let a masked input's steps through from the others.
        raise _error(
            checked,
            node,
            f"a mask reaches this {node.kind.name}, which Keras then computes step by step "
            "(masked steps of one input are taken from the others); the numpy target does not",
        )
    if isinstance(first, _Unknown):
        raise _error(
            checked,
            node,
            f"it receives the mask that `{first.layer}` makes, which the numpy "
            "target does not compute",
        )
    if node.kind.traits.wrapper is Wrapper.PER_STEP:
        # Keras hands each step's mask to the inner layer; only a mask-using one changes values.
        inner = node.args["layer"].kind
        inner_kind = lookup(inner)
        if first and inner_kind is not None and _takes_mask(inner_kind):
            raise _error(checked, node, f"it passes a mask to its inner `{inner}` layer")
        return ""
    return first or ""


def _mask_out(node: Node, masks: list[Mask], made: str) -> tuple[Mask, str]:
    """The mask of a layer's output and, for a merge, the expression combining its inputs'."""
    flow = node.kind.traits.mask.flow
    first = masks[0] if masks else None
    if made:
        return made, ""
    if flow is MaskFlow.KEEPS:
        return first, ""
    if flow is MaskFlow.SEQUENCES:
        wrapped = node.kind.traits.wrapper is Wrapper.BOTH_DIRECTIONS
        args = node.args["layer"].args if wrapped else node.args
        return (first if args["return_sequences"] else None), ""
    if flow is MaskFlow.ALL_INPUTS:
        # Keras' Merge.compute_mask: no mask unless every input has one; then their OR.
        if not masks or any(m is None for m in masks):
            return None, ""
        unknown = next((m for m in masks if isinstance(m, _Unknown)), None)
        if unknown is not None:
            return unknown, ""
        expr = str(masks[0])
        for other in masks[1:]:
            expr = f"np.logical_or({expr}, {other})"
        return expr, expr
    if flow is MaskFlow.ANY_INPUT and any(m is not None for m in masks):
        return _Unknown(node.name), ""
    return None, ""


def model_context(checked: CheckedGraph) -> NumpyModel:
    graph = checked.graph
    class_name = camel_case(graph.name)
    if class_name in _MODULE_NAMES:
        # `value_error` would make a class ValueError that the weight-file helpers then raise.
        raise GenerationError(
            f"model `{graph.name}`: its class name {class_name} would shadow Python's "
            f"builtin {class_name} in the generated module; rename the model"
        )
    names = _Locals()
    local: dict[int, str] = {n.id: names.take(n.name) for n in graph.nodes}
    masks: dict[int, Mask] = {}
    helpers: set[str] = set()
    layers: list[NumpyLayer] = []
    weights: list[NumpyWeight] = []
    members: list[str] = []
    for node in graph.nodes:
        node_weights = checked.weights.get(node.id, [])
        access = {}
        for weight in node_weights:
            key = f"{node.name}/{weight.name}"
            weights.append(NumpyWeight(key, weight.shape, _fill(key)))
            access[weight.name] = f"weights[{py_literal(key)}]"
        if node.submodel is not None:
            layers.append(_nested(node, graph.nodes, local, members, helpers))
            continue
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
            mask_var=names.take(f"{node.name}_mask") if _makes_mask(node) else "",
        )
        try:
            layer = build_layer(site)
        except Unsupported as exc:
            raise _error(checked, node, str(exc)) from None
        except WeightMismatch as exc:
            raise GenerationError(
                f"internal error: layer `{node.name}` ({node.kind.name}): the numpy target and "
                f"the layer catalog disagree: {exc}"
            ) from None
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
        class_name=class_name,
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
        members=tuple(members),
    )


def _nested(
    node: Node, nodes: list[Node], local: dict[int, str], members: list[str], helpers: set[str]
) -> NumpyLayer:
    """A model used as a layer: one instance of its class, made once and run on every use
    with the weights this model holds below the nested model's name."""
    inner = node.submodel
    assert inner is not None
    first = node if node.shares is None else nodes[node.shares]
    member = f"self.{first.name}_model"
    if node.shares is None:
        members.append(f"{member} = {camel_case(inner.name)}()")
    helpers.add("nested")
    prefix = py_literal(first.name + "/")
    arguments = ", ".join(local[i] for i in node.inputs)
    return NumpyLayer(local[node.id], f"_nested({member}, weights, {prefix})({arguments})")


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
