"""Models used as layers: each model of a file is lowered once, on demand, so that another model
can nest it as Keras nests a functional model (one layer, its weights shared by every use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netspec import codes
from netspec.language.ir import Graph
from netspec.layers.base import LayerKind, Shape, ShapeError, Weight
from netspec.layers.common import format_shape
from netspec.layers.traits import PLAIN, Linearity, but

# A nested model is opaque to the rules: what it computes is checked in its own model.
NESTED_TRAITS = but(PLAIN, linearity=Linearity.NONLINEAR)
NESTED_CLASS = "Functional"


class ModelLibrary:
    """The graphs of a file's models by name, each lowered the first time it is asked for.
    `lower_one(name)` lowers one model (it may ask the library for the models it nests)."""

    def __init__(self, names: list[str], lower_one: Callable[[str], Graph]) -> None:
        self.names = set(names)
        self.lower_one = lower_one
        self.graphs: dict[str, Graph] = {}
        self.active: list[str] = []  # the models being lowered, outermost first

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def cycle(self, name: str) -> tuple[str, ...] | None:
        """The chain of models that uses `name` inside itself, if nesting it here would."""
        if name not in self.active:
            return None
        return (*self.active[self.active.index(name) :], name)

    def graph(self, name: str) -> Graph:
        found = self.graphs.get(name)
        if found is None:
            self.active.append(name)
            try:
                found = self.graphs[name] = self.lower_one(name)
            finally:
                self.active.pop()
        return found


def nested_kind(graph: Graph, *, first_use: bool) -> LayerKind:
    """The kind of one use of `graph` as a layer. Its shape is the model's output re-derived
    from the value it is applied to; its weights belong to the first use only (every use
    shares them), keyed below the model's name."""

    def infer(inputs: list[Shape], args: Any) -> Shape:
        return nested_outputs(graph, inputs)[0]

    def weights(inputs: list[Shape], args: Any) -> list[Weight]:
        if not first_use:
            return []
        return nested_weights(graph, inputs)

    count = len(graph.inputs)
    return LayerKind(
        name=graph.name,
        keras_class=NESTED_CLASS,
        args=(),
        infer=infer,
        weights=weights,
        category="model",
        summary=f"the model {graph.name}, used as a layer",
        min_inputs=count,
        max_inputs=count,
        traits=NESTED_TRAITS,
    )


def nested_shapes(graph: Graph, inputs: list[Shape]) -> dict[int, Shape]:
    """Every node's shape in `graph` applied to values of shapes `inputs`: its input's `None`
    sizes take the given sizes, as Keras re-derives a nested model's shapes."""
    if len(inputs) != len(graph.inputs):
        raise ShapeError(
            f"model {graph.name} takes {len(graph.inputs)} values, got {len(inputs)}",
            code=codes.MERGE_ARITY,
        )
    shapes: dict[int, Shape] = {}
    for node_id, given in zip(graph.inputs, inputs):
        node = graph.nodes[node_id]
        declared = tuple(node.args["shape"])
        fits = len(declared) == len(given) and all(
            d is None or g is None or d == g for d, g in zip(declared, given)
        )
        if not fits:
            raise ShapeError(
                f"model {graph.name} takes {format_shape(declared)} at its input "
                f"`{node.name}`, got {format_shape(given)}"
            )
        shapes[node_id] = tuple(d if g is None else g for d, g in zip(declared, given))
    if not graph.complete or not graph.outputs:
        raise ShapeError(f"model {graph.name} has errors of its own; fix them first")
    for node in graph.nodes:
        if node.id in shapes:
            continue
        if not node.valid:
            raise ShapeError(f"model {graph.name} has errors of its own; fix them first")
        known = [shapes[i] for i in node.inputs]
        try:
            shapes[node.id] = node.kind.infer(known, node.args)
        except ShapeError as exc:
            raise ShapeError(
                f"inside model {graph.name}, {node.name}: {exc.message}", code=exc.code
            ) from None
    return shapes


def nested_outputs(graph: Graph, inputs: list[Shape]) -> list[Shape]:
    shapes = nested_shapes(graph, inputs)
    return [shapes[i] for i in graph.outputs]


def nested_weights(graph: Graph, inputs: list[Shape]) -> list[Weight]:
    """The model's weights in creation order, keyed `layer/weight` below the model's name."""
    shapes = nested_shapes(graph, inputs)
    found: list[Weight] = []
    for node in graph.nodes:
        if node.is_input:
            continue
        frozen = node.args.get("trainable") is False
        for weight in node.kind.weights([shapes[i] for i in node.inputs], node.args):
            found.append(
                Weight(f"{node.name}/{weight.name}", weight.shape, weight.trainable and not frozen)
            )
    return found
