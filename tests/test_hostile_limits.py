"""Hostile sizes answered at once: the expansion budget of a model, window arithmetic in closed
form, and the limits on a file's lines, statements and tokens checked while it is read."""

from __future__ import annotations

import math
import time

import pytest

from netspec import codes
from netspec.api import checked_models, lint_source
from netspec.check.rules.windows import Window, _coverage
from netspec.language import grammar
from netspec.language.parser import MAX_LINE_CHARS

BILLIONS = 20_000_000_000


def places(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in lint_source(text, "hostile.ns")]


def timed_lint(text: str, seconds: float = 2.0) -> list:
    start = time.process_time()
    diagnostics = lint_source(text, "hostile.ns")
    assert time.process_time() - start < seconds
    return diagnostics


def only(diagnostics: list, code: str):
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, diagnostics
    return found[0]


# ---- one expansion budget per model --------------------------------------------------------


def test_nested_empty_repeats_stop_at_the_outermost_repeat() -> None:
    text = "model m {\n    input [2]\n    repeat 10000 { repeat 10000 { } }\n    dense(2)\n}\n"
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (3, 5)
    assert "100,000" in limit.message


def test_compile_in_nested_repeats_is_misplaced_once_and_the_budget_stops_it() -> None:
    text = (
        "model m {\n    input [2]\n"
        "    repeat 10000 { repeat 10000 { compile(loss=mse) } }\n    dense(2)\n}\n"
    )
    diagnostics = timed_lint(text)
    limit = only(diagnostics, codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (3, 5)
    misplaced = only(diagnostics, codes.MISPLACED_STATEMENT)
    assert (misplaced.span.line, misplaced.span.column) == (3, 35)
    assert "not in a repeat, for or if body" in misplaced.message


def test_compile_in_a_block_is_still_said_to_be_in_a_block() -> None:
    text = "block b { compile(loss=mse) }\nmodel m {\n    input [2]\n    b\n}\n"
    misplaced = only(lint_source(text), codes.MISPLACED_STATEMENT)
    assert "not in a block" in misplaced.message


def test_thirty_levels_of_doubling_blocks_stop_at_the_models_use() -> None:
    blocks = "".join(f"block b{i} {{ b{i + 1}\n b{i + 1} }}\n" for i in range(30))
    text = blocks + "block b30 { input }\nmodel m {\n    input [2]\n    b0\n    dense(2)\n}\n"
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (64, 5)


def test_nested_for_loops_share_the_budget() -> None:
    values = "(" + ", ".join(str(i) for i in range(100)) + ")"
    text = (
        f"model m {{\n    input [2]\n    for a in {values} {{ for b in {values} {{\n"
        f"        for c in {values} {{ }} }} }}\n    dense(2)\n}}\n"
    )
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (3, 5)


def test_a_repeat_inside_a_block_is_reported_at_the_models_use() -> None:
    text = (
        "block inner {\n    repeat 10000 { repeat 10000 { } }\n}\n"
        "model m {\n    input [2]\n    inner\n    dense(2)\n}\n"
    )
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (6, 5)


def test_a_long_body_counts_its_text_at_every_pass() -> None:
    padding = "#" + "x" * 90_000
    text = (
        "model m {\n    input [2]\n"
        f"    repeat 1000 {{ repeat 10 {{\n        dense(2) {padding}\n    }} }}\n}}\n"
    )
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (3, 5)
    assert "4,194,304 characters" in limit.message


def test_the_node_limit_still_fires_first_for_many_layers() -> None:
    text = "model m {\n    input [2]\n    repeat 10000 { repeat 10 { dense(2) } }\n}\n"
    limit = only(timed_lint(text, 5.0), codes.LIMIT_EXCEEDED)
    assert "20,000 layers" in limit.message


# ---- windows in closed form ----------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        f"max_pool2d({BILLIONS}, padding=same)",
        f"avg_pool2d({BILLIONS}, strides=3, padding=same)",
        f"conv2d(4, {BILLIONS}, padding=same)",
        f"depthwise_conv2d({BILLIONS}, padding=same)",
        f"separable_conv2d(4, {BILLIONS}, padding=same)",
        f"conv2d_transpose(4, {BILLIONS}, padding=same)",
        f"conv2d_transpose(4, 3, strides={BILLIONS}, padding=same)",
        f"conv2d(4, 3, dilation_rate={BILLIONS}, padding=same)",
    ],
)
def test_huge_windows_answer_at_once(layer: str) -> None:
    timed_lint(f"model m {{\n    input [32, 32, 3]\n    {layer}\n}}\n", 1.0)


@pytest.mark.parametrize("layer", [f"max_pool2d({BILLIONS})", f"conv2d(4, {BILLIONS})"])
def test_a_huge_valid_window_is_larger_than_its_input(layer: str) -> None:
    diagnostics = timed_lint(f"model m {{\n    input [32, 32, 3]\n    {layer}\n}}\n", 1.0)
    assert only(diagnostics, codes.WINDOW_TOO_LARGE).span.line == 3


def test_window_coverage_in_closed_form_counts_every_reached_tap() -> None:
    for kernel in range(1, 10):
        for stride in range(1, 10):
            for dilation in range(1, 5):
                window = Window((kernel,), (stride,), (dilation,), "valid", (64,), False, False)
                reached = {(dilation * tap) % stride for tap in range(kernel)}
                assert _coverage(window, 0) == (len(reached), stride)
    huge = Window((BILLIONS,), (BILLIONS * 3,), (2,), "same", (8,), False, False)
    assert _coverage(huge, 0) == (min(BILLIONS, BILLIONS * 3 // math.gcd(2, BILLIONS * 3)),) + (
        BILLIONS * 3,
    )


# ---- limits while reading ------------------------------------------------------------------


def test_a_megabyte_line_is_refused_before_parsing() -> None:
    text = "model m {\n    input [2]\n    dense(" + "1+" * 500_000 + "1)\n}\n"
    limit = only(timed_lint(text, 1.0), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (3, 1)
    assert f"{MAX_LINE_CHARS:,}" in limit.message


def test_a_line_at_the_limit_is_read() -> None:
    comment = "# " + "x" * (MAX_LINE_CHARS - 2)
    text = f"model m {{\n    input [2]\n{comment}\n    dense(2)\n}}\n"
    assert places(text) == []


def test_statements_are_counted_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    # A lower limit shows that parsing stops where the count passes it: the 200,000 lines after
    # it are never parsed (they would take tens of seconds).
    monkeypatch.setattr(grammar, "MAX_STATEMENTS", 1_000)
    text = "model m {\n    input [2]\n" + "    dense(2)\n" * 200_000 + "}\n"
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (1_001, 13)
    assert "1,000 statements" in limit.message


def test_links_count_as_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grammar, "MAX_STATEMENTS", 1_000)
    text = "model m {\n    input [2]\n    dense(2)" + "\n    -> dense(2)" * 5_000 + "\n}\n"
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert (limit.span.line, limit.span.column) == (1_002, 5)


def test_tokens_are_counted_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grammar, "MAX_TOKENS", 10_000)
    rows = ("1, " * 1_000 + "\n") * 300
    text = f"model m {{\n    input [2]\n    dense([\n{rows}])\n}}\n"
    limit = only(timed_lint(text), codes.LIMIT_EXCEEDED)
    assert limit.span.line == 8  # rows of 2,000 tokens from line 4
    assert "10,000 tokens" in limit.message


def test_the_real_statement_limit_allows_a_model_at_the_layer_limit() -> None:
    assert grammar.MAX_STATEMENTS > 20_000
    assert grammar.MAX_TOKENS >= 10 * grammar.MAX_STATEMENTS


# ---- the budget is the file's: many models do not multiply it ------------------------------


def test_many_models_share_one_expansion_budget() -> None:
    model = "model m{j} {{\n    input [4]\n    repeat 10000 {{\n        repeat 9 {{\n        }}\n    }}\n    dense(2)\n}}\n"
    text = "".join(model.format(j=j) for j in range(200))
    found = [d for d in timed_lint(text, 5.0) if d.code == codes.LIMIT_EXCEEDED]
    # The first model's 100,000 passes fit; the second passes the file's limit at its repeat.
    assert (found[0].span.line, found[0].span.column) == (11, 5)
    assert "in this file" in found[0].message and "m1" in found[0].message


def test_the_layers_of_a_file_are_limited_together() -> None:
    model = "model m{j} {{\n    input [4]\n    repeat 9990 {{\n        dense(4, relu)\n        batch_norm\n    }}\n}}\n"
    text = "".join(model.format(j=j) for j in range(3))
    found = [d for d in lint_source(text, "hostile.ns") if d.code == codes.LIMIT_EXCEEDED]
    assert len(found) == 1 and "40,000 layers" in found[0].message and "m2" in found[0].message


def test_a_long_tuple_is_not_described_in_full_at_every_pass() -> None:
    values = ", ".join(str(i) for i in range(10_000))
    text = (
        "block b(xs) {\n    for i in xs {\n        for j in xs {\n            dense(xs)\n"
        f"        }}\n    }}\n}}\nmodel m {{\n    input [4]\n    b([{values}])\n}}\n"
    )
    diagnostics = timed_lint(text, 5.0)
    shown = [d.message for d in diagnostics if d.code == codes.WRONG_TYPE]
    assert shown and all(len(message) < 400 for message in shown)


@pytest.mark.parametrize(
    "window", ["max_pool2d(2, padding=same)", "conv2d(2, 3, strides=2, padding=same)"]
)
def test_a_length_past_a_floats_range_keeps_exact_arithmetic(window: str) -> None:
    """A 400-digit padding makes a length no float holds: `same` windows divide it in
    integers (the fuzzer found an OverflowError here)."""
    huge = "1" + "0" * 400
    spec = f"model m {{\n    input [4, 4, 1]\n    zero_pad2d(((0, {huge}), (0, 0)))\n    {window}\n}}\n"
    diagnostics = lint_source(spec, "huge.ns")
    assert all(d.span.line >= 1 for d in diagnostics)
    shapes = [checked.shapes for checked in checked_models(spec, "huge.ns")]
    assert shapes and shapes[0]
