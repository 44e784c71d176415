"""Models used as layers: shapes and counts against Keras nesting the same models by hand, one
shared set of weights in every target, the weight file's nested keys, and the diagnostics of
nesting gone wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from generated import (
    import_generated,
    make_inputs,
    randomise_keras_weights,
    to_spec_layout,
    to_torch_layout,
)

from netspec.api import checked_models, generate_source, lint_source
from netspec.app.summary import summarize

keras = pytest.importorskip("keras")

SIAMESE = """
model tower {
    input [None, 8]
    conv1d(6, 3, activation=relu)
    batch_norm
    lstm(5)
}

model siamese {
    a = input [10, 8]
    b = input [12, 8]
    ea = a -> tower
    eb = tower()(b)
    ops.abs(ea - eb) -> dense(1, sigmoid)
}
"""

AUTOENCODER = """
model block_stack {
    input [8, 8, 3]
    conv2d(4, 3, padding=same, use_bias=false)
    batch_norm(trainable=false)
    relu
}

model encoder {
    input [8, 8, 3]
    block_stack
    max_pool2d(2)
    flatten
    dense(6, relu, name="code")
}

model decoder {
    input [6]
    dense(8 * 8 * 3, sigmoid)
    reshape((8, 8, 3))
}

model autoencoder {
    input [8, 8, 3]
    encoder
    decoder
}
"""


def keras_siamese():
    """The siamese network as Keras code nests one functional model twice."""
    layers = keras.layers
    x = keras.Input((None, 8))
    h = layers.Conv1D(6, 3, activation="relu")(x)
    h = layers.BatchNormalization()(h)
    tower = keras.Model(x, layers.LSTM(5)(h), name="tower")
    a, b = keras.Input((10, 8)), keras.Input((12, 8))
    d = keras.ops.abs(tower(a) - tower(b))
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid")(d), name="siamese")


def keras_autoencoder():
    layers = keras.layers
    x = keras.Input((8, 8, 3))
    h = layers.Conv2D(4, 3, padding="same", use_bias=False)(x)
    h = layers.BatchNormalization(trainable=False)(h)
    stack = keras.Model(x, layers.ReLU()(h), name="block_stack")
    x = keras.Input((8, 8, 3))
    h = layers.Flatten()(layers.MaxPooling2D(2)(stack(x)))
    encoder = keras.Model(x, layers.Dense(6, activation="relu")(h), name="encoder")
    x = keras.Input((6,))
    decoder = keras.Model(
        x, layers.Reshape((8, 8, 3))(layers.Dense(192, activation="sigmoid")(x)), name="decoder"
    )
    x = keras.Input((8, 8, 3))
    return keras.Model(x, decoder(encoder(x)), name="autoencoder")


def by_name(text: str):
    return {c.graph.name: c for c in checked_models(text, "nested.ns")}


def trainable_count(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize(
    ("text", "name", "build"),
    [(SIAMESE, "siamese", keras_siamese), (AUTOENCODER, "autoencoder", keras_autoencoder)],
    ids=["siamese", "autoencoder"],
)
def test_counts_and_shapes_match_keras_nesting_by_hand(text, name, build) -> None:
    assert lint_source(text, "nested.ns") == []
    checked = by_name(text)[name]
    model = build()
    assert checked.total_params == model.count_params()
    assert checked.total_trainable == trainable_count(model)
    for tensor, node_id in zip(model.outputs, checked.graph.outputs):
        assert tuple(tensor.shape[1:]) == checked.shapes[node_id]
    # A nested model used twice is one layer: one row, its parameters counted once.
    rows = [row for row in summarize(checked).rows if row.keras_class == "Functional"]
    nested = {layer.name: layer for layer in model.layers if isinstance(layer, keras.Model)}
    assert sorted(row.name for row in rows) == sorted(nested)
    for row in rows:
        assert row.params == nested[row.name].count_params()


def test_a_nested_models_unknown_sizes_take_the_sizes_it_is_applied_to() -> None:
    checked = by_name(SIAMESE)["siamese"]
    graph = checked.graph
    uses = [n for n in graph.nodes if n.submodel is not None]
    assert [n.name for n in uses] == ["tower", "tower_use2"]
    assert uses[1].shares == uses[0].id
    # conv1d(6, 3) over 10 and 12 steps: Keras gives the same model (8, 6) and (10, 6) inside.
    x = keras.Input((None, 8))
    inner = keras.layers.Conv1D(6, 3)
    tower = keras.Model(x, inner(x))
    for length in (10, 12):
        assert tower(keras.Input((length, 8))).shape[1:] == (length - 2, 6)
    text = SIAMESE.replace("lstm(5)", "flatten")
    fixed = by_name(text)["siamese"]
    shapes = [fixed.shapes[n.id] for n in fixed.graph.nodes if n.submodel is not None]
    assert shapes == [(8 * 6,), (10 * 6,)]


def test_the_weights_are_counted_once_and_keyed_below_the_models_name() -> None:
    checked = by_name(SIAMESE)["siamese"]
    keys = [
        f"{n.name}/{w.name}" for n in checked.graph.nodes for w in checked.weights.get(n.id, [])
    ]
    assert keys == [
        "tower/conv1d/kernel",
        "tower/conv1d/bias",
        "tower/batch_normalization/gamma",
        "tower/batch_normalization/beta",
        "tower/batch_normalization/moving_mean",
        "tower/batch_normalization/moving_variance",
        "tower/lstm/lstm_cell/kernel",
        "tower/lstm/lstm_cell/recurrent_kernel",
        "tower/lstm/lstm_cell/bias",
        "dense/kernel",
        "dense/bias",
    ]


@pytest.mark.parametrize("text", [SIAMESE, AUTOENCODER], ids=["siamese", "autoencoder"])
def test_three_targets_agree_on_shared_random_weights(text: str, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    modules = {
        t: import_generated(generate_source(text, "nested.ns", t), tmp_path, t)
        for t in ("keras", "torch", "numpy")
    }
    rng = np.random.default_rng(0)
    for checked in checked_models(text, "nested.ns"):
        graph = checked.graph
        model = getattr(modules["keras"], f"build_{graph.name}")()
        assert model.count_params() == checked.total_params
        randomise_keras_weights(model, rng)
        path = tmp_path / f"{graph.name}.npz"
        modules["keras"].save_npz(model, path)
        expected_keys = {
            f"{n.name}/{w.name}" for n in graph.nodes for w in checked.weights.get(n.id, [])
        }
        assert set(np.load(path).files) == expected_keys
        inputs = make_inputs(graph, rng)
        want = keras.ops.convert_to_numpy(
            model(inputs if len(inputs) > 1 else inputs[0], training=False)
        )
        cls = "".join(part.capitalize() for part in graph.name.split("_"))
        torch_model = getattr(modules["torch"], cls)()
        modules["torch"].load_npz(torch_model, path)
        torch_model.eval()
        # One module per nested model, however often it is used: no other copy of its weights.
        nested = [m for m in torch_model.children() if hasattr(m, "KERAS_WEIGHTS")]
        assert len(nested) == len({n.submodel.name for n in graph.nodes if n.submodel})
        with torch.no_grad():
            got_torch = to_spec_layout(torch_model(*[to_torch_layout(x) for x in inputs]))
        numpy_model = getattr(modules["numpy"], cls)()
        modules["numpy"].load_npz(numpy_model, path)
        got_numpy = numpy_model(*inputs)
        scale = max(1.0, float(np.abs(want).max()))
        assert float(np.abs(got_torch - want).max()) / scale <= 1e-4, graph.name
        assert float(np.abs(got_numpy - want).max()) / scale <= 1e-4, graph.name
        # torch's state_dict keys follow the file's nested keys.
        if graph.name == "siamese":
            state = set(torch_model.state_dict())
            assert "tower.conv1d.weight" in state and "dense.weight" in state
        # Saved again by torch and numpy, the file loads back into Keras unchanged.
        again = tmp_path / f"{graph.name}_again.npz"
        modules["numpy"].save_npz(numpy_model, again)
        fresh = getattr(modules["keras"], f"build_{graph.name}")()
        modules["keras"].load_npz(fresh, again)
        back = keras.ops.convert_to_numpy(
            fresh(inputs if len(inputs) > 1 else inputs[0], training=False)
        )
        np.testing.assert_allclose(back, want, rtol=1e-5, atol=1e-6)


def test_generating_one_model_brings_the_models_it_nests() -> None:
    source = generate_source(AUTOENCODER, "nested.ns", "keras", "autoencoder")
    for name in ("block_stack", "encoder", "decoder", "autoencoder"):
        assert f"def build_{name}()" in source
    source = generate_source(AUTOENCODER, "nested.ns", "keras", "decoder")
    assert "def build_encoder()" not in source


def codes_at(text: str) -> list[tuple[int, str]]:
    return [(d.span.line, d.code) for d in lint_source(text, "bad.ns")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model a {\n input [4]\n a\n}\n", [(3, "NS011")]),
        (
            "model a {\n input [4]\n b\n}\nmodel b {\n input [4]\n c\n}\n"
            "model c {\n input [4]\n a\n}\n",
            [(11, "NS011")],
        ),
        (
            "model two {\n x = input [4]\n p = x -> dense(2)\n q = x -> dense(3)\n output p, q\n}\n"
            "model m {\n input [4]\n two\n}\n",
            [(9, "NS021")],
        ),
        ("model t {\n input [4]\n dense(2)\n}\nmodel m {\n input [4]\n t(3)\n}\n", [(7, "NS006")]),
        (
            "model t {\n input [5, 3]\n flatten\n}\nmodel m {\n input [6, 3]\n t\n dense(1)\n}\n",
            [(7, "NS102")],
        ),
        (
            "model t {\n input [4]\n dense(2)\n}\nmodel m {\n x = input [4]\n y = x -> t\n"
            ' z = x -> dense(2, name="t")\n output y, z\n}\n',
            [(8, "NS014")],
        ),
    ],
    ids=["itself", "through-others", "several-outputs", "arguments", "sizes", "name-taken"],
)
def test_nesting_gone_wrong_is_a_diagnostic_at_its_place(text: str, expected) -> None:
    found = codes_at(text)
    for item in expected:
        assert item in found, found


def test_the_editor_goes_to_a_nested_models_definition_and_hovers_its_use() -> None:
    from netspec.app.lsp_features import analyze, definition, hover

    analysis = analyze(SIAMESE, "nested.ns")
    lines = SIAMESE.split("\n")
    model_line = next(i for i, line in enumerate(lines) if line.startswith("model tower")) + 1
    uses = [
        (i + 1, line) for i, line in enumerate(lines) if "tower" in line and "model" not in line
    ]
    assert len(uses) == 2
    for number, line in uses:
        target = definition(analysis, (number, line.index("tower") + 2))
        assert target is not None and (target.line, target.column) == (model_line, 7)
    first, second = (hover(analysis, (n, line.index("tower") + 2)) for n, line in uses)
    params = keras_siamese().get_layer("tower").count_params()
    assert first is not None and f"tower: Functional -> (None, 5), {params:,} params" in first
    assert second is not None and f"the weights of its use at line {uses[0][0]}" in second


def test_a_layer_named_as_a_nested_models_builder_is_refused_for_keras() -> None:
    from netspec.targets.base import GenerationError

    text = AUTOENCODER.replace(
        "    decoder\n}", '    decoder\n    dense(2, name="build_decoder")\n}'
    )
    with pytest.raises(GenerationError, match="build_decoder"):
        generate_source(text, "nested.ns", "keras", "autoencoder")
    assert generate_source(text, "nested.ns", "numpy", "autoencoder")
