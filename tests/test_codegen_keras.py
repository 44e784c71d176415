"""The Keras target: generated code imports, builds, and matches the checker's shapes and counts."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from generated import (
    CASES,
    EXAMPLES,
    checked,
    generate_module,
    make_inputs,
    randomise_keras_weights,
)

from netspec.layers import catalog
from netspec.targets.keras import registry

keras = pytest.importorskip("keras")

SPECS = EXAMPLES + CASES


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_keras_models_match_the_checker(spec_path: Path, tmp_path: Path) -> None:
    module = generate_module(spec_path, "keras", tmp_path)
    for graph_check in checked(spec_path):
        graph = graph_check.graph
        model = getattr(module, f"build_{graph.name}")()
        assert model.name == graph.name
        assert model.count_params() == graph_check.total_params
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert trainable == graph_check.total_trainable
        outputs = model.outputs
        for tensor, node_id in zip(outputs, graph.outputs):
            assert tuple(tensor.shape[1:]) == graph_check.shapes[node_id]
        names = {layer.name for layer in model.layers}
        # A nested model's later uses are calls of its one layer, named by the first use.
        layers = {n.name for n in graph.nodes if not n.is_input and n.shares is None}
        assert layers <= names


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_keras_weights_round_trip_through_the_npz_file(spec_path: Path, tmp_path: Path) -> None:
    module = generate_module(spec_path, "keras", tmp_path)
    rng = np.random.default_rng(0)
    for graph_check in checked(spec_path):
        graph = graph_check.graph
        model = getattr(module, f"build_{graph.name}")()
        randomise_keras_weights(model, rng)
        inputs = make_inputs(graph, rng)
        expected = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        path = tmp_path / f"{graph.name}.npz"
        module.save_npz(model, path)
        keys = set(np.load(path).files)
        weight_names = {
            f"{n.name}/{w.name}" for n in graph.nodes for w in graph_check.weights.get(n.id, [])
        }
        assert keys == weight_names
        fresh = getattr(module, f"build_{graph.name}")()
        module.load_npz(fresh, path)
        again = fresh(inputs if len(inputs) > 1 else inputs[0], training=False)
        for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(again)):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            )


FRONT_END = ("netspec.api", "netspec.language.parser", "netspec.language.lower")


def test_the_keras_target_reads_checked_graphs_only() -> None:
    """No module of the Keras target imports the front end: netspec.api parses and checks."""
    for path in Path(registry.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(FRONT_END), f"{path.name} imports {name}"


def test_a_wrapped_layer_is_written_by_its_own_kinds_generator() -> None:
    lstm = catalog.LayerSpec("lstm", {"units": 8}, "lstm", frozenset())
    wrapper = catalog.lookup("bidirectional")
    call = registry.layer_call(wrapper, {"layer": lstm}, frozenset(), "bidirectional")
    inner = registry.GENERATORS["lstm"](catalog.lookup("lstm"), lstm.args, lstm.explicit, "lstm")
    assert call == f'keras.layers.Bidirectional({inner}, name="bidirectional")'
