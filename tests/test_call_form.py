"""The call form `kind(args)(v1, v2, ...)` and bare kinds as layer-valued arguments: they lower to
the graph the chain form gives, and each misuse is a diagnostic at its place."""

from __future__ import annotations

import os

import numpy as np
import pytest

import netspec
from netspec.api import checked_models, generate_source
from netspec.language.fmt import format_source

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def graph_of(text: str):
    program = netspec.load_program(text, "spec.ns")
    errors = [d for d in program.diagnostics if d.severity.value == "error"]
    assert not errors, [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in errors]
    (graph,) = program.graphs
    return graph


def structure(graph) -> list[tuple]:
    return [
        (n.name, n.kind.name, n.inputs, tuple(sorted((k, repr(v)) for k, v in n.args.items())))
        for n in graph.nodes
    ]


@pytest.mark.parametrize(
    "applied, chained",
    [
        ("dense(8, relu)(x)", "x -> dense(8, relu)"),
        ("add()(x, y)", "add(x, y)"),
        ("concat(axis=1)(x, y)", "concat(x, y, axis=1)"),
        ("attention(use_scale=true)(x, y)", "attention(x, y, use_scale=true)"),
        ("double(4)(x)", "x -> double(4)"),
        ("time_distributed(flatten)(s)", "s -> time_distributed(flatten())"),
        ("time_distributed(layer=flatten)(s)", "s -> time_distributed(flatten())"),
    ],
)
def test_the_call_form_is_the_chain_form(applied: str, chained: str) -> None:
    inputs = {"x": "[6, 8]", "y": "[6, 8]", "s": "[6, 2, 3]"}
    used = [name for name in inputs if f"{name})" in applied or f"{name}," in applied]
    lines = "".join(f"    {name} = input {inputs[name]}\n" for name in used)
    template = (
        "block double(units) {{\n    dense(units, relu) -> dense(units)\n}}\n\n"
        "model m {{\n" + lines + "    z = {}\n    output z\n}}\n"
    )
    assert structure(graph_of(template.format(applied))) == structure(
        graph_of(template.format(chained))
    )


def test_a_bare_kind_in_a_block_parameter_is_a_layer_too() -> None:
    text = """block per_step(layer=flatten) {
    time_distributed(layer)
}

model m {
    input [6, 2, 3]
    per_step
}
"""
    graph = graph_of(text)
    assert graph.nodes[-1].args["layer"].kind == "flatten"


BAD = """model m {
    q = input [10, 16]
    v = input [12, 8]
    a = attention()(q, v)
    b = q -> dense(8)(v)
    c = dense(8)(q, v)
    d = dense(8)(q, units=3)
    e = nothing(3)(q)
    f = rescaling((1.0, 2.0))(q)
    g = position_embedding(5)(q)
    h = dense(8)(3)
    output a, b, c, d, e, f, g, h
}
"""


def test_misuses_are_diagnostics_at_their_place() -> None:
    found = [(d.code, d.span.line, d.span.column) for d in netspec.lint_source(BAD, "bad.ns")]
    assert found == [
        ("NS103", 4, 9),  # query of 16 features against keys of 8
        ("NS006", 5, 14),  # applied to values and chained too
        ("NS110", 6, 17),  # two values for a layer of one
        ("NS006", 7, 21),  # a keyword among the values
        ("NS002", 8, 9),  # an unknown kind
        ("NS102", 9, 19),  # two scales for 16 channels
        ("NS102", 10, 28),  # a position table shorter than the sequence
        ("NS006", 11, 18),  # a number where a value is applied
    ]


def test_the_formatter_keeps_the_call_form_together() -> None:
    text = "model m {\n    x = input [4]\n    y = dense(8)( x )\n    z = add ()(x, x)\n}\n"
    assert format_source(text) == (
        "model m {\n    x = input [4]\n    y = dense(8)(x)\n    z = add()(x, x)\n}\n"
    )


TRANSFORMER = """block encoder(heads, dim, ff, rate=0.1) {
    a = multi_head_attention(heads, dim // heads)(input, input) -> dropout(rate)
    h = add(input, a) -> layer_norm(epsilon=1e-6)
    f = h -> dense(ff, relu) -> dense(dim) -> dropout(rate)
    add(h, f) -> layer_norm(epsilon=1e-6)
}

model text_transformer {
    tokens = input [200] int32
    e = tokens -> embedding(20000, 32)
    p = e -> position_embedding(200)
    add(e, p) -> encoder(2, 32, 32)
    global_avg_pool1d
    dropout(0.1) -> dense(20, relu) -> dropout(0.1) -> dense(2, softmax)
}
"""


def test_the_contract_transformer_counts_as_keras_builds_it(tmp_path) -> None:
    """language.md's text classifier: the generated Keras model has netspec's layers, counts and
    weight names, and runs."""
    keras = pytest.importorskip("keras")
    from generated import import_generated

    assert netspec.lint_source(TRANSFORMER, "t.ns") == []
    module = import_generated(generate_source(TRANSFORMER, "t.ns", "keras"), tmp_path, "keras")
    model = module.build_text_transformer()
    (checked,) = checked_models(TRANSFORMER, "t.ns")
    ours = {
        f"{n.name}/{w.name}": w.shape for n in checked.graph.nodes for w in checked.weights[n.id]
    }
    assert {module._weight_key(model, w): tuple(w.shape) for w in model.weights} == ours
    assert model.count_params() == sum(int(np.prod(s)) for s in ours.values()) == 653_566
    out = model(np.zeros((2, 200), dtype="int32"))
    assert tuple(out.shape) == (2, 2)
    del keras
