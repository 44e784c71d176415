"""The Keras 3 target: Python writes each layer's constructor call; keras.py.jinja lays out the
module (imports, one build function per model, Sequential or functional, compile)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Node
from netspec.layers.catalog import CallValue
from netspec.layers.training import canonical_loss
from netspec.targets.base import GenerationError
from netspec.targets.keras.registry import (
    CUSTOM_CLASSES,
    FINALIZES_STATE,
    call_expression,
    keras_value,
    layer_call,
)
from netspec.targets.literals import py_literal

_COMPILE_MODULES = {
    "loss": "keras.losses",
    "optimizer": "keras.optimizers",
    "metrics": "keras.metrics",
    "weighted_metrics": "keras.metrics",
}
# Keras' compile refuses a single metric where these lists belong.
_COMPILE_LISTS = ("metrics", "weighted_metrics")


@dataclass(frozen=True)
class KerasLayer:
    var: str  # the Python variable holding its output (the layer's name)
    constructor: str  # the whole constructor call: `keras.layers.Dense(10, name="dense")`
    inputs: tuple[str, ...]  # variables it is called on
    is_input: bool  # `keras.Input(...)` is the tensor itself: it is not called on anything
    merge: bool  # called on a list of its inputs
    as_arguments: bool = False  # called on its inputs as separate arguments (query, value, key)
    setup: str | None = None  # a statement before its first call: a nested model built once


@dataclass(frozen=True)
class KerasModel:
    name: str
    builder: str
    sequential: bool
    layers: tuple[KerasLayer, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    compile_args: str | None
    custom_classes: tuple[str, ...] = ()  # layer classes the module defines (CUSTOM_CLASSES)
    finalizes_state: bool = False  # holds a layer that must re-read its weights once loaded
    nests: bool = False  # uses another model as a layer: weight keys walk into it

    @property
    def setups(self) -> tuple[str, ...]:
        return tuple(layer.setup for layer in self.layers if layer.setup)

    @property
    def name_literal(self) -> str:
        return py_literal(self.name)


def _layer(node: Node, checked: CheckedGraph, objects: dict[int, str]) -> KerasLayer:
    graph = checked.graph
    if node.submodel is not None:
        # Built once by its own builder; every call of that one model shares its weights.
        first = node.id if node.shares is None else node.shares
        return KerasLayer(
            var=node.name,
            constructor=objects[first],
            inputs=tuple(graph.nodes[i].name for i in node.inputs),
            is_input=False,
            merge=len(node.inputs) > 1,
            setup=(
                f"{objects[first]} = build_{node.submodel.name}()" if node.shares is None else None
            ),
        )
    return KerasLayer(
        var=node.name,
        constructor=layer_call(node.kind, node.args, node.explicit, node.name),
        inputs=tuple(graph.nodes[i].name for i in node.inputs),
        is_input=node.is_input,
        merge=node.kind.is_merge,
        as_arguments=node.kind.inputs_as_arguments,
    )


def _compile_args(checked: CheckedGraph) -> str | None:
    spec = checked.graph.compile
    if spec is None:
        return None
    parts = []
    for key, value in spec.args.items():
        try:
            rendered = _compile_value(key, value)
        except GenerationError as exc:
            raise GenerationError(
                f"{checked.graph.path}: model `{checked.graph.name}`: compile argument `{key}` "
                f"cannot be generated for Keras: {exc.message}"
            ) from None
        parts.append(f"{key}={rendered}")
    return ", ".join(parts)


def _compile_value(key: str, value: Any) -> str:
    module = _COMPILE_MODULES.get(key)
    if key in _COMPILE_LISTS:
        items = value if isinstance(value, tuple) else (value,)
        return "[" + ", ".join(_compile_item(module, v) for v in items) + "]"
    if module is not None and isinstance(value, (str, CallValue)):
        return _compile_item(module, value)
    return keras_value(value)


def _compile_item(module: str | None, value: Any) -> str:
    """One loss, optimizer or metric: a Keras class for a call, a string for a name."""
    if module is None or not isinstance(value, (str, CallValue)):
        return keras_value(value)
    if module == "keras.losses" and isinstance(value, str):
        value = canonical_loss(value)
    return call_expression(module, value)


def model_context(checked: CheckedGraph) -> KerasModel:
    graph = checked.graph
    taken = {n.name for n in graph.nodes}
    objects: dict[int, str] = {}
    for node in graph.nodes:
        if node.submodel is not None and node.shares is None:
            builder = f"build_{node.submodel.name}"
            if builder in taken:  # a layer variable of that name would hide the function
                raise GenerationError(
                    f"{graph.name}: layer `{builder}` hides the builder of the nested model "
                    f"{node.submodel.name} in the Keras module; rename the layer"
                )
            var = f"{node.submodel.name}_model"
            while var in taken:
                var += "_"
            taken.add(var)
            objects[node.id] = var
    layers = tuple(_layer(node, checked, objects) for node in graph.nodes)
    return KerasModel(
        name=graph.name,
        builder=f"build_{graph.name}",
        sequential=graph.is_sequential,
        layers=layers,
        inputs=tuple(graph.nodes[i].name for i in graph.inputs),
        outputs=tuple(graph.nodes[i].name for i in graph.outputs),
        compile_args=_compile_args(checked),
        finalizes_state=any(n.kind.name in FINALIZES_STATE for n in graph.nodes),
        nests=bool(objects),
        custom_classes=tuple(
            sorted(
                {CUSTOM_CLASSES[n.kind.name] for n in graph.nodes if n.kind.name in CUSTOM_CLASSES}
            )
        ),
    )
