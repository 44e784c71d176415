"""The generated torch forward lets intermediates go as hand-written code does (a name kept
along a chain, `del` after a last read) and computes activations in place only where nothing
else reads their input: same outputs, training still works, the caller's tensors untouched."""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from generated import ROOT, generate_module

from netspec.api import checked_models
from netspec.targets.torch.lifetimes import plan

TINY_RESNET = ROOT / "examples" / "tiny_resnet.ns"
BRANCHES = """
model branches {
    x = input [8, 8, 3]
    a = x -> conv2d(4, 3, padding=same) -> batch_norm() -> activation(relu)
    b = a -> conv2d(4, 1) -> activation(relu)
    c = a -> dense(4) -> activation(relu)
    s = add(b, c) -> activation(relu) -> flatten() -> dense(3)
    output s, a
}
"""


def _leaf_modules(model):
    return [m for m in model.modules() if m is not model and not list(m.children())]


def _peak_alive(model, *inputs) -> tuple[int, int]:
    """The most module outputs alive at once during a forward pass, and how many calls ran."""
    refs: list[weakref.ref] = []
    peak = [0]

    def hook(module, args, output):
        refs.append(weakref.ref(output))
        peak[0] = max(peak[0], len({id(r()) for r in refs if r() is not None}))

    handles = [m.register_forward_hook(hook) for m in _leaf_modules(model)]
    with torch.no_grad():
        model(*inputs)
    for handle in handles:
        handle.remove()
    return peak[0], len(refs)


def test_a_deep_residual_forward_holds_few_tensors_at_once(tmp_path: Path) -> None:
    module = generate_module(TINY_RESNET, "torch", tmp_path)
    model = module.TinyResnet().eval()
    peak, calls = _peak_alive(model, torch.rand(2, 3, 64, 64))  # its input: [64, 64, 3]
    assert calls > 20
    assert peak <= 3, f"{peak} module outputs alive at once: intermediates are kept"


def test_in_place_activations_keep_outputs_inputs_and_training(tmp_path: Path) -> None:
    spec = tmp_path / "branches.ns"
    spec.write_text(BRANCHES, encoding="utf-8")
    module = generate_module(spec, "torch", tmp_path)
    model = module.Branches()
    images = torch.rand(2, 3, 8, 8)
    kept = images.clone()
    model.eval()
    with torch.no_grad():
        s, a = model(images)
    assert torch.equal(images, kept), "the forward pass overwrote its input"
    # `a` is an output and read by two layers: nothing may overwrite it. Recompute it alone.
    with torch.no_grad():
        expected_a = model.activation(model.batch_normalization(model.conv2d(images)))
    assert torch.allclose(a, expected_a)
    model.train()
    s, a = model(images)
    (s.sum() + a.sum()).backward()  # in-place activations must leave autograd's inputs alone
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_the_plan_frees_each_branch_value_after_its_last_read() -> None:
    (checked,) = checked_models(BRANCHES, "branches.ns")
    graph = checked.graph
    lifetimes = plan(graph)
    by_name = {node.name: node.id for node in graph.nodes}
    freed_after = {
        graph.nodes[v].name: graph.nodes[reader].name
        for reader, values in lifetimes.frees.items()
        for v in values
    }
    # `a` (the activation) is an output: never freed; b's and c's chains end at the add.
    assert "activation" not in freed_after
    assert freed_after[graph.nodes[lifetimes.holder[by_name["conv2d_1"]]].name] == "add"
    assert np.all([lifetimes.holder[i] >= i for i in lifetimes.holder])
