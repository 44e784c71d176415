"""The corpora: correct networks from published code lint clean; buggy programs modelled on the
bug studies report each labelled fault at its line, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netspec.api import lint_source
from netspec.diagnostics import Severity

CORPUS = Path(__file__).resolve().parent / "corpus"
CORRECT = sorted((CORPUS / "correct").glob("*.ns"))
BUGGY = sorted((CORPUS / "buggy").glob("*.ns"))
# `dense(1, softmax)  # expect: NS205 NS302`: the codes this line must get.
EXPECT = re.compile(r"#\s*expect:\s*((?:NS\d{3}\s*)+)$")


def expected(text: str) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            found.update((code, number) for code in match.group(1).split())
    return found


def test_the_corpora_are_large_enough() -> None:
    models = sum(p.read_text().count("\nmodel ") for p in CORRECT)
    assert len(CORRECT) >= 15 and models >= 15
    assert len(BUGGY) >= 15


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_a_correct_network_draws_no_warning(path: Path) -> None:
    diagnostics = lint_source(path.read_text(), str(path))
    assert [
        f"{d.code} {d.span.line}: {d.message}"
        for d in diagnostics
        if d.severity is not Severity.INFO
    ] == []


@pytest.mark.parametrize("path", BUGGY, ids=lambda p: p.name)
def test_a_buggy_program_reports_each_fault_at_its_line(path: Path) -> None:
    text = path.read_text()
    labelled = expected(text)
    assert labelled, f"{path.name} labels no fault"
    diagnostics = lint_source(text, str(path))
    reported = {(d.code, d.span.line) for d in diagnostics}
    assert sorted(labelled - reported) == [], "labelled faults not reported at their line"
    unlabelled = {
        (d.code, d.span.line)
        for d in diagnostics
        if d.severity is not Severity.INFO and (d.code, d.span.line) not in labelled
    }
    assert sorted(unlabelled) == [], "warnings the program does not label"


# The published networks of the correct corpus hold Keras' own parameter counts, less the layers
# the first edition of the language cannot write (the input Normalization layers, ConvNeXt's
# LayerScale): they are the networks keras.applications builds, not look-alikes.
APPLICATIONS = {
    "mobilenet_v2.ns": ("MobileNetV2", ()),
    "mobilenet_v3_small.ns": ("MobileNetV3Small", ()),
    "efficientnet_b0.ns": ("EfficientNetB0", ("Normalization",)),
    "convnext_tiny.ns": ("ConvNeXtTiny", ("Normalization", "LayerScale")),
    "densenet121.ns": ("DenseNet121", ()),
    "xception.ns": ("Xception", ()),
}


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_a_published_network_has_the_keras_parameter_count(name: str) -> None:
    keras = pytest.importorskip("keras")
    from netspec.api import load_program
    from netspec.check.shapes import infer_shapes
    from netspec.diagnostics import DiagnosticSink

    builder, left_out = APPLICATIONS[name]
    model = getattr(keras.applications, builder)(weights=None)
    # Keras 3's MobileNetV3 puts its Rescaling inside the model; it holds no weights.
    omitted = sum(
        layer.count_params() for layer in model.layers if type(layer).__name__ in left_out
    )
    (graph,) = load_program((CORPUS / "correct" / name).read_text(), name).graphs
    checked = infer_shapes(graph, DiagnosticSink(name))
    assert checked.total_params == model.count_params() - omitted
