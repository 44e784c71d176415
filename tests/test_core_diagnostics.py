"""Each diagnostic of the core (syntax, names, arguments, blocks, limits) at its code, line and column."""

from __future__ import annotations

import pytest

import netspec

# (id, spec, code, line, column, a fragment of the message)
CASES = [
    # NS001: syntax
    ("missing-brace", "model m {\n    input [2]\n    dense(4)\n", "NS001", 1, 9, "missing `}`"),
    (
        "missing-brace-before-next-model",
        "model m {\n    input [2]\n    dense(4)\nmodel n {\n    input [3]\n}\n",
        "NS001", 1, 9, "missing `}`",
    ),
    ("stray-comma", "model m {\n    input [2]\n    dense(4,, relu)\n}\n", "NS001", 3, 13, "stray `,`"),
    ("stray-comma-first", "model m {\n    input [2]\n    dense(, 4)\n}\n", "NS001", 3, 11, "stray `,`"),
    ("equals-for-arrow", "model m {\n    x = input [2] = dense(4)\n}\n", "NS001", 2, 19, "`->`"),
    (
        "unclosed-paren",
        "model m {\n    input [2]\n    dense(4, relu\n    dense(3)\n}\n",
        "NS001", 3, 10, "unclosed `(`",
    ),
    ("bad-character", "model m {\n    input [2] @\n}\n", "NS001", 2, 15, "unexpected character"),
    ("unexpected-token", "model m {\n    input [2]\n    dense(4) dense(3)\n}\n", "NS001", 3, 14, "expected"),
    ("statement-outside-model", "dense(4)\n", "NS001", 1, 1, "unexpected"),
    ("huge-integer-literal", "model m { input [" + "9" * 60 + "] }", "NS007", 1, 18, "out of range"),
    ("absurd-integer-literal", "model m { input [" + "9" * 4001 + "] }", "NS001", 1, 18, "out of range"),
    ("huge-float", "model m {\n    input [2]\n    dropout(1e400)\n}\n", "NS007", 3, 13, "out of range"),
    ("huge-units", "model m {\n    input [2]\n    dense(1" + "0" * 100 + ")\n}\n", "NS007", 3, 11, "64 bits"),
    # NS002: unknown names
    ("unknown-kind", "model m {\n    input [2]\n    dens(4)\n}\n", "NS002", 3, 5, "did you mean `dense`"),
    ("unknown-activation", "model m {\n    input [2]\n    dense(4, rleu)\n}\n", "NS002", 3, 14, "did you mean `relu`"),
    (
        "unknown-padding",
        "model m {\n    input [8, 8, 1]\n    conv2d(4, 3, padding=sme)\n}\n",
        "NS002", 3, 26, "did you mean `same`",
    ),
    ("unknown-dtype", "model m {\n    input [2] flaot32\n}\n", "NS002", 2, 15, "did you mean `float32`"),
    ("unknown-loss", "model m {\n    input [2]\n    dense(1)\n    compile(loss=mse_loss)\n}\n", "NS002", 4, 18, "unknown loss"),
    ("unknown-output-name", "model m {\n    x = input [2]\n    output y\n}\n", "NS002", 3, 12, "unknown name `y`"),
    # NS003-NS007: arguments
    ("unknown-keyword", "model m {\n    input [2]\n    dense(4, unit=3)\n}\n", "NS003", 3, 14, "no argument `unit`"),
    ("too-many-positional", "model m {\n    input [2]\n    relu(1, 2, 3, 4)\n}\n", "NS003", 3, 19, "positional"),
    ("duplicate-keyword", "model m {\n    input [2]\n    dense(4, units=5)\n}\n", "NS004", 3, 14, "given twice"),
    ("missing-argument", "model m {\n    input [2]\n    dense(activation=relu)\n}\n", "NS005", 3, 5, "`units`"),
    ("wrong-type", "model m {\n    input [2]\n    dense(4.5)\n}\n", "NS006", 3, 11, "must be an integer"),
    ("out-of-range-units", "model m {\n    input [2]\n    dense(0)\n}\n", "NS007", 3, 11, ">= 1"),
    ("out-of-range-rate", "model m {\n    input [2]\n    dropout(1.5)\n}\n", "NS007", 3, 13, "[0, 1)"),
    ("arithmetic-on-word", "model m {\n    input [2]\n    dense(relu * 2)\n}\n", "NS006", 3, 11, "numbers"),
    # NS008-NS011: names and blocks
    ("bound-twice", "model m {\n    x = input [2]\n    y, y = x -> dense(4)\n}\n", "NS008", 3, 8, "listed twice"),
    ("used-before-bound", "model m {\n    y = h -> dense(1)\n    h = input [2]\n}\n", "NS009", 2, 9, "before it is bound"),
    (
        "unused-value",
        "model m {\n    x = input [2]\n    s = x -> dense(4)\n    y = x -> dense(1)\n    output y\n}\n",
        "NS010", 3, 14, "`s` is never used",
    ),
    (
        "block-uses-itself",
        "block b(n) {\n    dense(n)\n    b(n)\n}\nmodel m {\n    input [2]\n    b(3)\n}\n",
        "NS011", 3, 5, "uses itself",
    ),
    (
        "block-too-many-arguments",
        "block b(n) { dense(n) }\nmodel m {\n    input [2]\n    b(3, 4)\n}\n",
        "NS012", 4, 10, "takes 1 argument",
    ),
    (
        "block-missing-argument",
        "block b(n) { dense(n) }\nmodel m {\n    input [2]\n    b\n}\n",
        "NS012", 4, 5, "needs the argument `n`",
    ),
    ("no-input", "model m {\n    dense(4)\n}\n", "NS013", 2, 5, "no input"),
    ("empty-model", "model m {\n}\n", "NS013", 1, 7, "has no input"),
    ("duplicate-layer-name", "model m {\n    input [2]\n    dense(4, name=a)\n    dense(4, name=a)\n}\n", "NS014", 4, 14, "named `a`"),
    ("duplicate-definition", "model m { input [2] }\nmodel m { input [3] }\n", "NS015", 2, 7, "defined twice"),
    ("repeat-a-billion", "model m {\n    input [2]\n    repeat 1000000000 { dense(2) }\n}\n", "NS016", 3, 12, "exceeds the limit"),
    ("negative-repeat", "model m {\n    input [2]\n    repeat 0 - 2 { dense(2) }\n}\n", "NS007", 3, 12, ">= 0"),
    ("compile-in-block", "block b { compile(loss=mse) }\nmodel m {\n    input [2]\n    b\n}\n", "NS018", 1, 11, "belongs in a model"),
    ("hostile-layer-name", 'model m {\n    input [2]\n    dense(4, name="a\\nimport os")\n}\n', "NS020", 3, 14, "Python identifier"),
    ("keyword-layer-name", "model m {\n    input [2]\n    dense(4, name=class)\n}\n", "NS020", 3, 14, "keyword"),
    ("reserved-layer-name", "model m {\n    input [2]\n    dense(4, name=forward)\n}\n", "NS020", 3, 14, "reserved"),
    ("class-name-clash", "model a_b { input [2] }\nmodel AB { input [2] }\n", "NS020", 2, 7, "class AB"),
    ("merge-of-one", "model m {\n    x = input [2]\n    add(x)\n}\n", "NS110", 3, 5, "at least 2"),
    ("division-by-zero", "model m {\n    input [2]\n    dense(4 // 0)\n}\n", "NS007", 3, 16, "division by zero"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "code", "line", "column", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_diagnostic_code_and_place(
    spec: str, code: str, line: int, column: int, fragment: str
) -> None:
    diagnostics = netspec.lint_source(spec, "bad.ns")
    matching = [d for d in diagnostics if d.code == code]
    assert matching, [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in diagnostics]
    first = matching[0]
    assert (first.span.line, first.span.column) == (line, column), first.message
    assert fragment in first.message or fragment in (first.help or ""), first.message


def test_parse_error_is_the_only_diagnostic() -> None:
    diagnostics = netspec.lint_source("model m {\n  dense(4,, 3)\n}\n", "bad.ns")
    assert [d.code for d in diagnostics] == ["NS001"]


def test_diagnostic_inside_a_block_notes_where_the_block_was_used() -> None:
    spec = "block b(n) {\n    dense(n, relux)\n}\nmodel m {\n    input [2]\n    b(3)\n}\n"
    (diagnostic,) = [d for d in netspec.lint_source(spec, "bad.ns") if d.code == "NS002"]
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 14)
    assert [n.message for n in diagnostic.notes] == ["in block b, used at line 6"]


def test_a_block_used_twice_reports_its_problem_once() -> None:
    spec = "block b(n) {\n    dense(n, relux)\n}\nmodel m {\n    input [2]\n    b(3)\n    b(4)\n}\n"
    codes = [d.code for d in netspec.lint_source(spec, "bad.ns")]
    assert codes.count("NS002") == 1


def test_an_unknown_merge_does_not_cascade_into_unused_values() -> None:
    spec = "model m {\n    x = input [2]\n    h = x -> dense(2)\n    addd(x, h)\n}\n"
    assert [d.code for d in netspec.lint_source(spec, "bad.ns")] == ["NS002"]


def test_activations_keras_cannot_use_by_name_are_refused_with_the_reason() -> None:
    for spec in (
        "model m {\n    input [8]\n    glu\n}\n",
        "model m {\n    input [8]\n    dense(8, glu)\n}\n",
    ):
        (diagnostic,) = netspec.lint_source(spec, "bad.ns")
        assert diagnostic.code == "NS002" and "halves the last axis" in diagnostic.message
    (diagnostic,) = netspec.lint_source("model m {\n    input [8]\n    threshold\n}\n", "bad.ns")
    assert "relu(threshold=...)" in diagnostic.message


def test_a_name_used_before_its_binding_is_not_also_unused() -> None:
    spec = "model m {\n    x = input [2]\n    y = z -> dense(1)\n    z = x -> dense(2)\n    output y\n}\n"
    assert [d.code for d in netspec.lint_source(spec, "bad.ns")] == ["NS009"]


def test_parse_errors_read_naturally_at_the_end_of_a_line() -> None:
    (diagnostic,) = netspec.lint_source("model m {\n    x = \n}\n", "bad.ns")
    assert diagnostic.code == "NS001"
    assert diagnostic.message.startswith("unexpected end of line; expected")
    (diagnostic,) = netspec.lint_source("model m {\n    input [2]\n    dense(4,\n", "bad.ns")
    assert diagnostic.message == "unclosed `(`: the `(` at line 3, column 10 is never closed"


def test_old_mac_line_ends_are_lines() -> None:
    spec = "model m {\r    input [2]\r    dense(0)\r}\r"
    (diagnostic,) = netspec.lint_source(spec, "cr.ns")
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("NS007", 3, 11)
    crlf = spec.replace("\r", "\r\n")
    (diagnostic,) = netspec.lint_source(crlf, "crlf.ns")
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("NS007", 3, 11)


def test_keras_2_arguments_get_a_hint() -> None:
    spec = "model m {\n    input [10] int32\n    embedding(100, 8, input_length=10)\n}\n"
    (diagnostic,) = netspec.lint_source(spec, "k2.ns")
    assert diagnostic.code == "NS003" and "input [10] int32" in diagnostic.help


def test_each_code_constant_carries_its_meaning() -> None:
    """netspec/codes.py: `NAME = "NSxxx"  # meaning`, the same meaning as its table entry."""
    import inspect
    import re

    from netspec import codes

    source = inspect.getsource(codes)
    constants = re.findall(r'^([A-Z_]+) = "(NS\d{3})"  # (.+)$', source, re.MULTILINE)
    assert {code for _, code, _ in constants} == set(codes.CORE_CODES)
    for name, code, meaning in constants:
        assert getattr(codes, name) == code
        assert codes.CORE_CODES[code].summary == meaning, code
        assert codes.CORE_CODES[code].name == name.lower().replace("_", "-"), code
