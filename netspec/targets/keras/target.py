"""The Keras 3 target: Python computes each layer's constructor arguments; the template lays out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Node
from netspec.layers import catalog
from netspec.layers.base import COMMON_ARGS
from netspec.layers.catalog import CallValue, LayerKind, LayerSpec
from netspec.layers.training import canonical_loss
from netspec.targets.literals import camel, py_literal

# Keras class names that are not the CamelCase of the snake_case name.
_CLASS_NAMES = {
    "l1": "L1",
    "l2": "L2",
    "l1_l2": "L1L2",
    "kl_divergence": "KLDivergence",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adamw": "AdamW",
    "auc": "AUC",
    "mse": "MeanSquaredError",
    "mae": "MeanAbsoluteError",
    "mape": "MeanAbsolutePercentageError",
    "msle": "MeanSquaredLogarithmicError",
    "f1_score": "F1Score",
}
_CALL_MODULES = {
    catalog.ValueKind.INITIALIZER: "keras.initializers",
    catalog.ValueKind.REGULARIZER: "keras.regularizers",
    catalog.ValueKind.CONSTRAINT: "keras.constraints",
}


@dataclass(frozen=True)
class KerasLayer:
    macro: str  # the template macro: the kind's name, `activation` for activation functions
    var: str  # the Python variable holding its output (the layer's name)
    keras_class: str
    args: str  # the constructor's arguments, rendered
    inputs: tuple[str, ...]  # variables it is called on
    merge: bool


@dataclass(frozen=True)
class KerasModel:
    name: str
    builder: str
    sequential: bool
    layers: tuple[KerasLayer, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    compile_args: str | None

    @property
    def name_literal(self) -> str:
        return py_literal(self.name)


def class_name(name: str) -> str:
    return _CLASS_NAMES.get(name.lower(), camel(name))


def call_expression(module: str, value: CallValue | str) -> str:
    """`l2(1e-4)` -> `keras.regularizers.L2(0.0001)`; a bare name stays a string."""
    if isinstance(value, str):
        return py_literal(value)
    args = [keras_value(v) for v in value.args]
    args += [f"{key}={keras_value(v)}" for key, v in value.kwargs]
    return f"{module}.{class_name(value.name)}({', '.join(args)})"


def keras_value(value: Any, arg: catalog.Arg | None = None) -> str:
    if arg is not None and arg.kind is catalog.ValueKind.PADDING_PAIRS and arg.rank == 1:
        # ZeroPadding1D and Cropping1D take one (before, after) pair, not a tuple of pairs.
        return py_literal(value[0])
    if isinstance(value, LayerSpec):
        return layer_constructor(value.kind, value.args, value.explicit, value.name)
    if isinstance(value, CallValue):
        module = _CALL_MODULES.get(arg.kind) if arg is not None else None
        return call_expression(module or "keras", value)
    return py_literal(value)


def constructor_args(
    kind: LayerKind, args: dict[str, Any], explicit: frozenset[str], name: str
) -> str:
    """Required arguments by position, then the explicitly given ones by keyword, then the name."""
    parts: list[str] = []
    if kind.fixed_activation:
        parts.append(py_literal(kind.fixed_activation))
    for arg in (*kind.args, *COMMON_ARGS):
        if arg.name not in explicit and not arg.required:
            continue
        if arg.name not in args:
            continue
        rendered = keras_value(args[arg.name], arg)
        parts.append(rendered if arg.required else f"{arg.name}={rendered}")
    parts.append(f"name={py_literal(name)}")
    return ", ".join(parts)


def layer_constructor(
    kind_name: str, args: dict[str, Any], explicit: frozenset[str], name: str
) -> str:
    kind = catalog.lookup(kind_name)
    assert kind is not None
    return f"keras.layers.{kind.keras_class}({constructor_args(kind, dict(args), explicit, name)})"


def _layer(node: Node, checked: CheckedGraph) -> KerasLayer:
    graph = checked.graph
    kind = node.kind
    if kind.name == "input":
        shape = py_literal(tuple(node.args["shape"]))
        args = (
            f"shape={shape}, dtype={py_literal(node.args['dtype'])}, name={py_literal(node.name)}"
        )
    else:
        args = constructor_args(kind, node.args, node.explicit, node.name)
    return KerasLayer(
        macro="activation" if kind.fixed_activation else kind.name,
        var=node.name,
        keras_class=kind.keras_class,
        args=args,
        inputs=tuple(graph.nodes[i].name for i in node.inputs),
        merge=kind.is_merge,
    )


def _compile_args(checked: CheckedGraph) -> str | None:
    spec = checked.graph.compile
    if spec is None:
        return None
    parts = []
    modules = {"loss": "keras.losses", "optimizer": "keras.optimizers", "metrics": "keras.metrics"}
    for key, value in spec.args.items():
        module = modules.get(key)
        if key == "metrics":
            items = value if isinstance(value, tuple) else (value,)
            rendered = "[" + ", ".join(call_expression("keras.metrics", v) for v in items) + "]"
        elif module is not None and isinstance(value, (str, CallValue)):
            if key == "loss" and isinstance(value, str):
                value = canonical_loss(value)
            rendered = call_expression(module, value)
        else:
            rendered = keras_value(value)
        parts.append(f"{key}={rendered}")
    return ", ".join(parts)


def model_context(checked: CheckedGraph) -> KerasModel:
    graph = checked.graph
    layers = tuple(_layer(node, checked) for node in graph.nodes)
    return KerasModel(
        name=graph.name,
        builder=f"build_{graph.name}",
        sequential=graph.is_sequential,
        layers=layers,
        inputs=tuple(graph.nodes[i].name for i in graph.inputs),
        outputs=tuple(graph.nodes[i].name for i in graph.outputs),
        compile_args=_compile_args(checked),
    )
