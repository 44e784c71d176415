"""Bad input of every kind ends in diagnostics: never a traceback, a hang or a blow-up."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netspec
from netspec.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.ns"))]


def assert_only_diagnostics(text: str) -> list[Diagnostic]:
    result = netspec.lint_source(text, "fuzz.ns")
    assert isinstance(result, list)
    for diagnostic in result:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.code.startswith("NS") and len(diagnostic.code) == 5
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
        assert diagnostic.message
    return result


def codes(text: str) -> list[str]:
    return [d.code for d in assert_only_diagnostics(text)]


def test_empty_and_blank_files_are_clean() -> None:
    assert codes("") == []
    assert codes("\n\n   # only a comment\n") == []


def test_binary_junk() -> None:
    junk = bytes(range(256)).decode("latin-1") * 4
    assert codes(junk) == ["NS001"]
    assert codes("\x00\x01model") == ["NS001"]


def test_ten_thousand_nested_parentheses() -> None:
    deep = "model m { input [2]; dense(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }"
    assert codes(deep) == ["NS001"]
    deep_value = "model m { input [2]; dense(" + "-" * 10_000 + "1) }"
    assert codes(deep_value) == ["NS001"]
    long_sum = "model m { input [2]; dense(" + "+".join(["1"] * 5_000) + ") }"
    assert codes(long_sum) == ["NS001"]


def test_deeply_nested_bodies() -> None:
    nested = "model m { input [2]\n" + "repeat 1 {\n" * 1_000 + "dense(2)\n" + "}\n" * 1_000 + "}"
    assert codes(nested) == ["NS001"]


def test_a_ten_megabyte_file_is_refused_quickly() -> None:
    text = "model m {\n input [2]\n" + "    dense(4, relu)\n" * 600_000 + "}\n"
    assert len(text) > 10_000_000
    start = time.perf_counter()
    assert codes(text) == ["NS001"]
    assert time.perf_counter() - start < 5


def test_node_limit() -> None:
    text = "model m {\n input [2]\n repeat 10000 { repeat 10 { dense(2) } }\n}\n"
    assert codes(text) == ["NS016"]


def test_repeat_of_a_billion_and_huge_arithmetic() -> None:
    assert codes("model m { input [2]; repeat 1000000000 { dense(2) } }") == ["NS016"]
    big = "model m { input [2]; dense(" + "*".join(["1000000000"] * 10) + ") }"
    assert codes(big) == ["NS007"]


def test_blocks_nested_too_deep_and_mutual_recursion() -> None:
    chain = "".join(f"block b{i} {{ b{i + 1} }}\n" for i in range(40)) + "block b40 { dense(2) }\n"
    text = chain + "model m { input [2]; b0 }"
    assert codes(text) == ["NS016"]
    mutual = "block a { b }\nblock b { a }\nmodel m { input [2]; a }"
    assert codes(mutual) == ["NS011"]


_FRAGMENTS = st.sampled_from(
    ["(", ")", "[", "]", "{", "}", ",", "=", "->", "\n", ";", "#", '"', "input", "model",
     "block", "repeat", "for", "in", "output", "compile", "-1", "0", "1e400", "None", "x",
     "dense", "add", "relu", " ", "99999999999999999999", "//", "*"]
)  # fmt: skip


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        position = draw(st.integers(0, len(text)))
        if operation == "insert":
            text = text[:position] + draw(_FRAGMENTS) + text[position:]
        elif operation == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif operation == "replace":
            text = text[:position] + draw(st.text(max_size=5)) + text[position + 1 :]
        else:
            piece = text[position : position + draw(st.integers(1, 80))]
            text = text[:position] + piece + text[position:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_examples())
def test_mutated_examples_give_diagnostics_and_nothing_else(text: str) -> None:
    assert_only_diagnostics(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_diagnostics_and_nothing_else(text: str) -> None:
    assert_only_diagnostics(text)


def test_sizes_that_cannot_be_built_are_reported_arithmetically() -> None:
    huge_units = "model m {\n    input [1000]\n    dense(100000000000)\n}\n"
    assert codes(huge_units) == ["NS109", "NS109"]  # its kernel, and its output
    huge_input = "model m {\n    input [100000, 100000, 3]\n    conv2d(8, 3)\n}\n"
    assert codes(huge_input) == ["NS109"]
    beyond_64_bits = "model m {\n    input [2]\n    dense(" + "9" * 30 + ")\n}\n"
    assert codes(beyond_64_bits) == ["NS007"]


def test_an_oversized_value_is_reported_once_and_checking_goes_on() -> None:
    spec = (
        "model m {\n    input [100000, 100000, 3]\n    conv2d(8, 3, padding=same)\n"
        "    flatten\n    dense(1000000000000)\n}\n"
    )
    errors = [d for d in assert_only_diagnostics(spec) if d.severity.value == "error"]
    assert [(d.code, d.span.line) for d in errors] == [("NS109", 2), ("NS109", 5)]
    assert "weight `kernel`" in errors[1].message
