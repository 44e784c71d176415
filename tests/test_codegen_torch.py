"""The PyTorch target: generated modules import, build, and compute what the Keras ones compute.

For every example and case spec: generate both targets, give the Keras model random weights, save
them with Keras' save_npz, load them into torch with load_npz, run the same input (images
channels first for torch) and compare; then torch's save_npz must give back Keras' arrays.
"""

from __future__ import annotations

import re
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
    reread_statistics,
    to_spec_layout,
    to_torch_layout,
)

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from netspec.api import generate_source
from netspec.language.names import camel_case  # noqa: E402
from netspec.targets.base import GenerationError  # noqa: E402

SPECS = EXAMPLES + [p for p in CASES if not p.stem.startswith("np_")]
DEEP = {"vgg16", "vgg19", "resnet50", "mobilenet"}  # big nets: a batch of 1, tolerance 1e-4
LARGEST: dict[str, float] = {}  # spec -> the largest relative difference measured


def keepable_scale(model, rng: np.random.Generator) -> None:
    """randomise_keras_weights, then kernels scaled by 1/sqrt(fan in) so that deep nets keep
    activations of order 1 (uniform(-0.5, 0.5) weights overflow VGG's float32 logits)."""
    randomise_keras_weights(model, rng)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if len(shape) >= 2 and not variable.path.endswith("embeddings"):
            fan_in = int(np.prod(shape[:-1]))
            values = keras.ops.convert_to_numpy(variable) * np.sqrt(12.0 / fan_in)
            variable.assign(values.astype(variable.dtype))
    reread_statistics(model)


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_torch_matches_keras(spec_path: Path, tmp_path: Path) -> None:
    assert_torch_matches_keras(spec_path, tmp_path)


def assert_torch_matches_keras(spec_path: Path, tmp_path: Path) -> None:
    keras_module = generate_module(spec_path, "keras", tmp_path)
    torch_module = generate_module(spec_path, "torch", tmp_path)
    rng = np.random.default_rng(0)
    deep = spec_path.stem in DEEP
    for graph_check in checked(spec_path):
        graph = graph_check.graph
        keras_model = getattr(keras_module, f"build_{graph.name}")()
        keepable_scale(keras_model, rng)
        inputs = make_inputs(graph, rng, batch=1 if deep else 2)
        expected = keras_model(inputs if len(inputs) > 1 else inputs[0], training=False)
        expected = [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(expected)]
        keras_file = tmp_path / f"{graph.name}.keras.npz"
        keras_module.save_npz(keras_model, keras_file)

        model = getattr(torch_module, camel_case(graph.name))()
        model.eval()
        torch_module.load_npz(model, keras_file)
        with torch.no_grad():
            outputs = model(*[to_torch_layout(x) for x in inputs])
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        assert len(outputs) == len(graph.outputs) == len(expected)
        tolerance = 1e-4 if deep else 1e-5
        for output, node_id, want in zip(outputs, graph.outputs, expected):
            got = to_spec_layout(output)
            shape = graph_check.shapes[node_id]
            assert got.shape[0] == inputs[0].shape[0] and len(got.shape) == len(shape) + 1
            assert all(g == s for g, s in zip(got.shape[1:], shape) if s is not None)
            assert got.shape == want.shape
            scale = max(1.0, float(np.abs(want).max()))
            difference = float(np.abs(got - want).max()) / scale
            LARGEST[spec_path.stem] = max(LARGEST.get(spec_path.stem, 0.0), difference)
            assert difference <= tolerance, f"{graph.name}: relative difference {difference:.3g}"

        torch_file = tmp_path / f"{graph.name}.torch.npz"
        torch_module.save_npz(model, torch_file)
        with np.load(keras_file) as saved, np.load(torch_file) as again:
            assert set(saved.files) == set(again.files)
            for key in saved.files:
                np.testing.assert_array_equal(again[key], saved[key], err_msg=key)
        keras_module.load_npz(keras_model, torch_file)


def test_generated_code_is_deterministic_and_idiomatic() -> None:
    spec = Path(__file__).resolve().parent.parent / "examples" / "mnist_convnet.ns"
    text = spec.read_text(encoding="utf-8")
    first = generate_source(text, spec.name, "torch")
    assert first == generate_source(text, spec.name, "torch")
    assert "class MnistConvnet(nn.Module):" in first
    assert "self.conv2d = nn.Conv2d(1, 32, 3)" in first
    assert "x: (N, 1, 28, 28) float32" in first
    # Flatten in Keras' (h, w, c) order, so that the dense weight is kernel.T.
    assert "x = x.permute(0, 2, 3, 1).flatten(1)" in first
    assert re.search(r"def mnist_convnet_loss\(\):", first)


# ---- training: losses, optimizers, initializers --------------------------------------------

CASES_DIR = Path(__file__).resolve().parent / "codegen_cases"


def _targets(name: str, output: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Targets that fit each model of training.ns."""
    if name in ("logits_sparse", "sparse_probabilities"):
        return rng.integers(0, output.shape[-1], size=output.shape[:-1]).astype("int64")
    if name == "segmentation":
        return rng.integers(0, output.shape[-1], size=output.shape[:-1]).astype("int64")
    if name == "probabilities":
        return np.eye(output.shape[-1], dtype="float32")[
            rng.integers(0, output.shape[-1], len(output))
        ]
    if name in ("binary", "binary_logits"):
        return rng.integers(0, 2, size=output.shape).astype("float32")
    if name == "counts":
        return rng.poisson(2.0, size=output.shape).astype("float32")
    return rng.normal(size=output.shape).astype("float32")


@pytest.fixture(scope="module")
def training_modules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training")
    spec = CASES_DIR / "training.ns"
    return (
        generate_module(spec, "keras", folder),
        generate_module(spec, "torch", folder),
        {c.graph.name: c for c in checked(spec)},
        folder,
    )


def _same_start(keras_module, torch_module, name: str, folder: Path, rng):
    keras_model = getattr(keras_module, f"build_{name}")()
    keepable_scale(keras_model, rng)
    keras_module.save_npz(keras_model, folder / f"{name}.npz")
    model = getattr(torch_module, camel_case(name))()
    torch_module.load_npz(model, folder / f"{name}.npz")
    return keras_model, model


TRAINED = [
    "logits_sparse", "probabilities", "sparse_probabilities", "binary", "binary_logits",
    "segmentation", "counts", "squares",
]  # fmt: skip


@pytest.mark.parametrize("name", TRAINED + ["regression"])
def test_losses_match_keras(training_modules, name: str) -> None:
    keras_module, torch_module, graphs, folder = training_modules
    rng = np.random.default_rng(1)
    keras_model, model = _same_start(keras_module, torch_module, name, folder, rng)
    (x,) = make_inputs(graphs[name].graph, rng, batch=4)
    y_pred = keras.ops.convert_to_numpy(keras_model(x))
    target = _targets(name, y_pred, rng)
    want = float(
        keras_model.compute_loss(x=x, y=target, y_pred=keras.ops.convert_to_tensor(y_pred))
    )
    prediction = to_torch_layout(y_pred)
    label = torch.from_numpy(target)
    if label.ndim == 4:
        label = label.permute(0, 3, 1, 2)
    got = float(getattr(torch_module, f"{name}_loss")()(prediction, label))
    assert got == pytest.approx(want, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", TRAINED)
def test_optimizer_steps_match_keras(training_modules, name: str) -> None:
    keras_module, torch_module, graphs, folder = training_modules
    rng = np.random.default_rng(2)
    keras_model, model = _same_start(keras_module, torch_module, name, folder, rng)
    loss = getattr(torch_module, f"{name}_loss")()
    optimizer = getattr(torch_module, f"{name}_optimizer")(model)
    model.train()
    for _ in range(3):
        (x,) = make_inputs(graphs[name].graph, rng, batch=8)
        target = _targets(name, keras.ops.convert_to_numpy(keras_model(x)), rng)
        keras_model.train_on_batch(x, target)
        optimizer.zero_grad()
        label = torch.from_numpy(target)
        loss(model(to_torch_layout(x)), label).backward()
        optimizer.step()
    keras_module.save_npz(keras_model, folder / f"{name}.keras-trained.npz")
    torch_module.save_npz(model, folder / f"{name}.torch-trained.npz")
    with (
        np.load(folder / f"{name}.keras-trained.npz") as want,
        np.load(folder / f"{name}.torch-trained.npz") as got,
    ):
        for key in want.files:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_unmappable_losses_and_optimizers_are_left_out_with_a_reason() -> None:
    source = generate_source((CASES_DIR / "training.ns").read_text(), "training.ns", "torch")
    assert "# No regression_optimizer(): optimizer `rmsprop`: Keras adds epsilon inside" in source
    assert "# No absolute_optimizer(): optimizer `adagrad`" in source
    assert "# No margins_loss(): loss `hinge`" in source
    assert "def margins_optimizer(module):" in source


def test_fresh_models_draw_from_keras_initializers(tmp_path: Path) -> None:
    spec = CASES_DIR / "initializers.ns"
    keras_module = generate_module(spec, "keras", tmp_path)
    torch_module = generate_module(spec, "torch", tmp_path)
    keras.utils.set_random_seed(0)
    for name in ("initializers", "embeddings"):
        keras_module.save_npz(getattr(keras_module, f"build_{name}")(), tmp_path / "k.npz")
        torch.manual_seed(0)
        model = getattr(torch_module, camel_case(name))()
        torch_module.save_npz(model, tmp_path / "t.npz")
        with np.load(tmp_path / "k.npz") as want, np.load(tmp_path / "t.npz") as got:
            assert set(got.files) == set(want.files)
            for key in want.files:
                a, b = got[key].astype("float64"), want[key].astype("float64")
                if b.std() == 0:
                    np.testing.assert_array_equal(a, b, err_msg=key)
                    continue
                spread = 4 / np.sqrt(b.size)  # four standard errors of two samples' statistics
                assert a.std() == pytest.approx(b.std(), rel=spread), key
                assert abs(a.mean() - b.mean()) < spread * 1.5 * b.std(), key
    frozen = torch_module.Initializers().frozen
    assert not any(p.requires_grad for p in frozen.parameters())


# ---- what the target refuses, and why -------------------------------------------------------

REFUSED = {
    "channels_first": (
        "input [3, 8, 8]\nconv2d(4, 3, data_format=channels_first)",
        "data_format=channels_first is not supported by the torch target",
    ),
    "gru_reset_before": (
        "input [5, 3]\ngru(4, reset_after=false)",
        "reset_after=false has no torch equivalent",
    ),
    "lstm_activation": (
        "input [5, 3]\nlstm(4, activation=relu)",
        "torch's nn.LSTM uses tanh and sigmoid",
    ),
    "recurrent_dropout": (
        "input [5, 3]\nlstm(4, recurrent_dropout=0.2)",
        "recurrent_dropout has no torch equivalent",
    ),
    "masked_lstm": (
        "input [5, 3]\nmasking\nlstm(4)",
        "lstm: the mask made by `masking` reaches this lstm layer",
    ),
    "masked_embedding": (
        "input [5] int32\nembedding(10, 4, mask_zero=true)\ndense(3)\nglobal_avg_pool1d",
        "the mask made by `embedding` reaches this global_avg_pool1d layer",
    ),
    "bicubic": (
        "input [4, 4, 2]\nupsampling2d(interpolation=bicubic)",
        "interpolation=bicubic has no exact torch equivalent",
    ),
    "bidirectional_dropout": (
        "input [5, 3]\nbidirectional(lstm(4, dropout=0.2))",
        "Keras draws a separate input mask per direction",
    ),
    "renorm": (
        "input [4]\nbatch_norm(renorm=true)",
        "batch renormalization (renorm=true) has no torch equivalent",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_torch_cannot_express_raises_a_clear_error(case: str) -> None:
    body, message = REFUSED[case]
    text = f"model refused {{\n{body}\n}}\n"
    with pytest.raises(GenerationError) as error:
        generate_source(text, "refused.ns", "torch")
    assert message in str(error.value)


def test_masking_alone_is_generated() -> None:
    text = "model m {\n input [5, 3]\n masking(0.0)\n dense(2)\n}\n"
    assert "x = x * (x != 0.0).any(dim=-1, keepdim=True)" in generate_source(text, "m.ns", "torch")


# Keras' compute_mask hands no mask on from dot, nor from an element-wise merge of a masked and
# an unmasked input: what follows them computes as torch does.
MASK_STOPPED = {
    "dot": "a = x -> masking\n b = x -> dense(3)\n c = dot(a, b, axes=2)\n y = c -> softmax",
    "merge": "a = x -> masking\n b = x -> dense(3)\n c = add(a, b)\n y = c -> lstm(4)",
}


@pytest.mark.parametrize("case", sorted(MASK_STOPPED))
def test_a_mask_that_stops_before_its_reader_is_generated(case: str, tmp_path: Path) -> None:
    spec = tmp_path / f"{case}.ns"
    spec.write_text(f"model m {{\n x = input [5, 3]\n {MASK_STOPPED[case]}\n output y\n}}\n")
    assert_torch_matches_keras(spec, tmp_path)


def test_a_mask_of_any_input_passes_concat() -> None:
    body = "a = x -> masking\n b = x -> dense(3)\n c = concat(a, b)\n y = c -> lstm(4)"
    text = f"model m {{\n x = input [5, 3]\n {body}\n output y\n}}\n"
    with pytest.raises(GenerationError, match="the mask made by `masking` reaches this lstm"):
        generate_source(text, "m.ns", "torch")


def test_a_kind_without_a_generator_is_refused_with_its_reason() -> None:
    from netspec.layers import catalog
    from netspec.targets.torch.registry import UNSUPPORTED, generator_for

    for name, reason in UNSUPPORTED.items():
        kind = catalog.lookup(name)
        assert kind is not None
        with pytest.raises(GenerationError) as error:
            generator_for(kind)
        assert str(error.value).endswith(reason)


# ---- layers checked against numbers of their own --------------------------------------------


def test_asymmetric_padding_and_cropping_of_sequences(tmp_path: Path) -> None:
    text = (
        "model p {\n x = input [6, 2]\n a = x -> zero_pad1d((2, 0))\n"
        " b = x -> cropping1d((0, 3))\n c = x -> zero_pad1d(2)\n output a, b, c\n}\n"
    )
    spec = tmp_path / "p.ns"
    spec.write_text(text)
    module = generate_module(spec, "torch", tmp_path)
    x = np.arange(24, dtype="float32").reshape(2, 6, 2)
    a, b, c = (t.numpy() for t in module.P()(torch.from_numpy(x)))
    np.testing.assert_array_equal(a, np.pad(x, ((0, 0), (2, 0), (0, 0))))
    np.testing.assert_array_equal(b, x[:, :3])
    np.testing.assert_array_equal(c, np.pad(x, ((0, 0), (2, 2), (0, 0))))


def test_batch_norm_in_training_mode_and_frozen(tmp_path: Path) -> None:
    """Training mode normalizes with the batch's statistics; a frozen batch norm (trainable=false)
    keeps the moving ones in training too, as Keras 3 does."""
    text = (
        "model b {\n x = input [4, 4, 3]\n a = x -> batch_norm(name=live)\n"
        " f = x -> batch_norm(trainable=false, name=frozen)\n output a, f\n}\n"
    )
    spec = tmp_path / "b.ns"
    spec.write_text(text)
    keras_module = generate_module(spec, "keras", tmp_path)
    torch_module = generate_module(spec, "torch", tmp_path)
    keras_model = keras_module.build_b()
    keepable_scale(keras_model, np.random.default_rng(0))
    keras_module.save_npz(keras_model, tmp_path / "b.npz")
    model = torch_module.B()
    torch_module.load_npz(model, tmp_path / "b.npz")
    model.train()
    x = np.random.default_rng(1).normal(size=(5, 4, 4, 3)).astype("float32")
    want = [keras.ops.convert_to_numpy(t) for t in keras_model(x, training=True)]
    got = [to_spec_layout(t) for t in model(to_torch_layout(x))]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # Both updated the live layer's moving mean alike (Keras' momentum 0.99 is torch's 0.01).
    keras_module.save_npz(keras_model, tmp_path / "k.npz")
    torch_module.save_npz(model, tmp_path / "t.npz")
    with np.load(tmp_path / "k.npz") as k, np.load(tmp_path / "t.npz") as t:
        np.testing.assert_allclose(t["live/moving_mean"], k["live/moving_mean"], rtol=1e-5)
        np.testing.assert_array_equal(t["frozen/moving_mean"], k["frozen/moving_mean"])


def test_the_cases_cover_every_layer_kind() -> None:
    from netspec.layers import catalog

    used: set[str] = set()
    for spec in SPECS:
        for graph_check in checked(spec):
            for node in graph_check.graph.nodes:
                used.add(node.kind.name)
                used.update(inner.kind for inner in node.inner_layers())
    missing = {k.name for k in catalog.all_kinds()} - used
    assert not missing, f"no case spec uses {sorted(missing)}"


@pytest.mark.parametrize(
    "spec_path", [p for p in CASES if not p.stem.startswith("np_")], ids=lambda p: p.stem
)
def test_the_cases_lint_without_errors(spec_path: Path) -> None:
    from netspec.api import lint_source

    errors = [
        d
        for d in lint_source(spec_path.read_text(encoding="utf-8"), spec_path.name)
        if d.severity.value == "error"
    ]
    assert not errors, errors
