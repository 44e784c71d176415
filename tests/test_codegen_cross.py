"""PyTorch to NumPy with no Keras in between: a torch model's weights, saved by torch and loaded
by the NumPy module, give the same outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from generated import CASES, EXAMPLES, checked, make_inputs, to_spec_layout, to_torch_layout

torch = pytest.importorskip("torch")

from generated import import_generated  # noqa: E402

from netspec.api import generate_source
from netspec.language.names import camel_case  # noqa: E402
from netspec.targets.base import GenerationError  # noqa: E402

SPECS = [p for p in EXAMPLES + CASES if p.stem not in {"resnet50", "mobilenet"}]


def perturb(model, generator: torch.Generator) -> None:
    """Random non-zero values in every tensor the weight file holds (variances kept positive);
    a tensor Keras has no weight for (the bias of a batch norm with center=false) stays fixed."""
    in_file = {path for paths, *_ in model.KERAS_WEIGHTS.values() for path in paths}
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if name not in in_file or not tensor.is_floating_point():
                continue
            noise = torch.rand(tensor.shape, generator=generator) - 0.5
            if "running_var" in name:
                tensor.copy_(noise + 1.0)
            else:
                fan_in = int(np.prod(tensor.shape[1:])) if tensor.ndim > 1 else 1
                tensor.copy_(noise * (3.0 / fan_in) ** 0.5)


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_torch_weights_give_numpy_the_same_outputs(spec_path: Path, tmp_path: Path) -> None:
    text = spec_path.read_text(encoding="utf-8")
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    refused: list[str] = []
    compared = 0
    for graph_check in checked(spec_path):
        graph = graph_check.graph
        try:  # one model at a time: a target may refuse one model of a file and not the others
            torch_source = generate_source(text, spec_path.name, "torch", graph.name)
            numpy_source = generate_source(text, spec_path.name, "numpy", graph.name)
        except GenerationError as exc:
            refused.append(exc.message)
            continue
        torch_module = import_generated(torch_source, tmp_path, "torch")
        numpy_module = import_generated(numpy_source, tmp_path, "numpy")
        class_name = camel_case(graph.name)
        model = getattr(torch_module, class_name)()
        perturb(model, generator)
        model.eval()
        inputs = make_inputs(graph, rng)
        with torch.no_grad():
            outputs = model(*[to_torch_layout(x) for x in inputs])
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        path = tmp_path / f"{graph.name}.npz"
        torch_module.save_npz(model, path)
        numpy_model = getattr(numpy_module, class_name)()
        numpy_module.load_npz(numpy_model, path)
        got = numpy_model(*inputs)
        got = got if isinstance(got, tuple) else (got,)
        assert len(got) == len(outputs)
        for mine, theirs in zip(got, outputs):
            want = to_spec_layout(theirs)
            scale = max(1.0, float(np.abs(want).max()))
            assert mine.shape == want.shape
            assert float(np.abs(mine - want).max()) / scale <= 1e-5, graph.name
        compared += 1
    if not compared:
        pytest.skip(f"a target refuses every model of this spec: {refused[0]}")
