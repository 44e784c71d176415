"""Helpers for the code-generation tests: generate, import, randomise weights, make inputs."""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from netspec.api import checked_models, generate_source  # noqa: E402
from netspec.check.shapes import CheckedGraph  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "codegen_cases").glob("*.ns"))
# VGG16/19 at full size hold 138M+ weights: code generation is exercised on VGG-shaped networks
# at a small input instead (tests/codegen_cases); tests/test_applications.py checks the full ones.
FULL_SIZE_ONLY = {"vgg16", "vgg19"}
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.ns") if p.stem not in FULL_SIZE_ONLY)
_counter = itertools.count()
UNKNOWN_DIM = 7  # the size given to `None` dimensions in test inputs


def import_generated(source: str, folder: Path, stem: str) -> ModuleType:
    """Write generated code to a file and import it as a real module."""
    name = f"netspec_generated_{stem}_{next(_counter)}"
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def generate_module(spec_path: Path, target: str, folder: Path) -> ModuleType:
    text = spec_path.read_text(encoding="utf-8")
    return import_generated(generate_source(text, spec_path.name, target), folder, target)


def checked(spec_path: Path) -> list[CheckedGraph]:
    return checked_models(spec_path.read_text(encoding="utf-8"), spec_path.name)


def concrete(shape: tuple) -> tuple[int, ...]:
    return tuple(UNKNOWN_DIM if d is None else d for d in shape)


def make_inputs(graph, rng: np.random.Generator, batch: int = 2) -> list[np.ndarray]:
    """A random batch for each input: floats, or ids below the smallest vocabulary in the model."""
    vocab = min(
        (n.args["input_dim"] for n in graph.nodes if n.kind.name == "embedding"), default=10
    )
    arrays = []
    for node_id in graph.inputs:
        node = graph.nodes[node_id]
        shape = (batch, *concrete(node.args["shape"]))
        dtype = node.args["dtype"]
        if dtype.startswith(("int", "uint")):
            arrays.append(rng.integers(0, vocab, size=shape).astype(dtype))
        else:
            arrays.append(rng.normal(size=shape).astype(dtype))
    return arrays


def randomise_keras_weights(model, rng: np.random.Generator) -> None:
    """Non-zero weights everywhere: biases, batch-norm statistics (variances kept positive)."""
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "variance" in variable.path:
            values = rng.uniform(0.5, 1.5, size=shape)
        else:
            values = rng.uniform(-0.5, 0.5, size=shape)
        variable.assign(values.astype(variable.dtype))
    reread_statistics(model)


def reread_statistics(model) -> None:
    """Normalization reads its statistics once, when built; after its weights are assigned it
    reads them again, as Keras' load_weights has it do."""
    for layer in model._flatten_layers(include_self=False):
        if hasattr(layer, "finalize_state") and layer.built:
            layer.finalize_state()


def to_torch_layout(array: np.ndarray):
    """A spec-layout array as the torch module takes it: images channels first."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.permute(0, 3, 1, 2) if tensor.ndim == 4 else tensor


def to_spec_layout(tensor) -> np.ndarray:
    """A torch module's output back in the spec's layout (images channels last)."""
    if tensor.ndim == 4:
        tensor = tensor.permute(0, 2, 3, 1)
    return tensor.detach().numpy()
