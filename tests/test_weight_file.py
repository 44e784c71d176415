"""The weight file's checks are the same in every target: names and shapes, all problems named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from generated import ROOT, generate_module

pytest.importorskip("keras")
pytest.importorskip("torch")

BUILD = {
    "keras": lambda module: module.build_seed(),
    "torch": lambda module: module.Seed(),
    "numpy": lambda module: module.Seed(),
}


@pytest.mark.parametrize("target", sorted(BUILD))
def test_load_npz_names_missing_extra_and_misshaped_weights(target: str, tmp_path: Path) -> None:
    module = generate_module(ROOT / "examples" / "seed.ns", target, tmp_path)
    model = BUILD[target](module)
    path = tmp_path / "bad.npz"
    np.savez(
        path,
        **{
            "dense/kernel": np.zeros((2, 4), "float32"),
            "dense/bias": np.zeros((5,), "float32"),
            "dense_9/kernel": np.zeros((1,), "float32"),
        },
    )
    with pytest.raises(ValueError) as error:
        module.load_npz(model, path)
    message = str(error.value)
    assert "missing: dense_1/bias, dense_1/kernel, dense_2/bias, dense_2/kernel" in message
    assert "unexpected: dense_9/kernel" in message
    assert "dense/bias: shape (5,) in the file, (4,) expected" in message
