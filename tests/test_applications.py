"""The four classic networks of examples/ against the Keras models they describe.

Each spec (examples/vgg16.ns, vgg19.ns, resnet50.ns, mobilenet.ns) must be, layer for layer,
the network that `keras.applications` builds (224x224x3 input, include_top=True, 1000 classes,
`weights=None`, so nothing is downloaded): the same layer classes in the same order, wired the
same way, with the same output shapes, parameter counts and constructor arguments. The tests
never compare layer names: Keras names these layers explicitly (`conv2_block1_1_conv`), and a
netspec block cannot compose names, so most names differ by design.

Keras orders `model.layers` by depth from the output, not by creation; netspec keeps creation
order. `keras_order` applies Keras' rule to a netspec graph, so the sequences compare exactly
(for VGG and MobileNet, plain chains, both orders are the same).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

from netspec import lint_source, load_program  # noqa: E402
from netspec.check.checker import check_graph
from netspec.check.shapes import CheckedGraph  # noqa: E402
from netspec.diagnostics import Severity  # noqa: E402
from netspec.language.ir import Graph  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# spec file -> (keras.applications builder, total params, non-trainable params)
NETWORKS: dict[str, tuple[str, int, int]] = {
    "vgg16": ("VGG16", 138_357_544, 0),
    "vgg19": ("VGG19", 143_667_240, 0),
    "resnet50": ("ResNet50", 25_636_712, 53_120),
    "mobilenet": ("MobileNet", 4_253_864, 21_888),
}

# Constructor arguments compared between each Keras layer's config and the netspec node, when
# both have them (netspec resolves arguments under Keras' names, defaults filled in).
COMPARED_ARGS = (
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "groups",
    "depth_multiplier",
    "activation",
    "use_bias",
    "axis",
    "momentum",
    "epsilon",
    "center",
    "scale",
    "max_value",
    "negative_slope",
    "threshold",
    "pool_size",
    "rate",
    "target_shape",
    "keepdims",
    "data_format",
    "trainable",
)

Row = tuple[str, tuple, int, int]  # (Keras class, shape without batch, params, trainable params)


@dataclass(frozen=True)
class KerasModel:
    """What the tests need of a Keras model, kept as plain data (the model itself is dropped)."""

    rows: list[Row]
    inbound: list[tuple[int, ...]]  # for each layer, the positions of the layers it takes
    configs: list[dict[str, Any]]
    output_shape: tuple
    total: int
    trainable: int


@dataclass(frozen=True)
class SpecModel:
    rows: list[Row]
    inbound: list[tuple[int, ...]]
    args: list[dict[str, Any]]
    output_shape: tuple
    total: int
    trainable: int
    creation_order_is_keras_order: bool


def _keras_history_names(value: Any) -> list[str]:
    """The layer names a config's `inbound_nodes` entry refers to, in argument order."""
    if isinstance(value, dict):
        if "keras_history" in value:
            return [value["keras_history"][0]]
        return [name for item in value.values() for name in _keras_history_names(item)]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _keras_history_names(item)]
    return []


def build_keras(builder: str) -> KerasModel:
    keras.backend.clear_session()
    model = getattr(keras.applications, builder)(weights=None)
    config = model.get_config()
    position = {layer.name: index for index, layer in enumerate(model.layers)}
    layer_configs = {entry["name"]: entry for entry in config["layers"]}
    rows, inbound, configs = [], [], []
    for layer in model.layers:
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        rows.append(
            (type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params(), trainable)
        )
        entry = layer_configs[layer.name]
        names = _keras_history_names(entry.get("inbound_nodes", []))
        inbound.append(tuple(position[name] for name in names))
        configs.append(entry["config"])
    result = KerasModel(
        rows=rows,
        inbound=inbound,
        configs=configs,
        output_shape=tuple(model.output.shape[1:]),
        total=model.count_params(),
        trainable=sum(math.prod(w.shape) for w in model.trainable_weights),
    )
    del model
    keras.backend.clear_session()
    return result


def keras_order(graph: Graph) -> list[int]:
    """The node ids of a graph in the order Keras gives a functional model's `layers`.

    Keras (keras/src/ops/function.py, map_graph) walks depth-first from the outputs, taking each
    node's inputs in argument order, and numbers operations as it first meets them. A node's
    depth is 0 at an output and otherwise one more than the deepest node it feeds. Layers come
    deepest first, ties in the order of that numbering.
    """
    first_seen: dict[int, int] = {}
    finished: list[int] = []  # post-order: every node after its inputs
    done: set[int] = set()
    for output in graph.outputs:
        stack: list[tuple[int, int]] = [(output, 0)]
        while stack:
            node_id, next_input = stack.pop()
            if next_input == 0:
                if node_id in done:
                    continue
                first_seen.setdefault(node_id, len(first_seen))
            inputs = graph.nodes[node_id].inputs
            if next_input < len(inputs):
                stack.append((node_id, next_input + 1))
                if inputs[next_input] not in done:
                    stack.append((inputs[next_input], 0))
            elif node_id not in done:
                done.add(node_id)
                finished.append(node_id)
    depth: dict[int, int] = {}
    for node_id in reversed(finished):
        here = depth.setdefault(node_id, 0)
        for source in graph.nodes[node_id].inputs:
            depth[source] = max(depth.get(source, 0), here + 1)
    return sorted(finished, key=lambda node_id: (-depth[node_id], first_seen[node_id]))


def build_spec(name: str) -> tuple[SpecModel, str]:
    path = EXAMPLES / f"{name}.ns"
    text = path.read_text(encoding="utf-8")
    program = load_program(text, str(path))
    assert not program.diagnostics, [d.message for d in program.diagnostics]
    assert [g.name for g in program.graphs] == [name]
    graph = program.graphs[0]
    checked: CheckedGraph = check_graph(graph)
    assert checked.complete
    order = keras_order(graph)
    position = {node_id: index for index, node_id in enumerate(order)}
    rows: list[Row] = []
    for node_id in order:
        node = graph.nodes[node_id]
        shape = checked.shapes[node_id]
        assert shape is not None
        rows.append(
            (
                node.kind.keras_class,
                tuple(shape),
                checked.params(node_id),
                checked.trainable_params(node_id),
            )
        )
    (output,) = graph.outputs
    spec = SpecModel(
        rows=rows,
        inbound=[tuple(position[i] for i in graph.nodes[n].inputs) for n in order],
        args=[graph.nodes[n].args for n in order],
        output_shape=tuple(checked.shapes[output]),
        total=checked.total_params,
        trainable=checked.total_trainable,
        creation_order_is_keras_order=order == [n.id for n in graph.nodes],
    )
    return spec, text


@pytest.fixture(scope="module", params=list(NETWORKS))
def network(request) -> tuple[str, KerasModel, SpecModel, str]:
    """Each Keras model is built once per module (ResNet50 takes a second or two)."""
    name = request.param
    spec, text = build_spec(name)
    return name, build_keras(NETWORKS[name][0]), spec, text


def test_lints_without_errors(network) -> None:
    name, _, _, text = network
    diagnostics = lint_source(text, f"examples/{name}.ns")
    errors = [d for d in diagnostics if d.severity == Severity.ERROR]
    assert errors == []


def test_lints_without_warnings(network) -> None:
    """A correct, published architecture must not draw design warnings either."""
    name, _, _, text = network
    diagnostics = lint_source(text, f"examples/{name}.ns")
    warnings = [
        (d.code, d.span.line, d.message) for d in diagnostics if d.severity != Severity.INFO
    ]
    assert warnings == []


def test_totals_match_keras(network) -> None:
    name, model, spec, _ = network
    _, total, non_trainable = NETWORKS[name]
    assert model.total == total and model.total - model.trainable == non_trainable
    assert spec.total == model.total
    assert spec.trainable == model.trainable


def test_output_shape_matches_keras(network) -> None:
    _, model, spec, _ = network
    assert model.output_shape == (1000,)
    assert spec.output_shape == model.output_shape


def test_layers_match_keras_layer_for_layer(network) -> None:
    """Same classes, shapes and counts, in Keras' order of `model.layers`."""
    _, model, spec, _ = network
    assert len(spec.rows) == len(model.rows)
    for index, (ours, theirs) in enumerate(zip(spec.rows, model.rows)):
        assert ours == theirs, f"layer {index}"


def test_layers_are_wired_as_in_keras(network) -> None:
    """Each layer takes the same layers as inputs, in the same argument order (add(shortcut, x))."""
    _, model, spec, _ = network
    assert spec.inbound == model.inbound


def test_chains_are_written_in_keras_order(network) -> None:
    """VGG and MobileNet are plain chains: the spec's own order is Keras' order."""
    name, _, spec, _ = network
    if name in ("vgg16", "vgg19", "mobilenet"):
        assert spec.creation_order_is_keras_order


def _normalize(key: str, value: Any, rank: int) -> Any:
    if isinstance(value, list):
        value = tuple(_normalize(key, v, rank) for v in value)
    elif isinstance(value, tuple):
        value = tuple(_normalize(key, v, rank) for v in value)
    if key == "activation" and value is None:
        return "linear"
    if key == "padding" and isinstance(value, str):
        return value.lower()
    if key == "axis" and isinstance(value, int) and value < 0:
        return value + rank
    if key == "data_format" and value is None:
        return keras.config.image_data_format()
    if isinstance(value, int) and key in ("kernel_size", "strides", "pool_size", "dilation_rate"):
        return (value, value)
    return value


def test_layer_arguments_match_keras(network) -> None:
    """Strides, paddings, use_bias, activations, epsilon, ReLU's cap, dropout rate, ..."""
    _, model, spec, _ = network
    compared = 0
    for index, (config, args, row) in enumerate(zip(model.configs, spec.args, model.rows)):
        rank = len(row[1]) + 1
        for key in COMPARED_ARGS:
            if key in config and key in args:
                theirs = _normalize(key, config[key], rank)
                ours = _normalize(key, args[key], rank)
                assert ours == theirs, f"layer {index} ({row[0]}): {key}"
                compared += 1
    assert compared > len(model.rows)


def test_keras_order_of_a_residual_block() -> None:
    """The ordering helper itself, on a graph small enough to check by hand: Keras puts a
    shortcut's layers by depth, between the layers of the longer path."""
    text = """
    model m {
        x = input [8, 8, 4]
        s = x -> conv2d(8, 1)
        h = x -> conv2d(8, 1) -> relu -> conv2d(8, 1)
        add(s, h)
    }
    """
    graph = load_program(text).graphs[0]
    names = [graph.nodes[i].name for i in keras_order(graph)]
    keras.backend.clear_session()
    x = keras.Input((8, 8, 4), name="x")
    s = keras.layers.Conv2D(8, 1, name="conv2d")(x)
    h = keras.layers.Conv2D(8, 1, name="conv2d_1")(x)
    h = keras.layers.ReLU(name="re_lu")(h)
    h = keras.layers.Conv2D(8, 1, name="conv2d_2")(h)
    y = keras.layers.Add(name="add")([s, h])
    reference = keras.Model(x, y)
    assert names == [layer.name for layer in reference.layers]
    assert names == ["x", "conv2d_1", "re_lu", "conv2d", "conv2d_2", "add"]
