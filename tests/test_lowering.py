"""Lowering: every example parses and lowers into the IR it should (kinds, arguments, names, spans)."""

from __future__ import annotations

from pathlib import Path

import pytest

import netspec
from netspec.language.ir import Graph

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.ns"))
CONTRACT = sorted((ROOT / "tests" / "contract").glob("*.ns"))


def lowered(text: str) -> dict[str, Graph]:
    program = netspec.load_program(text, "spec.ns")
    errors = [d for d in program.diagnostics if d.severity.value == "error"]
    assert not errors, [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in errors]
    return {g.name: g for g in program.graphs}


def summary(graph: Graph) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(n.name, n.kind.name, n.inputs) for n in graph.nodes]


@pytest.mark.parametrize("path", EXAMPLES + CONTRACT, ids=lambda p: p.name)
def test_every_example_lowers_without_errors(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    diagnostics = netspec.lint_source(text, str(path))
    errors = [d for d in diagnostics if d.severity.value == "error"]
    assert not errors, [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in errors]
    graphs = lowered(text)
    assert graphs
    for graph in graphs.values():
        assert graph.inputs and graph.outputs


SEED = """model seed {
    input [2]
    dense(4, relu)
    dense(3, relu)
    dense(1)
}
"""


def test_seed_ir() -> None:
    graph = lowered(SEED)["seed"]
    assert summary(graph) == [
        ("input_layer", "input", ()),
        ("dense", "dense", (0,)),
        ("dense_1", "dense", (1,)),
        ("dense_2", "dense", (2,)),
    ]
    dense = graph.nodes[1]
    assert dense.args["units"] == 4
    assert dense.args["activation"] == "relu"
    assert dense.args["use_bias"] is True
    assert dense.args["kernel_initializer"] == "glorot_uniform"
    assert dense.explicit == {"units", "activation"}
    assert graph.nodes[3].args["activation"] is None
    assert (dense.span.line, dense.span.column, dense.span.end_column) == (3, 5, 19)
    assert graph.inputs == [0] and graph.outputs == [3]
    assert graph.is_sequential


def test_keras_input_shape_form_equals_input_statement() -> None:
    keras_form = """model seed {
        dense(4, activation=relu, input_shape=[2])
        dense(3, activation=relu)
        dense(1)
    }"""
    a, b = lowered(SEED)["seed"], lowered(keras_form)["seed"]
    assert summary(a) == summary(b)
    assert a.nodes[0].args == b.nodes[0].args == {"shape": (2,), "dtype": "float32"}
    assert [n.args for n in a.nodes[1:]] == [n.args for n in b.nodes[1:]]


def test_residual_graph_names_and_merge_inputs() -> None:
    graph = lowered((ROOT / "tests/contract/example_2.ns").read_text())["residual"]
    names = [n.name for n in graph.nodes]
    assert names == [
        "x", "conv2d", "batch_normalization", "re_lu", "conv2d_1", "batch_normalization_1",
        "add", "re_lu_1",
    ]  # fmt: skip
    add = graph.nodes[6]
    assert add.kind.name == "add" and add.inputs == (0, 5)
    assert graph.outputs == [7]
    assert graph.nodes[1].args["padding"] == "same"
    assert graph.nodes[1].args["kernel_size"] == (3, 3)
    assert not graph.is_sequential


def test_blocks_expand_with_names_spans_and_origin() -> None:
    text = (ROOT / "tests/contract/example_3.ns").read_text()
    graph = lowered(text)["tiny_resnet"]
    first_conv = graph.nodes[1]
    assert first_conv.name == "conv2d"
    assert first_conv.args["filters"] == 32
    assert first_conv.args["kernel_size"] == (7, 7)
    assert first_conv.args["strides"] == (2, 2)
    assert first_conv.args["use_bias"] is False
    # The span is the layer's line inside the block; the origin says where the block was used.
    assert first_conv.span.line == 3
    assert [(u.block, u.span.line) for u in first_conv.origin] == [("conv_bn", 17)]
    # A conv_bn inside a bottleneck: two levels of block use.
    nested = next(
        n for n in graph.nodes if [u.block for u in n.origin] == ["bottleneck", "conv_bn"]
    )
    assert nested.span.line == 3
    assert [u.span.line for u in nested.origin] == [18, 9]
    # 4 * f evaluated with f = 32
    wide = [n for n in graph.nodes if n.kind.name == "conv2d" and n.args["filters"] == 128]
    assert len(wide) == 6  # two per bottleneck, three bottlenecks
    adds = [n.name for n in graph.nodes if n.kind.name == "add"]
    assert adds == ["add", "add_1", "add_2"]
    assert graph.nodes[-1].name == "dense" and graph.nodes[-1].args["activation"] == "softmax"


def test_block_expansion_equals_the_network_written_out() -> None:
    with_blocks = """
    block conv_bn(filters, kernel=3) {
        conv2d(filters, kernel, padding=same)
        batch_norm
        relu
    }
    model m {
        input [32, 32, 3]
        conv_bn(16)
        repeat 2 { conv_bn(32, kernel=1) }
    }"""
    by_hand = """
    model m {
        input [32, 32, 3]
        conv2d(16, 3, padding=same)
        batch_norm
        relu
        conv2d(32, 1, padding=same)
        batch_norm
        relu
        conv2d(32, 1, padding=same)
        batch_norm
        relu
    }"""
    a, b = lowered(with_blocks)["m"], lowered(by_hand)["m"]
    assert summary(a) == summary(b)
    assert [n.args for n in a.nodes] == [n.args for n in b.nodes]


def test_for_loop_and_arithmetic() -> None:
    graph = lowered("""model m {
            input [64, 64, 3]
            for f in (16, 32, 64) { conv2d(f * 2 - f // 2, 3); max_pool2d(2) }
        }""")["m"]
    convs = [n.args["filters"] for n in graph.nodes if n.kind.name == "conv2d"]
    assert convs == [24, 48, 96]
    assert [n.name for n in graph.nodes if n.kind.name == "max_pool2d"] == [
        "max_pooling2d", "max_pooling2d_1", "max_pooling2d_2",
    ]  # fmt: skip


def test_repeat_zero_and_expression_count() -> None:
    graph = lowered("""block stack(blocks) {
            repeat blocks - 1 { dense(8, relu) }
        }
        model m { input [4]; stack(3); repeat 0 { dense(99) }; dense(1) }""")["m"]
    assert [n.args.get("units") for n in graph.nodes[1:]] == [8, 8, 1]


def test_nested_layer_values_are_named_first() -> None:
    graph = lowered("""model m {
            input [None] int32
            embedding(1000, 16)
            bidirectional(lstm(8, return_sequences=true))
            lstm(4)
        }""")["m"]
    assert graph.nodes[0].args == {"shape": (None,), "dtype": "int32"}
    bidirectional = graph.nodes[2]
    inner = bidirectional.args["layer"]
    assert (inner.kind, inner.name, inner.args["units"]) == ("lstm", "lstm", 8)
    assert inner.args["return_sequences"] is True
    assert bidirectional.name == "bidirectional"
    assert graph.nodes[3].name == "lstm_1"  # the inner lstm took `lstm`, as in Keras


def test_explicit_names_do_not_advance_the_counter() -> None:
    graph = lowered("""model m {
            input [4]
            dense(8, relu, name=hidden)
            dense(8, relu)
            dense(1, name="output")
        }""")["m"]
    assert [n.name for n in graph.nodes] == ["input_layer", "hidden", "dense", "output"]
    assert not graph.nodes[1].auto_named and graph.nodes[2].auto_named


def test_several_inputs_and_outputs() -> None:
    graph = lowered("""model two_towers {
            a = input [8]
            b = input [8] int32
            ha = a -> dense(4, relu)
            hb = b -> dense(4, relu)
            y = concat(ha, hb, axis=-1) -> dense(1)
            output y, ha
        }""")["two_towers"]
    assert [graph.nodes[i].name for i in graph.inputs] == ["a", "b"]
    assert graph.nodes[1].args["dtype"] == "int32"
    assert [graph.nodes[i].name for i in graph.outputs] == ["dense_2", "dense"]
    concat = next(n for n in graph.nodes if n.kind.name == "concat")
    assert concat.args["axis"] == -1 and concat.name == "concatenate"


def test_compile_and_values() -> None:
    graph = lowered("""model m {
            input [4]
            dense(3, softmax, kernel_regularizer=l2(1e-4), kernel_initializer=he_normal)
            compile(loss=sparse_categorical_crossentropy(from_logits=true),
                    optimizer=adam(learning_rate=1e-3),
                    metrics=[accuracy, top_k_categorical_accuracy(k=5)])
        }""")["m"]
    dense = graph.nodes[1]
    assert dense.args["kernel_regularizer"].name == "l2"
    assert dense.args["kernel_regularizer"].args == (1e-4,)
    spec = graph.compile
    assert spec is not None
    assert spec.loss.name == "sparse_categorical_crossentropy"
    assert spec.loss.kwargs == (("from_logits", True),)
    assert spec.optimizer.kwargs == (("learning_rate", 0.001),)
    assert spec.metrics[0] == "accuracy" and spec.metrics[1].kwargs == (("k", 5),)


def test_keras_class_names_and_activation_layers() -> None:
    graph = lowered("""model m {
            input [28, 28, 1]
            Conv2D(8, 3)
            BatchNormalization
            tanh
            MaxPooling2D
            Flatten
            Dense(10)
            softmax
        }""")["m"]
    assert [n.name for n in graph.nodes[1:]] == [
        "conv2d", "batch_normalization", "activation", "max_pooling2d", "flatten", "dense",
        "softmax",
    ]  # fmt: skip
    assert graph.nodes[3].args["activation"] == "tanh"


def test_chain_continues_on_lines_starting_with_arrow_and_comments() -> None:
    graph = lowered("""model m {  # a comment after the brace
            x = input [4]   # the input
            h = x -> dense(8)
                # a comment line inside the chain
                -> relu
                -> dense(2)
            h -> softmax; dense(1)
        }""")["m"]
    assert [n.kind.name for n in graph.nodes] == [
        "input",
        "dense",
        "relu",
        "dense",
        "softmax",
        "dense",
    ]


def test_block_parameters_can_name_activations_and_layers() -> None:
    graph = lowered("""block mlp(width, act=relu, norm=layer_norm) {
            dense(width, activation=act)
            norm
        }
        model m { input [4]; mlp(8); mlp(8, act=gelu, norm=batch_norm) }""")["m"]
    assert [(n.kind.name, n.args.get("activation")) for n in graph.nodes[1:]] == [
        ("dense", "relu"), ("layer_norm", None), ("dense", "gelu"), ("batch_norm", None),
    ]  # fmt: skip


def test_block_defined_after_use_and_default_from_parameter() -> None:
    graph = lowered("""model m { input [4]; widen(3) }
        block widen(n, m=2 * n) { dense(m) }""")["m"]
    assert graph.nodes[1].args["units"] == 6


def test_an_input_takes_its_binding_only_when_the_binding_is_the_input() -> None:
    graph = lowered(
        "model m {\n    a = input [4] -> dense(2)\n    b = input [3]\n    c = b -> dense(2)\n"
        "    add(a, c)\n}\n"
    )["m"]
    assert [graph.nodes[i].name for i in graph.inputs] == ["input_layer", "b"]
