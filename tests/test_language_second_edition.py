"""The language's second edition: expressions, `VALUE.shape`, names bound again, `if`, blocks of
several values and chains of statements; each new way to go wrong has its diagnostic, at its place.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import netspec
from netspec.app.lsp_features import analyze, hover, inlay_hints
from netspec.check.shapes import infer_shapes
from netspec.diagnostics import DiagnosticSink
from netspec.language import syntax as S
from netspec.language.evaluate import evaluate
from netspec.language.fmt import format_source
from netspec.language.parser import parse

ROOT = Path(__file__).resolve().parent.parent
SECOND_EDITION = sorted((ROOT / "tests" / "second_edition").glob("*.ns"))


def errors(text: str) -> list[str]:
    return [
        f"{d.code} {d.span.line}:{d.span.column} {d.message}"
        for d in netspec.lint_source(text, "spec.ns")
        if d.severity.value == "error"
    ]


def layers(text: str, model: str | None = None) -> list[tuple[str, str, tuple, int]]:
    """(name, kind, output shape, params) of each layer, as `summary` gives them."""
    program = netspec.load_program(text, "spec.ns")
    assert not errors(text), errors(text)
    graph = next(g for g in program.graphs if model is None or g.name == model)
    checked = infer_shapes(graph, DiagnosticSink("spec.ns"))
    return [(n.name, n.kind.name, checked.shapes[n.id], checked.params(n.id)) for n in graph.nodes]


# ---- expressions: Python's meaning ---------------------------------------------------------

EXPRESSIONS = [
    "7 // 2 + 3 % 2 * 2 ** 3",
    "1.0 / 255",
    "-2 ** 2",
    "2 ** -1 * 3",
    "(1 + 2) * -(3 - 5)",
    "max(1, int(32 * 0.25))",
    "min((4, 2, 9))",
    "round(2.5) + round(3.14159, 2)",
    "abs(-3) + ceil(1.2) + floor(-1.5)",
    "not 1 < 2 or 3 >= 3 and 2 != 2",
    "1 < 2 and not (2 == 3)",
    "len((1, 2, 3)) == 3",
    '"block" + str(3) + "_" + str(1.5)',
    "int(7.9) + float(2)",
    "(1, 2) + (3,)",
    "range(2, 8, 3)",
    "range(3)[-1]",
    "((1, 2), (3, 4))[1][0]",
    "-7 // 2 + -7 % 3",
    "10 / 4 == 2.5",
    "1 < 2 < 3 and not 3 > 2 == 1",
    "not 1 == 2 or 2 >= 3 > 1",
    "-2 ** -2 + - - 3",
    "not not True and False",
    "2 * -3 + 4 ** 2 // 3 % 5 - +1",
    "1 - 2 - 3 * 4 / 8 // 1",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_expressions_mean_what_python_means(expression: str) -> None:
    module = parse(f"model m {{\n    c = {expression}\n}}\n")
    binding = module.models[0].body[0]
    assert isinstance(binding, S.Binding)
    value = evaluate(binding.chain.terms[0], {})
    python = eval(  # our own test expressions, written in Python's grammar
        expression, {"ceil": math.ceil, "floor": math.floor, "range": lambda *a: tuple(range(*a))}
    )
    assert value == python and type(value) is type(python)


# ---- each new failure: its code, at its place ----------------------------------------------

FAILURES = [
    # (id, body of a model after `x = input [None, 8]`, code, line, column, fragment)
    ("division-by-zero", "c = 1.0 / 0", "NS007", 3, 15, "division by zero"),
    ("modulo-by-zero", "c = 5 % (2 - 2)", "NS007", 3, 14, "division by zero"),
    ("huge-power", "c = 2 ** 100", "NS007", 3, 9, "out of range"),
    ("huge-float-power", "c = 10.0 ** 400", "NS007", 3, 9, "out of range"),
    ("unknown-size", "c = x.shape[1] * 2", "NS108", 3, 9, "`x.shape[1]` is None"),
    ("unknown-size-via-name", "n = x.shape[1]\n    c = n + 1", "NS108", 4, 9, "`n` is None"),
    ("string-times-number", 'c = "a" * 2', "NS006", 3, 9, "takes numbers"),
    ("value-in-integer-op", "c = x // 2", "NS006", 3, 9, "does not apply to values"),
    ("number-into-chain", "c = 3\n    c -> dense(2)", "NS006", 4, 10, "passes a value"),
    ("number-as-statement", "c = 3\n    c", "NS006", 4, 5, "is not a layer"),
    ("condition-not-bool", "if 3 { dense(2) }", "NS006", 3, 8, "true or false"),
    ("and-on-numbers", "c = 1 and true", "NS006", 3, 9, "true or false"),
    ("index-out-of-range", "c = (1, 2)[2]", "NS007", 3, 16, "out of range"),
    ("index-not-int", "c = (1, 2)[0.5]", "NS006", 3, 16, "an index is an integer"),
    ("attribute-unknown", "c = x.size", "NS002", 3, 11, "`.shape`"),
    ("attribute-of-number", "c = (3).shape", "NS006", 3, 13, "attribute of a value"),
    ("function-wrong-type", 'c = abs("a")', "NS006", 3, 13, "takes a number"),
    ("function-of-none-size", "c = int(x.shape[1])", "NS108", 3, 13, "is None"),
    ("range-too-long", "c = range(100000)", "NS007", 3, 9, "at most"),
    ("keyword-to-function", "c = max(1, key=2)", "NS003", 3, 16, "no keyword"),
    ("value-as-layer-argument", "x -> dense(x)", "NS006", 3, 16, "cannot be a layer's argument"),
    ("destructure-one-value", "a, b = x -> dense(2)", "NS021", 3, 12, "2 names for 1 value"),
    ("name-listed-twice", "a, a = x -> dense(2)", "NS008", 3, 8, "listed twice"),
    ("compare-value", "if x == 1 { dense(2) }", "NS006", 3, 8, "compares numbers"),
    ("ops-unknown", "c = ops.sqr(x)", "NS002", 3, 13, "`sqrt`"),
    ("ops-no-axis", "c = ops.sum(x)", "NS005", 3, 9, "needs an axis"),
    ("ops-of-number", "c = ops.sqrt(4)", "NS006", 3, 18, "takes a value"),
    ("reduce-the-batch", "c = ops.sum(x, axis=0)", "NS102", 3, 9, "batch axis"),
    ("values-of-two-ranks", "p = x -> global_avg_pool1d\n    c = x + p", "NS103", 4, 9, "one rank"),
    ("values-do-not-fit", "p = x -> dense(3)\n    c = x * p", "NS103", 4, 9, "8 against 3"),
    ("power-of-value", "c = x ** 2", "NS006", 3, 9, "does not apply to values"),
    (
        "bound-in-one-branch",
        "if true { y = x -> dense(2) }\n    y -> dense(1)",
        "NS009",
        4,
        5,
        "only some branches",
    ),
    (
        "bound-in-one-branch-merge",
        "if true { y = x } else { z = x }\n    add(x, y)",
        "NS009",
        4,
        12,
        "only some branches",
    ),
    ("if-without-else-as-value", "y = if true { dense(2) }", "NS006", 3, 9, "without `else`"),
]


@pytest.mark.parametrize(
    ("body", "code", "line", "column", "fragment"),
    [case[1:] for case in FAILURES],
    ids=[case[0] for case in FAILURES],
)
def test_each_failure_is_a_diagnostic_at_its_place(
    body: str, code: str, line: int, column: int, fragment: str
) -> None:
    text = f"model m {{\n    x = input [None, 8]\n    {body}\n    x -> dense(1)\n}}\n"
    diagnostics = netspec.lint_source(text, "spec.ns")
    matching = [d for d in diagnostics if d.code == code]
    assert matching, [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in diagnostics]
    first = matching[0]
    assert (first.span.line, first.span.column) == (line, column), first.message
    assert fragment in first.message, first.message


def test_a_failed_expression_is_reported_once_not_at_each_use() -> None:
    text = """model m {
    x = input [8]
    c = 1 / 0
    d = c * 2
    if d > 1 { dense(4, name="a" + str(d)) } else { dense(2) }
}
"""
    assert [e.split(" ")[0] for e in errors(text)] == ["NS007"]


BLOCK_VALUES = """block cell(p, filters) {
    a = input -> separable_conv2d(filters, 3, padding=same)
    b = p -> conv2d(filters, 1)
    output add(a, b), a
}
"""


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ("y = x -> cell(p, 8)", "gives 2 values and `y` is one name"),
        ("a, b, c = x -> cell(p, 8)", "3 names for 2 values"),
        ("x -> cell(p, 8)", "bind them to as many names"),
    ],
)
def test_several_values_need_as_many_names(statement: str, fragment: str) -> None:
    text = BLOCK_VALUES + f"""
model m {{
    x = input [8, 8, 4]
    p = x -> conv2d(4, 1)
    {statement}
}}
"""
    found = [e for e in errors(text) if e.startswith("NS021")]
    assert found and fragment in found[0], errors(text)
    line = text.splitlines().index(f"    {statement}") + 1
    assert found[0].split(" ")[1].startswith(f"{line}:")


def test_after_destructuring_there_is_no_current_value() -> None:
    text = BLOCK_VALUES + """
model m {
    x = input [8, 8, 4]
    p = x -> conv2d(4, 1)
    s, a = x -> cell(p, 4)
    relu
}

model n {
    x = input [8, 8, 4]
    p = x -> conv2d(4, 1)
    s, a = x -> cell(p, 4)
}
"""
    found = errors(text)
    assert any(
        e.startswith("NS006 11:5 after `a, b = ...` there is no current value") for e in found
    )
    assert any(e.startswith("NS006 17:5 model n ends with `a, b = ...`") for e in found), found


# ---- what the new forms build ---------------------------------------------------------------


def test_a_name_bound_again_is_the_latest_value_and_a_number_leaves_the_current_value() -> None:
    text = """model m {
    x = input [4]
    x = x -> dense(8, relu)
    width = x.shape[-1] // 2
    x = x -> dense(width, relu)
    dense(width * 3)
}
"""
    assert [(n, s, p) for n, _, s, p in layers(text)] == [
        ("x", (4,), 0),
        ("dense", (8,), 40),
        ("dense_1", (4,), 36),
        ("dense_2", (12,), 60),
    ]


def test_if_chooses_statements_and_its_branch_is_the_body_value() -> None:
    text = """block maybe_project(filters, proj=None) {
    c = input.shape[-1]
    if proj == None and c == filters {
        d = input -> dense(filters)
        add(input, d)
    } else if proj == None {
        dense(filters, name="widen")
    } else {
        dense(proj)
    }
}

model m {
    x = input [4]
    x -> maybe_project(4) -> maybe_project(6) -> maybe_project(6, proj=2)
    if false { dense(100) }
}
"""
    assert [(n, k, s) for n, k, s, _ in layers(text)] == [
        ("x", "input", (4,)),
        ("dense", "dense", (4,)),
        ("add", "add", (4,)),
        ("widen", "dense", (6,)),
        ("dense_1", "dense", (2,)),
    ]


def test_blocks_take_values_and_give_several_and_loops_carry_them() -> None:
    text = BLOCK_VALUES + """
model m {
    x = input [8, 8, 4]
    p = x -> conv2d(4, 1, name="stem")
    for i in range(3) {
        x, p = x -> cell(p, 4 * (i + 1))
    }
    _, q = x -> cell(p, 12)
    m = q -> repeat 2 { conv2d(12, 3, padding=same, activation=relu) }
    concat(x, m) -> global_avg_pool2d -> dense(10, softmax)
}
"""
    built = layers(text)
    convs = [(n, s) for n, k, s, _ in built if k == "separable_conv2d"]
    assert [s[-1] for _, s in convs] == [4, 8, 12, 12]
    final = built[-1]
    assert final[0] == "dense" and final[2] == (10,)
    # `_` discards a value without NS010 (the last cell's add is never used otherwise)
    assert not errors(text)


def test_a_name_bound_in_every_branch_is_visible_after_the_if() -> None:
    text = """model m {
    x = input [4]
    i = x.shape[-1] // 2
    if i == 0 { y = x -> dense(2) } else if i == 1 { y = x -> dense(3) } else {
        y = x -> dense(4)
        z = 1
    }
    y -> dense(1)
}
"""
    assert [(n, s) for n, _, s, _ in layers(text)] == [
        ("x", (4,)),
        ("dense", (4,)),
        ("dense_1", (1,)),
    ]
    assert "only some branches" in errors(text.replace("y -> dense(1)", "dense(z)"))[0]


def test_chains_start_from_expressions_and_hold_if_and_for() -> None:
    text = """model m {
    x = input [4]
    sizes = (8, 6)
    y = x -> for s in sizes { dense(s, relu) } -> if len(sizes) > 1 { dense(3) } else { relu }
    z = (y) -> dense(2)
    output z
}
"""
    assert [(k, s) for _, k, s, _ in layers(text)][1:] == [
        ("dense", (8,)),
        ("dense", (6,)),
        ("dense", (3,)),
        ("dense", (2,)),
    ]


def test_a_bound_repeat_for_or_if_applies_to_the_current_value() -> None:
    text = """model m {
    input [4]
    dense(8, relu)
    m = repeat 2 { dense(8, relu) }
    y = if m.shape[-1] == 8 { dense(3) } else { dense(2) } -> relu
    z = m -> for f in (1, 2) { dense(f, relu) }
    concat(y, z)
}
"""
    assert [(k, s) for _, k, s, _ in layers(text)][1:] == [
        ("dense", (8,)),
        ("dense", (8,)),
        ("dense", (8,)),
        ("dense", (3,)),
        ("relu", (3,)),
        ("dense", (1,)),
        ("dense", (2,)),
        ("concat", (5,)),
    ]
    assert format_source(format_source(text)) == format_source(text)


def test_names_compose_and_strings_stand_for_options() -> None:
    text = """block conv(filters, prefix, pad="same") {
    conv2d(filters, 3, padding=pad, name=prefix + "_conv")
    batch_norm(name=prefix + "_bn")
}

model m {
    input [8, 8, 3]
    for i in range(1, 3) { conv(4 * i, "block" + str(i), pad=("valid" if false else "same")) }
}
"""
    # `a if c else b` is Python's, not the language's: it is a syntax error, said as one.
    assert errors(text)[0].startswith("NS001")
    fixed = text.replace('pad=("valid" if false else "same")', 'pad="valid"')
    names = [(n, s) for n, _, s, _ in layers(fixed)]
    assert names[1:] == [
        ("block1_conv", (6, 6, 4)),
        ("block1_bn", (6, 6, 4)),
        ("block2_conv", (4, 4, 8)),
        ("block2_bn", (4, 4, 8)),
    ]


def test_mobilenet_v2_with_input_shape_and_if_counts_as_keras_builds_it() -> None:
    keras = pytest.importorskip("keras")
    text = (ROOT / "tests" / "second_edition" / "mobilenet_v2.ns").read_text(encoding="utf-8")
    ours = [(n, (None, *s), p) for n, _, s, p in layers(text)]
    keras.backend.clear_session()  # its global_average_pooling2d is auto-named: count from 0
    model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None)
    theirs = [(x.name, tuple(x.output.shape), x.count_params()) for x in model.layers]
    # Keras names its input from a counter global to the process (`input_layer_146`).
    assert ours[0][1:] == theirs[0][1:]
    assert ours[1:] == theirs[1:]


# ---- the formatter and the editor on the new forms ------------------------------------------

FORMS = BLOCK_VALUES + """
block mb(filters, se=0.25, name="mb") {
    c = input.shape[-1]
    h = input -> conv2d(c * 6, 1, name=name + "_expand")
    if se > 0 and not (c < 2) {
        s = h -> global_avg_pool2d(keepdims=true) -> conv2d(max(1, int(c * se)), 1)
        h = multiply(h, s)
    } else if c ** 2 >= 4 % 3 { h = h -> relu } else {
        h = h -> relu6
    }
    h = h -> conv2d(filters, 1)
    if c == filters { add(input, h) } else { h }
}

model m {
    x = input [8, 8, 4]
    p = x -> conv2d(4, 1)
    y, a = x -> cell(p, 4)
    k = 0
    z = y -> repeat 2 {
        k = k + 1
        mb(4, name="r" + str(k))
    } -> for f in range(2, 4) { mb(f * 2, name="b" + str(f)) }
    z = z -> global_avg_pool2d
    a = a -> global_avg_pool2d
    concat(z, a) -> dense(10, softmax)
}
"""


@pytest.mark.parametrize(
    "text",
    [FORMS, *(p.read_text(encoding="utf-8") for p in SECOND_EDITION)],
    ids=["forms", *(p.stem for p in SECOND_EDITION)],
)
def test_the_formatter_lays_out_the_new_forms_idempotently(text: str) -> None:
    once = format_source(text)
    assert format_source(once) == once
    assert not errors(once)


def test_hover_and_inlay_hints_answer_on_every_point_of_the_new_forms() -> None:
    analysis = analyze(FORMS, "forms.ns")
    assert not [d for d in analysis.diagnostics if d.severity.value == "error"]
    lines = FORMS.splitlines()
    answered = 0
    for number, line in enumerate(lines, start=1):
        for column in range(1, len(line) + 2):
            answered += hover(analysis, (number, column)) is not None
    hints = inlay_hints(analysis)
    assert answered > 0 and hints
    hinted = {h.line for h in hints}
    # the lines of the `if` branches and of the destructuring binding get their shapes
    assert {lines.index("    y, a = x -> cell(p, 4)") + 1} <= hinted


def test_operations_on_values_are_nodes_without_weights_or_layer_names() -> None:
    text = """model m {
    a = input [4]
    b = input [4]
    d = ops.sqrt(ops.maximum(ops.sum(ops.square(a - b), axis=1, keepdims=true), 1e-7))
    h = (a * 0.5 + 1.0) -> relu(max_value=6.0)
    concat(d, 1 - h, ops.mean(-h, axis=-1, keepdims=true)) -> dense(2)
}
"""
    built = layers(text)
    operations = [(n, k, s, p) for n, k, s, p in built if k.startswith("ops.")]
    assert [(n, s, p) for n, _, s, p in operations] == [
        ("subtract_op", (4,), 0),
        ("square_op", (4,), 0),
        ("sum_op", (1,), 0),
        ("maximum_op", (1,), 0),
        ("sqrt_op", (1,), 0),
        ("multiply_op", (4,), 0),
        ("add_op", (4,), 0),
        ("subtract_op_1", (4,), 0),
        ("negative_op", (4,), 0),
        ("mean_op", (1,), 0),
    ]
    # Keras' layer names go on as if the operations were not there.
    assert [n for n, k, _, _ in built if not k.startswith("ops.")] == [
        "a", "b", "re_lu", "concatenate", "dense",
    ]  # fmt: skip


def test_go_to_definition_of_a_name_bound_again_is_the_latest_binding_above() -> None:
    from netspec.app.lsp_features import definition

    text = "model m {\n    x = input [4]\n    x = x -> dense(8)\n    x -> dense(2)\n}\n"
    analysis = analyze(text, "again.ns")
    # `x` on line 4 is the binding of line 3; `x` after `=` on line 3 is the input of line 2
    assert definition(analysis, (4, 5)).line == 3
    assert definition(analysis, (3, 9)).line == 2
