"""Fuzzing in CI, bounded and deterministic: lint never raises nor stalls, fmt is idempotent and
keeps what lint finds, and specs that lint clean generate, build and run in all three targets.

The same generators run for a million inputs in benchmarks/fuzz.py."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest
from fuzz_strategies import FAMILIES, family, grammar_specs, time_limit
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from netspec.api import checked_models, generate_source, lint_document, lint_source
from netspec.app.summary import summarize
from netspec.diagnostics import Severity
from netspec.language.fmt import format_source
from netspec.language.names import camel_case
from netspec.targets.base import GenerationError

# The bound on any one input, in CPU seconds of this process: wall time would also count the
# time spent waiting for a core on a busy CI machine.
SECONDS_PER_INPUT = 2.0
HANG_GUARD = 30.0  # wall seconds: past this a run is interrupted, so a hang fails, not stalls
EXAMPLES = {"raw": 200, "mutation": 80, "grammar": 80}


def fuzz_settings(examples: int) -> settings:
    # No shrinking: a slow input would be run again dozens of times; the failing input is printed
    # as drawn, and benchmarks/fuzz.py saves inputs for a closer look.
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def timed_lint(text: str) -> tuple[list, float]:
    start = time.process_time()
    with time_limit(HANG_GUARD):
        diagnostics = lint_source(text, "fuzz.ns")
    return diagnostics, time.process_time() - start


@pytest.mark.parametrize("name", FAMILIES)
def test_lint_never_raises_and_answers_in_time(name: str) -> None:
    @fuzz_settings(EXAMPLES[name])
    @given(family(name))
    def lint_one(text: str) -> None:
        diagnostics, seconds = timed_lint(text)
        assert all(d.span.line >= 1 and d.span.column >= 1 for d in diagnostics)
        assert seconds < SECONDS_PER_INPUT, f"lint took {seconds:.1f} s of CPU"

    lint_one()


def lint_facts(text: str) -> tuple[Counter, list]:
    """What fmt must keep: the diagnostics' codes and the models' summaries."""
    with time_limit(HANG_GUARD):
        linted = lint_document(text, "fuzz.ns")
    codes = Counter(d.code for d in linted.diagnostics)
    summaries = [dataclass_without_path(summarize(one)) for one in linted.checked]
    return codes, summaries


def dataclass_without_path(summary) -> tuple:
    return (summary.name, summary.rows, summary.output_shapes, summary.total_params)


@fuzz_settings(60)
@given(st.one_of(family("mutation"), family("grammar")))
def test_fmt_is_idempotent_and_keeps_what_lint_finds(text: str) -> None:
    with time_limit(HANG_GUARD):
        parsed = lint_document(text, "fuzz.ns").module is not None
        formatted = format_source(text)
    assume(parsed)
    assert format_source(formatted) == formatted
    assert lint_facts(formatted) == lint_facts(text)


def forward_keras(module, graph, inputs: list[np.ndarray]) -> None:
    model = getattr(module, f"build_{graph.name}")()
    model(inputs if len(inputs) > 1 else inputs[0])


def forward_torch(module, graph, inputs: list[np.ndarray]) -> None:
    import torch
    from generated import to_torch_layout

    model = getattr(module, camel_case(graph.name))()
    model.eval()
    with torch.no_grad():
        model(*[to_torch_layout(x) for x in inputs])
    # The training objects of `compile(...)`: torch checks their hyper-parameters when built.
    if hasattr(module, f"{graph.name}_loss"):
        getattr(module, f"{graph.name}_loss")()
    if hasattr(module, f"{graph.name}_optimizer"):
        getattr(module, f"{graph.name}_optimizer")(model)


def forward_numpy(module, graph, inputs: list[np.ndarray]) -> None:
    getattr(module, camel_case(graph.name))()(*inputs)


FORWARD = {"keras": forward_keras, "torch": forward_torch, "numpy": forward_numpy}


@pytest.mark.parametrize("target", sorted(FORWARD))
def test_specs_that_lint_clean_build_and_run(target: str, tmp_path_factory) -> None:
    pytest.importorskip("torch" if target == "torch" else "numpy")
    if target == "keras":
        pytest.importorskip("keras")
    from generated import import_generated, make_inputs

    @fuzz_settings(15)
    @given(grammar_specs(typed=True))
    def build_one(text: str) -> None:
        diagnostics = lint_source(text, "fuzz.ns")
        assume(not any(d.severity is Severity.ERROR for d in diagnostics))
        try:
            source = generate_source(text, "fuzz.ns", target)
        except GenerationError:
            return  # the target refuses with a reason: allowed
        module = import_generated(source, tmp_path_factory.mktemp("fuzz"), target)
        rng = np.random.default_rng(0)
        for checked in checked_models(text, "fuzz.ns"):
            FORWARD[target](module, checked.graph, make_inputs(checked.graph, rng))

    build_one()
