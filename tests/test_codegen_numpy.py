"""The NumPy target: the generated module needs numpy alone and computes what Keras computes.

Every case spec and example is generated for Keras and for NumPy; the Keras model gets random
weights, which travel to the NumPy model through the shared npz format, and both run the same
input. The NumPy output must match Keras' to float32 round-off and the checker's shapes.
"""

from __future__ import annotations

import ast
import functools
import math
from pathlib import Path

import numpy as np
import pytest
from generated import (
    CASES,
    EXAMPLES,
    ROOT,
    checked,
    generate_module,
    import_generated,
    make_inputs,
    randomise_keras_weights,
)

from netspec.api import generate_source
from netspec.language.names import camel_case
from netspec.layers.catalog import LayerSpec, all_kinds
from netspec.targets.base import GenerationError, format_python
from netspec.targets.numpy import registry

keras = pytest.importorskip("keras")

SPECS = EXAMPLES + CASES
DEEP = {"vgg16", "vgg19", "resnet50", "mobilenet"}  # batch of 1, tolerance 1e-4
SMALL = [p for p in SPECS if p.stem not in DEEP]

# Loops allowed in a generated module: the time steps of recurrent layers, and the weight-file
# bookkeeping that walks the weight names. Everything else is vectorised.
# `_nested` picks a nested model's weights out of the outer model's table (a loop over weights).
ALLOWED_LOOPS = {"_recurrent", "_check_arrays", "_read_npz", "load_npz", "_nested"}
# Pooling walks the taps of its window (4 for 2x2), each step over every position at once.
TAP_LOOPS = {"_max_pool", "_avg_pool"}


@functools.cache
def numpy_source(spec_path: Path) -> str:
    return generate_source(spec_path.read_text(encoding="utf-8"), spec_path.name, "numpy")


def numpy_class(module, graph):
    return getattr(module, camel_case(graph.name))


def tame(model) -> None:
    """Scale kernels to He's variance: randomise_keras_weights draws U(-0.5, 0.5) whatever the
    fan-in, which makes deep stacks explode and saturates their softmax into a weak comparison."""
    for variable in model.weights:
        shape = tuple(variable.shape)
        if len(shape) < 2 or not variable.path.endswith("kernel"):
            continue
        fan_in = math.prod(shape[:-2] if "depthwise" in variable.path else shape[:-1])
        factor = min(1.0, math.sqrt(24 / fan_in))
        if factor < 1.0:
            variable.assign(keras.ops.convert_to_numpy(variable) * factor)


def mask_some_steps(graph, inputs: list[np.ndarray]) -> None:
    """Give every input that feeds a masking layer a few steps that equal its mask value."""
    for position, node_id in enumerate(graph.inputs):
        for node in graph.nodes:
            if node.kind.name == "masking" and node_id in node.inputs:
                value = node.args["mask_value"]
                inputs[position][0, 1] = value
                inputs[position][-1, -1] = value
                inputs[position][-1, 2] = value


def build_keras(keras_module, graph):
    """The Keras model; a spec Keras itself refuses is the checker's or Keras target's problem,
    reported by their tests, so this comparison is skipped with Keras' reason."""
    try:
        return getattr(keras_module, f"build_{graph.name}")()
    except (ValueError, TypeError) as exc:
        pytest.skip(f"Keras cannot build `{graph.name}`: {str(exc).splitlines()[0]}")


def fits(shape: tuple[int, ...], checked_shape: tuple) -> bool:
    """The checker's shape, whose unknown sizes (None) take any value."""
    return len(shape) == len(checked_shape) and all(
        want is None or got == want for got, want in zip(shape, checked_shape)
    )


def as_list(outputs) -> list[np.ndarray]:
    if isinstance(outputs, (tuple, list)):
        return [np.asarray(o) for o in outputs]
    return [np.asarray(outputs)]


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_numpy_matches_keras(spec_path: Path, tmp_path: Path) -> None:
    keras_module = generate_module(spec_path, "keras", tmp_path)
    numpy_module = import_generated(numpy_source(spec_path), tmp_path, "numpy")
    deep = spec_path.stem in DEEP
    tolerance = 1e-4 if deep else 1e-5
    for graph_check in checked(spec_path):
        graph = graph_check.graph
        rng = np.random.default_rng(0)
        model = build_keras(keras_module, graph)
        randomise_keras_weights(model, rng)
        tame(model)
        inputs = make_inputs(graph, rng, batch=1 if deep else 2)
        mask_some_steps(graph, inputs)
        expected = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        expected = [keras.ops.convert_to_numpy(e) for e in keras.tree.flatten(expected)]
        path = tmp_path / f"{graph.name}.npz"
        keras_module.save_npz(model, path)
        numpy_model = numpy_class(numpy_module, graph)()
        numpy_module.load_npz(numpy_model, path)
        got = as_list(numpy_model(*inputs))
        assert len(got) == len(expected) == len(graph.outputs)
        for out, want, node_id in zip(got, expected, graph.outputs):
            assert out.dtype == np.float32
            assert out.shape == want.shape
            assert fits(out.shape[1:], graph_check.shapes[node_id])
            # Never looser than `tolerance`, and relative to the output's size when that is small
            # (a softmax over 1000 classes is about 1e-3 everywhere).
            scale = min(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
            np.testing.assert_allclose(
                out, want, rtol=tolerance, atol=tolerance * scale or tolerance
            )


@pytest.mark.parametrize("spec_path", SMALL, ids=lambda p: p.stem)
def test_numpy_weights_load_into_keras(spec_path: Path, tmp_path: Path) -> None:
    keras_module = generate_module(spec_path, "keras", tmp_path)
    numpy_module = import_generated(numpy_source(spec_path), tmp_path, "numpy")
    rng = np.random.default_rng(1)
    for graph_check in checked(spec_path):
        graph = graph_check.graph
        numpy_model = numpy_class(numpy_module, graph)()
        expected = {
            f"{n.name}/{w.name}": w.shape
            for n in graph.nodes
            for w in graph_check.weights.get(n.id, [])
        }
        assert {k: v.shape for k, v in numpy_model.weights.items()} == expected
        assert all(v.dtype == np.float32 for v in numpy_model.weights.values())
        numpy_model.weights = {
            key: rng.uniform(-1, 1, size=value.shape).astype(np.float32)
            for key, value in numpy_model.weights.items()
        }
        path = tmp_path / f"{graph.name}.npz"
        numpy_module.save_npz(numpy_model, path)
        model = build_keras(keras_module, graph)
        keras_module.load_npz(model, path)
        if hasattr(keras_module, "_keyed_weights"):  # nested models: keys below their names
            loaded = keras_module._keyed_weights(model)
        else:
            loaded = {keras_module._weight_key(model, w): w for w in model.weights}
        assert set(loaded) == set(numpy_model.weights)
        for key, variable in loaded.items():
            # An integer weight (Normalization's count) takes the file's value as Keras casts it.
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(variable),
                numpy_model.weights[key].astype(variable.dtype),
            )
        again = numpy_class(numpy_module, graph)()
        numpy_module.load_npz(again, path)
        for key, value in numpy_model.weights.items():
            np.testing.assert_array_equal(again.weights[key], value)


def imported_modules(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_generated_numpy_needs_numpy_alone(spec_path: Path) -> None:
    source = numpy_source(spec_path)
    tree = ast.parse(source)
    assert imported_modules(tree) <= {"numpy", "math"}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not names & {"keras", "torch", "tensorflow", "tf", "jax", "scipy"}


LOOPS = (
    ast.For,
    ast.While,
    ast.AsyncFor,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def loops_by_function(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Every loop or comprehension of the module, under the name of the function it is in."""
    found: dict[str, list[ast.AST]] = {}

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, LOOPS):
                found.setdefault(name, []).append(child)
            visit(child, name)

    visit(tree, "<module>")
    return found


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_generated_numpy_loops_over_time_steps_only(spec_path: Path) -> None:
    tree = ast.parse(numpy_source(spec_path))
    loops = loops_by_function(tree)
    assert "__call__" not in loops
    assert set(loops) <= ALLOWED_LOOPS | TAP_LOOPS
    for name in TAP_LOOPS & set(loops):
        assert all(ast.unparse(loop.iter) == "taps" for loop in loops[name])  # type: ignore[attr-defined]
        assert "taps = np.ndindex(*pool)" in ast.unparse(tree)
    # The recurrent loop walks the time axis (1) of its inputs, never the batch.
    for loop in loops.get("_recurrent", []):
        if isinstance(loop, ast.For):
            assert loop.target.id == "t"  # type: ignore[union-attr]
            assert ast.unparse(loop.iter) == "order"


def test_time_step_loop_walks_axis_one() -> None:
    source = numpy_source(ROOT / "examples" / "lstm_classifier.ns")
    recurrent = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.FunctionDef) and n.name == "_recurrent"
    )
    text = ast.unparse(recurrent)
    assert "range(inputs.shape[1]" in text and "inputs[:, t]" in text


def kinds_in(spec_paths: list[Path]) -> set[str]:
    found: set[str] = set()

    def add_spec(spec: LayerSpec) -> None:
        found.add(spec.kind)
        for value in spec.args.values():
            if isinstance(value, LayerSpec):
                add_spec(value)

    for path in spec_paths:
        for graph_check in checked(path):
            for node in graph_check.graph.nodes:
                found.add(node.kind.name)
                for inner in node.inner_layers():
                    add_spec(inner)
    return found


def test_every_catalog_kind_is_exercised() -> None:
    missing = {k.name for k in all_kinds()} - kinds_in(SPECS)
    assert not missing, f"no case spec uses {sorted(missing)}; add one to tests/codegen_cases/"


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_generated_numpy_is_deterministic_and_formatted(spec_path: Path) -> None:
    first = numpy_source(spec_path)
    assert first == generate_source(spec_path.read_text(encoding="utf-8"), spec_path.name, "numpy")
    assert format_python(first) == first
    assert first.startswith("# Generated by netspec")


def test_helpers_are_emitted_only_when_needed() -> None:
    seed = numpy_source(ROOT / "examples" / "seed.ns")
    assert "def _dense(" in seed and "def _relu(" in seed
    assert "def _conv(" not in seed and "def _recurrent(" not in seed
    assert "def _sigmoid(" not in seed
    convnet = numpy_source(ROOT / "examples" / "mnist_convnet.ns")
    assert "def _conv(" in convnet and "def _max_pool(" in convnet
    assert "def _conv_transpose(" not in convnet and "def _lstm(" not in convnet


REFUSED = {
    "lora": "model m {\n    input [4]\n    dense(2, lora_rank=2, name=low)\n}\n",
    "concat mask": (
        "model m {\n    a = input [5, 3]\n    b = input [5, 2]\n    x = a -> masking\n"
        "    concat(x, b, name=joined)\n    lstm(2, name=rnn)\n}\n"
    ),
    "softmax mask": "model m {\n    input [5, 3]\n    masking\n    softmax(name=probs)\n}\n",
    "time_distributed mask": (
        "model m {\n    input [5, 3, 2]\n    masking\n    time_distributed(lstm(2), name=td)\n}\n"
    ),
}
REFUSED_LAYER = {
    "lora": "low",
    "concat mask": "rnn",
    "softmax mask": "probs",
    "time_distributed mask": "td",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_numpy_cannot_match_exactly_is_refused_by_name(case: str) -> None:
    with pytest.raises(GenerationError) as error:
        generate_source(REFUSED[case], "refused.ns", "numpy")
    message = str(error.value)
    assert f"`{REFUSED_LAYER[case]}`" in message
    assert "refused.ns:" in message


def test_a_concat_of_masks_that_reaches_no_recurrent_layer_is_fine(tmp_path: Path) -> None:
    spec = (
        "model m {\n    a = input [5, 3]\n    b = input [5, 2]\n    x = a -> masking\n"
        "    concat(x, b)\n    dense(2)\n}\n"
    )
    module = import_generated(generate_source(spec, "ok.ns", "numpy"), tmp_path, "numpy")
    out = module.M()(np.ones((2, 5, 3), np.float32), np.ones((2, 5, 2), np.float32))
    assert out.shape == (2, 5, 2)


def test_the_batch_is_never_looped_over(tmp_path: Path) -> None:
    """One batch gives what its samples give one by one."""
    spec = ROOT / "tests" / "codegen_cases" / "np_recurrent.ns"
    module = import_generated(numpy_source(spec), tmp_path, "numpy")
    model = module.NpBidirectional()
    rng = np.random.default_rng(2)
    model.weights = {
        k: rng.uniform(-1, 1, v.shape).astype(np.float32) for k, v in model.weights.items()
    }
    x = rng.normal(size=(3, 6, 3)).astype(np.float32)
    whole = model(x)
    one_by_one = np.concatenate([model(x[i : i + 1]) for i in range(3)])
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-6, atol=1e-6)


# Generators that read the catalog's weights wrongly: a bug of netspec, which must fail loudly
# rather than render `None` where a weight belongs.
MISREAD_WEIGHTS = {
    "misspelt": lambda site: site.layer(
        site.call("dense", site.weight("kernal"), site.weight("bias"))
    ),
    "left out": lambda site: site.layer(
        site.call("dense", site.weight("kernel"), site.weight("bias", present=False))
    ),
}
MISREAD_NAME = {"misspelt": "`kernal`", "left out": "`bias`"}


@pytest.mark.parametrize("case", sorted(MISREAD_WEIGHTS))
def test_a_weight_name_the_catalog_does_not_list_fails_loudly(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        registry, "GENERATORS", {**registry.GENERATORS, "dense": MISREAD_WEIGHTS[case]}
    )
    spec = "model m {\n    input [4]\n    dense(2, name=head)\n}\n"
    with pytest.raises(GenerationError) as error:
        generate_source(spec, "weights.ns", "numpy")
    message = str(error.value)
    assert message.startswith("internal error:")
    assert "`head`" in message and MISREAD_NAME[case] in message


FRONT_END = ("netspec.api", "netspec.language.parser", "netspec.language.lower")


def test_the_numpy_target_imports_no_front_end_and_nothing_lazily() -> None:
    for path in sorted((ROOT / "netspec" / "targets" / "numpy").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            where = f"{path.name}:{node.lineno}"
            assert id(node) in top_level, f"{where}: an import inside a function"
            assert not [n for n in names if n.startswith(FRONT_END)], where
