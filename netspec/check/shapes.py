"""Shape and weight inference: every node's output shape and weights from the layer catalog."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from netspec import codes
from netspec.diagnostics import Diagnostic, DiagnosticSink, Note
from netspec.language.ir import Graph, Node
from netspec.language.scope import block_notes
from netspec.layers.catalog import LayerSpec, Shape, ShapeError, Weight
from netspec.layers.common import format_shape, product

# A weight larger than this (float32: 64 GiB) cannot be built on any machine netspec targets.
MAX_WEIGHT_ELEMENTS = 2**34
# Nor an output of more than this many values for one example (float32: 8 GiB).
MAX_OUTPUT_ELEMENTS = 2**31


@dataclass
class CheckedGraph:
    """A graph with its inferred shapes and weights; None where a node's shape is unknown."""

    graph: Graph
    shapes: dict[int, Shape | None] = field(default_factory=dict)
    weights: dict[int, list[Weight]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def params(self, node_id: int) -> int:
        return sum(w.size for w in self.weights.get(node_id, []))

    def trainable_params(self, node_id: int) -> int:
        return sum(w.size for w in self.weights.get(node_id, []) if w.trainable)

    @property
    def total_params(self) -> int:
        return sum(self.params(n.id) for n in self.graph.nodes)

    @property
    def total_trainable(self) -> int:
        return sum(self.trainable_params(n.id) for n in self.graph.nodes)

    @property
    def complete(self) -> bool:
        """Every node's shape is known: counts are exact."""
        return self.graph.complete and all(s is not None for s in self.shapes.values())

    def input_shapes(self, node: Node) -> list[Shape | None]:
        return [self.shapes.get(i) for i in node.inputs]


def infer_shapes(graph: Graph, sink: DiagnosticSink) -> CheckedGraph:
    """Shapes and weights of every node. Once a value's shape is unknown (an error upstream),
    nothing that depends on it is reported again."""
    checked = CheckedGraph(graph)
    oversized: set[int] = set()
    for node in graph.nodes:
        checked.shapes[node.id] = None
        if not node.valid:
            continue
        inputs = checked.input_shapes(node)
        if any(shape is None for shape in inputs):
            continue
        known: list[Shape] = [s for s in inputs if s is not None]
        try:
            shape = node.kind.infer(known, node.args)
            weights = node.kind.weights(known, node.args)
        except ShapeError as exc:
            _report(sink, checked, node, exc)
            continue
        if node.args.get("trainable") is False:
            weights = [Weight(w.name, w.shape, False) for w in weights]
        # Sizes that cannot be built are reported, and checking goes on with the shapes: the
        # arithmetic is still exact, and what follows may have problems of its own.
        huge = next((w for w in weights if w.size > MAX_WEIGHT_ELEMENTS), None)
        if huge is not None:
            sink.error(
                codes.WEIGHT_TOO_LARGE,
                f"{node.name}: weight `{huge.name}` of shape {huge.shape} has {_count(huge.size)} "
                "values; it cannot be built",
                node.span,
                notes=block_notes(node.origin),
            )
        size = product(shape)
        if size is not None and size > MAX_OUTPUT_ELEMENTS:
            oversized.add(node.id)
            if not oversized.intersection(
                node.inputs
            ):  # report where it starts, not each layer after
                sink.error(
                    codes.WEIGHT_TOO_LARGE,
                    f"{node.name}: its output {format_shape(shape)} holds {_count(size)} values per "
                    "example; it cannot be built",
                    node.span,
                    notes=block_notes(node.origin),
                )
        checked.shapes[node.id] = shape
        checked.weights[node.id] = weights
    return checked


def _count(n: int) -> str:
    """`5.53e+19` for a count of values; one past a float's range (1e308) as a power of ten, as
    float() would overflow on it."""
    if n < 10**300:
        return f"{n:.3g}"
    return f"about 10^{math.floor(math.log10(n))}"


def _report(sink: DiagnosticSink, checked: CheckedGraph, node: Node, exc: ShapeError) -> None:
    span = node.arg_spans.get(exc.argument, node.span) if exc.argument else node.span
    message, notes, help = layer_message(node, exc.message), block_notes(node.origin), None
    feeder = _last_step_only(checked, node) if exc.code == codes.RNN_NEEDS_SEQUENCE else None
    if feeder is not None:
        # Name the recurrent layer to change, rather than the general advice of the catalog.
        asked = exc.message.partition("; ")[0]
        message = layer_message(node, f"{asked}: {feeder.name} before it gives only its last step")
        notes = (Note(f"{feeder.name} is here", feeder.span), *notes)
        inner = feeder.args.get("layer")
        where = (
            f"the {inner.kind} inside {feeder.name}"
            if isinstance(inner, LayerSpec)
            else feeder.name
        )
        help = f"set return_sequences=true on {where}"
    sink.error(exc.code, message, span, notes=notes, help=help)


def _last_step_only(checked: CheckedGraph, node: Node) -> Node | None:
    """The recurrent layer without return_sequences that feeds `node`, through layers that keep
    their input's shape (dropout, activations, normalisation), if one does."""
    graph = checked.graph
    current = node
    while len(current.inputs) == 1:
        before = graph.node(current.inputs[0])
        inner = before.args.get("layer")
        args = inner.args if isinstance(inner, LayerSpec) else before.args
        if before.kind.traits.recurrent or "return_sequences" in args:
            return before if args.get("return_sequences") is False else None
        shape = checked.shapes.get(before.id)
        if len(before.inputs) != 1 or shape != checked.shapes.get(before.inputs[0]):
            return None
        current = before
    return None


def layer_message(node: Node, message: str) -> str:
    """`conv2d_1: window 5x5 ...`; a message that starts with the kind (`gru needs ...`) names
    the layer in its place: `gru_1 (gru) needs ...`, or `gru needs ...` when the two are one."""
    kind = node.kind.name
    if message.startswith(kind + " "):
        rest = message[len(kind) :]
        return f"{node.name}{rest}" if node.name == kind else f"{node.name} ({kind}){rest}"
    return f"{node.name}: {message}"


def describe_shape(shape: Shape | None) -> str:
    return "?" if shape is None else format_shape(shape)
