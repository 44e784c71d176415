"""Every loss, optimizer and metric name `compile(...)` accepts works in the Keras module gen
writes: the model is built, compiled and trained one step, since Keras resolves a string only
when it first uses it (keras.optimizers.get() knows no "lamb"; keras.metrics.get() no
"log_cosh")."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from generated import import_generated

from netspec.api import generate_source, lint_source
from netspec.diagnostics import Severity
from netspec.layers.training import LOSS_ALIASES, LOSSES, METRICS, OPTIMIZERS

CLASSES = 6  # more than top_k's default of 5
SAMPLES = 4


def train_once(spec: str, tmp_path: Path, labels: np.ndarray, inputs: np.ndarray) -> None:
    errors = [d for d in lint_source(spec, "m.ns") if d.severity is Severity.ERROR]
    assert errors == []
    module = import_generated(generate_source(spec, "m.ns", "keras"), tmp_path, "keras")
    model = module.build_m()
    model.fit(inputs, labels, epochs=1, batch_size=SAMPLES, verbose=0)


def classifier(compile_args: str, units: int = CLASSES) -> str:
    return (
        f"model m {{\n    input [3]\n    dense({units}, softmax)\n"
        f"    compile({compile_args}, run_eagerly=true)\n}}\n"
    )


def one_hot() -> np.ndarray:
    return np.eye(CLASSES, dtype="float32")[np.arange(SAMPLES) % CLASSES]


def class_ids() -> np.ndarray:
    return (np.arange(SAMPLES) % CLASSES).reshape(SAMPLES, 1)


FEATURES = np.linspace(0.1, 1.0, SAMPLES * 3, dtype="float32").reshape(SAMPLES, 3)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_name_trains(optimizer: str, tmp_path: Path) -> None:
    spec = classifier(f"loss=categorical_crossentropy, optimizer={optimizer}")
    train_once(spec, tmp_path, one_hot(), FEATURES)


@pytest.mark.parametrize("loss", sorted({*LOSSES, *LOSS_ALIASES} - {"ctc"}))
def test_every_loss_name_trains(loss: str, tmp_path: Path) -> None:
    labels = class_ids() if loss.startswith("sparse") else one_hot()
    train_once(classifier(f"loss={loss}, optimizer=sgd"), tmp_path, labels, FEATURES)


def test_ctc_trains(tmp_path: Path) -> None:
    """CTC takes a sequence of class scores per sample and a sequence of labels."""
    spec = (
        "model m {\n    input [5, 3]\n    dense(4, softmax)\n"
        "    compile(loss=ctc, optimizer=sgd, run_eagerly=true)\n}\n"
    )
    inputs = np.linspace(0.1, 1.0, SAMPLES * 15, dtype="float32").reshape(SAMPLES, 5, 3)
    train_once(spec, tmp_path, np.ones((SAMPLES, 2), dtype="int32"), inputs)


def test_every_metric_name_trains(tmp_path: Path) -> None:
    sparse = [m for m in METRICS if m.startswith("sparse")]
    dense = [m for m in METRICS if m not in sparse]
    spec = classifier(f"loss=categorical_crossentropy, optimizer=sgd, metrics=[{', '.join(dense)}]")
    (tmp_path / "dense").mkdir()
    train_once(spec, tmp_path / "dense", one_hot(), FEATURES)
    spec = classifier(
        f"loss=sparse_categorical_crossentropy, optimizer=sgd, metrics=[{', '.join(sparse)}]"
    )
    (tmp_path / "sparse").mkdir()
    train_once(spec, tmp_path / "sparse", class_ids(), FEATURES)
