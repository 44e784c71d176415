"""What the rules ask of a graph: a node's activation and linearity, its width, the model's head."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Graph, Node
from netspec.layers.base import keras_snake_case
from netspec.layers.catalog import LayerKind, LayerSpec, Linearity, Shape, lookup
from netspec.layers.common import format_shape
from netspec.layers.traits import ACTIVATION_ARGUMENT, Wrapper


def effective(node: Node) -> tuple[LayerKind, Mapping[str, Any]]:
    """The kind and arguments that decide what a node computes: time_distributed's inner layer."""
    if node.kind.traits.wrapper is Wrapper.PER_STEP:
        inner = node.args.get("layer")
        kind = (inner.entry or lookup(inner.kind)) if isinstance(inner, LayerSpec) else None
        if kind is not None:
            return kind, inner.args
    return node.kind, node.args


def wrapped_args(kind: LayerKind, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """The arguments of the layer a wrapper applies (bidirectional's lstm), else `args`."""
    inner = args.get("layer") if kind.traits.wrapper is not Wrapper.NONE else None
    return inner.args if isinstance(inner, LayerSpec) else args


def activation_of(node: Node) -> str | None:
    """The function a node applies last: an activation layer's own, or a layer's `activation=`.

    None for a linear node. A recurrent layer's `activation` acts inside its cell, so it counts
    as none here: its output is not "a layer followed by an activation".
    """
    kind, args = effective(node)
    applied = kind.traits.activation
    if kind.traits.recurrent or applied is None:
        return None
    name = args.get("activation") if applied == ACTIVATION_ARGUMENT else applied
    if not isinstance(name, str) or name == "linear":
        return None
    return name


def is_activation_layer(node: Node) -> bool:
    """An activation written as a layer (`relu`, `activation(tanh)`, `softmax`), not `linear`."""
    return effective(node)[0].traits.activation_layer and activation_of(node) is not None


def is_map(node: Node) -> bool:
    """A learned linear map (dense, conv, ...), whatever activation follows it."""
    return effective(node)[0].linearity is Linearity.MAP


def is_linear_map(node: Node) -> bool:
    """A learned linear map with no activation of its own."""
    return is_map(node) and activation_of(node) is None


def is_learning(node: Node) -> bool:
    """A layer that learns a map of its input's values: dense, conv, recurrent."""
    kind = effective(node)[0]
    return kind.linearity is Linearity.MAP or kind.traits.recurrent


def is_transparent(node: Node) -> bool:
    """Keeps a linear chain linear: dropout, flatten, batch norm, average pooling, add, `linear`."""
    kind = effective(node)[0]
    if kind.traits.activation_layer:
        return activation_of(node) is None
    return kind.linearity is Linearity.TRANSPARENT and not node.is_input


def is_weak_nonlinearity(node: Node) -> bool:
    """Nonlinear, but no activation: max pooling, layer/group/unit norm, maximum/minimum merges."""
    return effective(node)[0].traits.weak_nonlinearity


def is_passthrough(node: Node) -> bool:
    """One input whose values it keeps (at inference): dropout, noise, flatten, reshape, padding."""
    kind = effective(node)[0]
    if len(node.inputs) != 1:
        return False
    if kind.traits.activation_layer:
        return activation_of(node) is None
    return kind.traits.passes_values


def is_dropout(node: Node) -> bool:
    """Dropout or noise: acts in training only."""
    return node.kind.traits.in_training_only


def moves_values(node: Node) -> bool:
    """Moves, copies or pads its input's values, in training as at inference: flatten, reshape,
    padding, cropping, upsampling, masking (not dropout or noise, which change them in training)."""
    traits = node.kind.traits
    return traits.passes_values and not traits.in_training_only


def shape_of(checked: CheckedGraph, node: Node) -> Shape | None:
    return checked.shapes.get(node.id)


def width(checked: CheckedGraph, node: Node) -> int | None:
    """The size of a node's last axis (units of a dense), if known."""
    shape = shape_of(checked, node)
    return shape[-1] if shape else None


def describe(node: Node) -> str:
    """`4 units, no activation`, `32 filters, relu`: what a message says of a learning layer."""
    kind, args = effective(node)
    if "units" in args:
        size = units_text(args["units"])
    elif "filters" in args:
        size = f"{args['filters']} filter{'' if args['filters'] == 1 else 's'}"
    elif "kernel_size" in args:
        size = "x".join(str(k) for k in args["kernel_size"]) + " depthwise"
    else:
        size = kind.name
    return f"{size}, {activation_of(node) or 'no activation'}"


def units_text(units: int) -> str:
    return f"{units} unit{'' if units == 1 else 's'}"


def shape_text(shape: Shape | None) -> str:
    return "?" if shape is None else format_shape(shape)


def via(path: list[Node]) -> str:
    """`directly` or `through batch_normalization, dropout` for the layers between two others."""
    if not path:
        return "directly"
    names = [node.name for node in path[:4]]
    if len(path) > 4:
        names.append(f"{len(path) - 4} more")
    return "through " + ", ".join(names)


def aside(path: list[Node]) -> str:
    """` (through dropout)`, or nothing when no layer stands between two others."""
    return f" ({via(path)})" if path else ""


def known_nodes(checked: CheckedGraph) -> Iterator[Node]:
    """Nodes whose shape is known: an error upstream of a node leaves nothing to judge."""
    for node in checked.graph.nodes:
        if checked.shapes.get(node.id) is not None:
            yield node


def back_through(checked: CheckedGraph, node: Node, keep) -> tuple[Node | None, list[Node]]:
    """Walk back from `node` through single-input nodes for which `keep` holds.

    Returns the first node that does not hold or is a merge (None at the start of the graph) and
    the nodes passed, nearest first.
    """
    graph = checked.graph
    passed: list[Node] = []
    current = node
    while len(current.inputs) == 1:
        previous = graph.node(current.inputs[0])
        if not keep(previous) or len(previous.inputs) != 1:
            return previous, passed
        passed.append(previous)
        current = previous
    return None, passed


def walk_forward(
    checked: CheckedGraph,
    start: Node,
    consumers: Mapping[int, list[int]],
    go_on: Callable[[Node], bool],
) -> Iterator[tuple[Node, list[Node]]]:
    """Breadth-first from `start` along its consumers, through the nodes for which `go_on` holds.

    Yields each other node reached, nearest first, with the nodes passed on the way to it in
    data-flow order. Nodes of unknown shape are neither passed nor yielded.
    """
    graph = checked.graph
    parent: dict[int, int | None] = {}
    queue: deque[tuple[int, int | None]] = deque((i, None) for i in consumers[start.id])
    while queue:
        node_id, came_from = queue.popleft()
        if node_id in parent or checked.shapes.get(node_id) is None:
            continue
        parent[node_id] = came_from
        node = graph.node(node_id)
        if go_on(node):
            queue.extend((c, node_id) for c in consumers[node_id])
        else:
            yield node, _path(graph, parent, came_from)


def _path(graph: Graph, parent: Mapping[int, int | None], last: int | None) -> list[Node]:
    # Parent links rather than a list per queue entry: a long chain stays linear in time.
    path: list[Node] = []
    while last is not None:
        path.append(graph.node(last))
        last = parent[last]
    return path[::-1]


def initializer_name(value: Any) -> str | None:
    """`he_normal` for `he_normal`, `HeNormal` or `he_normal(seed=1)`."""
    name = getattr(value, "name", value)
    return keras_snake_case(name) if isinstance(name, str) else None


@dataclass(frozen=True)
class Head:
    """The end of a model: the output node, the layer that decides its activation, and that."""

    output: Node
    layer: Node  # the activation layer or the learning layer whose activation= decides
    activation: str | None  # None: a linear head (raw scores)
    units: int | None  # the size of the output's last axis


def head(checked: CheckedGraph, output_id: int) -> Head | None:
    """The head of one output, or None when no single layer decides its range (a merge, an LSTM)."""
    output = checked.graph.node(output_id)
    shape = checked.shapes.get(output_id)
    if shape is None:
        return None
    units = shape[-1] if shape else None
    node = output
    while True:
        if is_activation_layer(node) or is_map(node):
            return Head(output, node, activation_of(node), units)
        if len(node.inputs) != 1 or not is_transparent(node):
            return None
        node = checked.graph.node(node.inputs[0])


def heads(checked: CheckedGraph) -> list[Head]:
    found = (head(checked, output_id) for output_id in dict.fromkeys(checked.graph.outputs))
    return [h for h in found if h is not None]


def next_activation(
    checked: CheckedGraph, node: Node, consumers: Mapping[int, list[int]]
) -> str | None:
    """The activation layer that alone takes `node`'s output, through dropout and reshaping."""
    current = node
    while len(consumers[current.id]) == 1:
        current = checked.graph.node(consumers[current.id][0])
        if is_activation_layer(current):
            return activation_of(current)
        if not is_passthrough(current):
            return None
    return None


def learning_before(checked: CheckedGraph, node: Node) -> Node | None:
    """The learning layer that feeds `node` through activations, dropout and normalisation."""
    before, _ = back_through(checked, node, lambda n: not is_learning(n))
    return before if before is not None and is_learning(before) else None


def head_layers(checked: CheckedGraph) -> list[Node]:
    """The learning layers that compute the model's outputs (under their activation, if any)."""
    found: dict[int, Node] = {}  # by id: a model with many outputs stays linear
    for end in heads(checked):
        layer = end.layer if is_learning(end.layer) else learning_before(checked, end.layer)
        if layer is not None:
            found.setdefault(layer.id, layer)
    return list(found.values())
