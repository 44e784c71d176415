"""`netspec fmt`: a canonical layout that keeps the meaning, every comment and every `# noqa`."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netspec
from netspec.app.fmt_command import configure_fmt, run_fmt
from netspec.language.fmt import LINE_LENGTH, FormatResult, format_result, format_source
from netspec.language.source import find_comments

ROOT = Path(__file__).resolve().parent.parent
SPEC_FILES = sorted(
    {
        *ROOT.glob("examples/*.ns"),
        *ROOT.glob("tests/contract/*.ns"),
        *ROOT.glob("tests/codegen_cases/*.ns"),
        *ROOT.glob("tests/rules/**/*.ns"),
    }
)
SPEC_IDS = [str(p.relative_to(ROOT)) for p in SPEC_FILES]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def meaning(text: str) -> list:
    """What a spec lowers to: per model its nodes (name, kind, arguments, inputs), inputs,
    outputs and compile arguments."""
    program = netspec.load_program(text, "spec.ns")
    return [
        (
            graph.name,
            [(n.name, n.kind.name, dict(n.args), n.inputs) for n in graph.nodes],
            list(graph.inputs),
            list(graph.outputs),
            dict(graph.compile.args) if graph.compile else None,
        )
        for graph in program.graphs
    ]


def lint_codes(text: str, path: str = "spec.ns") -> Counter:
    return Counter(d.code for d in netspec.lint_source(text, path))


def comments(text: str) -> list[str]:
    return [c.text.rstrip() for c in find_comments(text)]


# --- every spec in the repository ---------------------------------------------------------------


def test_the_spec_files_are_found() -> None:
    assert len(SPEC_FILES) > 50
    assert {"examples", "tests"} <= {p.relative_to(ROOT).parts[0] for p in SPEC_FILES}


@pytest.mark.parametrize("path", SPEC_FILES, ids=SPEC_IDS)
def test_formatting_keeps_the_meaning_and_is_idempotent(path: Path) -> None:
    original = read(path)
    formatted = format_source(original)
    assert format_source(formatted) == formatted
    assert meaning(formatted) == meaning(original)
    assert lint_codes(formatted, str(path)) == lint_codes(original, str(path))
    assert comments(formatted) == comments(original)
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    for line in formatted.splitlines():
        code = line.split("  #")[0]
        assert len(code) <= LINE_LENGTH or "noqa" in line, line
        assert line == line.rstrip()
        assert "\t" not in line


def test_the_contract_examples_keep_their_layout_but_for_the_continuation_indent() -> None:
    original = read(ROOT / "tests/contract/example_2.ns")
    expected = original.replace("\n          -> conv2d", "\n        -> conv2d")
    assert format_source(original) == expected


# --- the layout -----------------------------------------------------------------------------------

MESSY = """\
# A messy spec.
block  conv_bn( filters,kernel = 3 ) {
  conv2d( filters,kernel,padding = same ,use_bias=false)   # no bias: batch norm follows
        batch_norm ; relu
}
model   messy{
input [ 32,32 , 3 ]



   x=conv_bn(16)->max_pool2d( 2 )
      -> conv_bn( 2*16 , kernel=5-2 )
   # an own-line comment
   y = x->global_avg_pool2d
   repeat 2 {dense( 8,relu ) }
   for f in ( 4,8 ) { dense(f, relu); dropout(0.1) }
   dense(10,softmax,  kernel_regularizer=l2(1e-4),bias_regularizer=l2(1e-4),activity_regularizer=l2(1e-5), name="head")  # noqa: NS201
   reshape((10,), name = flat)
   compile(loss = sparse_categorical_crossentropy,
           optimizer = adam( learning_rate = -1e-3 ),
           )


   # the last comment of the body

}
model wide {
    a = input [8]
    b = a -> dense(16, kernel_initializer=he_normal, name=first_dense_layer) -> dense(16, relu, name=second) -> dense(4, name=third)
    c = concat(a, b, axis=-1) -> dense(32, kernel_regularizer=l2(1e-4), bias_regularizer=l2(1e-4), name=wide_one)
    d = add(
        c,  # the left side
        c
    )
    output d
}
"""  # noqa: E501

MESSY_FORMATTED = """\
# A messy spec.
block conv_bn(filters, kernel=3) {
    conv2d(filters, kernel, padding=same, use_bias=false)  # no bias: batch norm follows
    batch_norm
    relu
}

model messy {
    input [32, 32, 3]

    x = conv_bn(16) -> max_pool2d(2)
        -> conv_bn(2 * 16, kernel=5 - 2)
    # an own-line comment
    y = x -> global_avg_pool2d
    repeat 2 { dense(8, relu) }
    for f in (4, 8) { dense(f, relu); dropout(0.1) }
    dense(10, softmax, kernel_regularizer=l2(1e-4), bias_regularizer=l2(1e-4), activity_regularizer=l2(1e-5), name="head")  # noqa: NS201
    reshape((10,), name=flat)
    compile(loss=sparse_categorical_crossentropy, optimizer=adam(learning_rate=-1e-3))

    # the last comment of the body
}

model wide {
    a = input [8]
    b = a -> dense(16, kernel_initializer=he_normal, name=first_dense_layer)
        -> dense(16, relu, name=second) -> dense(4, name=third)
    c = concat(a, b, axis=-1) -> dense(
        32,
        kernel_regularizer=l2(1e-4),
        bias_regularizer=l2(1e-4),
        name=wide_one,
    )
    d = add(
        c,  # the left side
        c,
    )
    output d
}
"""  # noqa: E501


def test_a_messy_spec_formats_to_the_house_style() -> None:
    assert format_source(MESSY) == MESSY_FORMATTED
    assert format_source(MESSY_FORMATTED) == MESSY_FORMATTED
    assert meaning(MESSY_FORMATTED) == meaning(MESSY)
    assert lint_codes(MESSY_FORMATTED) == lint_codes(MESSY)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # spacing: commas, bindings, keyword arguments, operators, signs, brackets
        ("model m{x=input[ 2 ]int32\ndense(4,activation=relu)}", "x = input [2] int32"),
        ("model m { input [2]; dense(4*2+1) }", "dense(4 * 2 + 1)"),
        ("model m { input [2]; dense(-(-4) * 2 // 1) }", "dense(-(-4) * 2 // 1)"),
        ("model m { input [4, 3]; softmax(axis = - 1) }", "softmax(axis=-1)"),
        ("block b(n,m = 2*n) { dense(m) }", "block b(n, m=2 * n) {"),
        ("block b(n) { repeat n-1 { dense(n) } }", "repeat n - 1 { dense(n) }"),
        ("block b(n) { repeat -n+3 { dense(n) } }", "repeat -n + 3 { dense(n) }"),
        ("block b { for f in(1,2){ dense(f) } }", "for f in (1, 2) { dense(f) }"),
        ("model m { input [2]; x=input[2]; add( x ,x )->relu; output x }", "add(x, x) -> relu"),
        ('model m { input [2]; dense(1, name = "out") }', 'dense(1, name="out")'),
        # trailing commas go when a line is joined, but a one-element tuple keeps its own
        ("model m { input [10]; reshape( (10 ,) ) }", "reshape((10,))"),
        ("model m { input [10,]; dense(4,) }", "input [10]\n    dense(4)\n"),
        ("model m { input [2]; reshape((2, 1,),) }", "reshape((2, 1))"),
        ("model m { input [2]; dense((4)) }", "dense((4))"),
        # `;` statements get lines of their own, except in a one-line repeat / for body
        ("model m { input [2]; dense(4); relu }", "model m {\n    input [2]\n    dense(4)\n"),
        ("model m {\n input [2]\n repeat 2 { dense(2) ; relu }\n}", "repeat 2 { dense(2); relu }"),
        (
            "model m {\n input [2]\n repeat 2 {\n dense(2)\n }\n}",
            "    repeat 2 {\n        dense(2)\n    }\n",
        ),
        # an empty body
        ("block b {\n}\n", "block b {}\n"),
    ],
)
def test_layout_rules(source: str, expected: str) -> None:
    formatted = format_source(source)
    assert expected in formatted, formatted
    assert format_source(formatted) == formatted
    assert meaning(formatted) == meaning(source)


def test_blank_lines_collapse_and_definitions_are_one_apart() -> None:
    source = (
        "\n\n# header\n\n\n\nmodel a {\n\n\n  input [2]\n\n\n\n  dense(1)\n\n}\n"
        "# about b\nmodel b {\n  input [2]\n  dense(1)\n}\n\n\n\n"
    )
    assert format_source(source) == (
        "# header\n\nmodel a {\n    input [2]\n\n    dense(1)\n}\n\n"
        "# about b\nmodel b {\n    input [2]\n    dense(1)\n}\n"
    )


def test_continuation_lines_stay_and_are_indented_four_more() -> None:
    source = (
        "block b {\n"
        "  h = input -> dense(4)\n"
        "                -> relu  # after relu\n"
        "  # before the last continuation\n"
        "\n"
        "                      -> dense(2)\n"
        "  h\n"
        "}\n"
    )
    assert format_source(source) == (
        "block b {\n"
        "    h = input -> dense(4)\n"
        "        -> relu  # after relu\n"
        "        # before the last continuation\n"
        "        -> dense(2)\n"
        "    h\n"
        "}\n"
    )


def test_a_long_chain_is_cut_at_arrows_and_a_long_call_at_commas() -> None:
    layers = " -> ".join(f"dense({n}, relu, name=layer_{n})" for n in range(1, 7))
    source = f"model m {{\n    x = input [2]\n    y = x -> {layers}\n}}\n"
    formatted = format_source(source)
    assert formatted == (
        "model m {\n"
        "    x = input [2]\n"
        "    y = x -> dense(1, relu, name=layer_1) -> dense(2, relu, name=layer_2)\n"
        "        -> dense(3, relu, name=layer_3) -> dense(4, relu, name=layer_4)\n"
        "        -> dense(5, relu, name=layer_5) -> dense(6, relu, name=layer_6)\n"
        "}\n"
    )
    args = ", ".join(f"{k}=l2(1e-4)" for k in ("kernel_regularizer", "bias_regularizer"))
    source = (
        f"model m {{\n    input [2]\n    dense(4, activation=relu, {args}, name=first_layer)\n}}\n"
    )
    assert format_source(source) == (
        "model m {\n"
        "    input [2]\n"
        "    dense(\n"
        "        4,\n"
        "        activation=relu,\n"
        "        kernel_regularizer=l2(1e-4),\n"
        "        bias_regularizer=l2(1e-4),\n"
        "        name=first_layer,\n"
        "    )\n"
        "}\n"
    )


def test_short_multi_line_calls_are_joined_and_long_ones_split() -> None:
    source = "model m {\n    input [2]\n    dense(4,\n          relu,\n    )\n}\n"
    assert format_source(source) == "model m {\n    input [2]\n    dense(4, relu)\n}\n"
    long_tuple = ", ".join(str(n) for n in range(100, 130))
    source = f"model m {{\n    input [30]\n    x = input [{long_tuple}]\n}}\n"
    formatted = format_source(source)
    assert "    x = input [\n        100,\n        101,\n" in formatted
    assert "        129,\n    ]\n" in formatted
    assert meaning(formatted) == meaning(source)


def test_empty_and_comment_only_files() -> None:
    assert format_source("") == ""
    assert format_source("\n\n  \n") == ""
    assert format_source("# just a note   \n\n\n# another\n") == "# just a note\n\n# another\n"


def test_windows_line_ends_are_kept() -> None:
    source = "model m {\r\n  input [2]\r\n  dense(1)  # out\r\n}\r\n"
    assert format_source(source) == "model m {\r\n    input [2]\r\n    dense(1)  # out\r\n}\r\n"


@pytest.mark.parametrize(
    "source",
    [
        "model m {\r  input [2]\r  dense(1)  # out\r}\r",  # old Mac: lone CR
        "model m {\r  input [2]\r\n  dense(1)  # out\n}\r\n",  # mixed, first line a lone CR
    ],
)
def test_lone_cr_line_ends_become_newlines_and_formatting_converges(source: str) -> None:
    # As black: only a first line ending in CRLF keeps CRLF; the rest is written with "\n".
    formatted = format_source(source)
    assert formatted == "model m {\n    input [2]\n    dense(1)  # out\n}\n"
    assert format_source(formatted) == formatted
    assert not format_result(formatted).changed


def test_the_example_in_the_formatting_page_is_formatted_and_clean() -> None:
    page = (ROOT / "docs" / "formatting.md").read_text(encoding="utf-8")
    example = page.split("```\n# A depthwise")[1].split("```")[0]
    example = "# A depthwise" + example
    assert format_source(example) == example
    assert netspec.lint_source(example) == []


# --- comments and suppressions --------------------------------------------------------------------

COMMENTED = """\
# file header
# netspec: noqa: NS225
model m {  # after the brace
    input [28, 28, 1]  # the image
    # a note before the convolution
    conv2d(8, 3,  # filters and window
        # an own-line comment inside the call
        activation=relu)
    flatten
    dense(10, softmax)  # noqa: NS209
}  # after the model
# the end
"""


def test_every_comment_is_kept_in_order() -> None:
    formatted = format_source(COMMENTED)
    assert comments(formatted) == comments(COMMENTED)
    assert len(comments(formatted)) == 10
    assert formatted == (
        "# file header\n"
        "# netspec: noqa: NS225\n"
        "model m {  # after the brace\n"
        "    input [28, 28, 1]  # the image\n"
        "    # a note before the convolution\n"
        "    conv2d(\n"
        "        8,\n"
        "        3,  # filters and window\n"
        "        # an own-line comment inside the call\n"
        "        activation=relu,\n"
        "    )\n"
        "    flatten\n"
        "    dense(10, softmax)  # noqa: NS209\n"
        "}  # after the model\n"
        "\n"
        "# the end\n"
    )
    assert format_source(formatted) == formatted


def test_noqa_stays_on_the_line_of_its_code_and_still_silences() -> None:
    source = read(ROOT / "examples/vgg16.ns")
    formatted = format_source(source)
    assert "    dense(4096, relu, name=fc1)  # noqa: NS209\n" in formatted
    assert lint_codes(formatted) == lint_codes(source)
    assert "NS209" not in lint_codes(formatted) and "NS019" not in lint_codes(formatted)


def test_a_long_line_with_noqa_is_not_cut() -> None:
    regularizers = ", ".join(f"{k}=l2(1e-4)" for k in ("kernel_regularizer", "bias_regularizer"))
    source = (
        "model m {\n"
        "    input [2]\n"
        f"    dense(4, {regularizers}, activity_regularizer=l2(1e-5), name=first)  # noqa: NS201\n"
        "    dense(4)\n"
        "    relu\n"
        "}\n"
    )
    assert len(source.splitlines()[2].split("  #")[0]) > LINE_LENGTH
    formatted = format_source(source)
    assert formatted == source
    assert "NS201" not in lint_codes(formatted)
    unsilenced = source.replace("  # noqa: NS201", "")
    assert "NS201" in lint_codes(unsilenced)
    assert "    dense(\n        4,\n" in format_source(unsilenced)


def test_noqa_inside_a_call_stays_with_its_argument() -> None:
    source = (
        "model m {\n"
        "    input [2]\n"
        "    dense(4, relu,\n"
        "          kernel_initializer=zeros)  # noqa: NS210\n"
        "}\n"
    )
    formatted = format_source(source)
    assert lint_codes(formatted) == lint_codes(source)


# --- parse errors ---------------------------------------------------------------------------------


def test_a_text_that_does_not_parse_comes_back_unchanged_with_ns001() -> None:
    bad = "model m {\n  input [2\n  dense(1)\n}\n"
    assert format_source(bad) == bad
    result = format_result(bad, "bad.ns")
    assert isinstance(result, FormatResult)
    assert result.text == bad and not result.changed
    assert result.diagnostic is not None and result.diagnostic.code == "NS001"
    assert result.diagnostic.path == "bad.ns"


# --- the command ----------------------------------------------------------------------------------


def fmt(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="netspec fmt")
    configure_fmt(parser)
    return run_fmt(parser.parse_args(list(argv)))


UGLY = "model seed {\n  input [2]\n  dense(4,relu)\n  dense(1)\n}\n"
PRETTY = "model seed {\n    input [2]\n    dense(4, relu)\n    dense(1)\n}\n"


def test_fmt_writes_changed_files_only(tmp_path, capsys) -> None:
    ugly, pretty = tmp_path / "ugly.ns", tmp_path / "pretty.ns"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    old = pretty.stat().st_mtime_ns - 10_000_000_000
    os.utime(pretty, ns=(old, old))
    assert fmt(str(tmp_path)) == 0
    err = capsys.readouterr().err
    assert f"reformatted {ugly}" in err
    assert "1 file reformatted, 1 file left unchanged." in err
    assert ugly.read_text() == PRETTY
    assert pretty.stat().st_mtime_ns == old  # an unchanged file is not rewritten
    assert not list(tmp_path.glob(".*.tmp"))
    assert fmt(str(tmp_path), "--check") == 0


def test_check_exits_1_and_names_the_files_writing_nothing(tmp_path, capsys) -> None:
    ugly, pretty = tmp_path / "ugly.ns", tmp_path / "pretty.ns"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    assert fmt(str(ugly), str(pretty), "--check") == 1
    err = capsys.readouterr().err
    assert f"would reformat {ugly}" in err and f"would reformat {pretty}" not in err
    assert "1 file would be reformatted, 1 file would be left unchanged." in err
    assert ugly.read_text() == UGLY
    assert fmt(str(pretty), "--check") == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path, capsys) -> None:
    ugly = tmp_path / "ugly.ns"
    ugly.write_text(UGLY)
    assert fmt(str(ugly), "--diff") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"--- {ugly} (on disk)\n+++ {ugly} (formatted)\n")
    assert "-  dense(4,relu)\n" in out and "+    dense(4, relu)\n" in out
    assert ugly.read_text() == UGLY
    assert fmt(str(ugly), "--diff", "--check") == 1
    assert fmt(str(ugly), "--diff", "-q") == 0
    capsys.readouterr()
    ugly.write_text(PRETTY)
    assert fmt(str(ugly), "--diff") == 0
    assert capsys.readouterr().out == ""


def test_a_file_that_does_not_parse_is_reported_and_left_alone(tmp_path, capsys) -> None:
    bad, ugly = tmp_path / "bad.ns", tmp_path / "ugly.ns"
    bad.write_text("model m {\n  input [2\n}\n")
    ugly.write_text(UGLY)
    assert fmt(str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err and "NS001" in err
    assert bad.read_text() == "model m {\n  input [2\n}\n"
    assert ugly.read_text() == PRETTY  # the other files are still formatted
    assert fmt(str(bad), "--check") == 1


def test_a_file_that_is_not_utf8_is_reported(tmp_path, capsys) -> None:
    bad = tmp_path / "latin.ns"
    bad.write_bytes(b"model m {\n  input [2]  # caf\xe9\n}\n")
    assert fmt(str(bad)) == 1
    assert "NS001" in capsys.readouterr().err
    assert bad.read_bytes() == b"model m {\n  input [2]  # caf\xe9\n}\n"


def test_stdin_is_formatted_to_stdout(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(UGLY.encode())))
    assert fmt("-") == 0
    assert capsys.readouterr().out == PRETTY
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(UGLY.encode())))
    assert fmt("-", "--check") == 1
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"model m {\n")))
    assert fmt("-") == 1
    captured = capsys.readouterr()
    assert captured.out == "model m {\n"  # given back unchanged
    assert "<stdin>:" in captured.err and "NS001" in captured.err


def test_usage_and_io_errors_exit_2(tmp_path, capsys) -> None:
    assert fmt(str(tmp_path / "absent.ns")) == 2
    assert "no such file" in capsys.readouterr().err
    parser = argparse.ArgumentParser(prog="netspec fmt")
    configure_fmt(parser)
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([])
    assert exc.value.code == 2


def test_a_write_that_fails_exits_2_and_keeps_the_file(tmp_path, capsys, monkeypatch) -> None:
    import netspec.app.fmt_command

    def refuse(path: Path, content: str) -> bool:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(netspec.app.fmt_command, "write_if_changed", refuse)
    ugly = tmp_path / "ugly.ns"
    ugly.write_text(UGLY)
    assert fmt(str(ugly)) == 2
    assert f"cannot write {ugly}: Permission denied" in capsys.readouterr().err
    assert ugly.read_text() == UGLY


def test_fmt_fits_the_command_table(tmp_path, capsys, monkeypatch) -> None:
    from netspec.app import cli

    monkeypatch.setitem(
        cli.COMMANDS, "fmt", cli.Command("format .ns files", configure_fmt, run_fmt)
    )
    ugly = tmp_path / "ugly.ns"
    ugly.write_text(UGLY)
    assert cli.main(["fmt", "--check", str(ugly)]) == 1
    assert cli.main(["fmt", str(ugly)]) == 0
    assert cli.main(["fmt", "--check", str(ugly)]) == 0
    assert ugly.read_text() == PRETTY
    assert cli.main(["fmt"]) == 2  # no PATH: a usage error


def test_the_formatter_keeps_heavy_imports_away(tmp_path) -> None:
    spec = tmp_path / "ugly.ns"
    spec.write_text(UGLY)
    script = (
        "import sys\n"
        "from netspec.app.fmt_command import configure_fmt, run_fmt\n"
        "import argparse\n"
        "p = argparse.ArgumentParser(); configure_fmt(p)\n"
        f"assert run_fmt(p.parse_args([{str(spec)!r}, '--diff'])) == 0\n"
        f"assert run_fmt(p.parse_args([{str(spec)!r}])) == 0\n"
        "heavy = sorted(m for m in ('jinja2', 'black', 'numpy') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert spec.read_text() == PRETTY


# --- mutated specs -------------------------------------------------------------------------------

SEEDS = [read(p) for p in SPEC_FILES if p.parts[-2] in ("examples", "contract")]
SNIPPETS = [
    "\n", "\n\n\n", "  ", "\t", ";", ",", "(", ")", "[", "]", "{", "}", "=", "-", "*", "//",
    "->", "\n-> relu", "\n        -> dense(3)", "# a comment\n", "  # noqa: NS201",
    "\n# netspec: noqa: NS202\n", "(1,)", "[2, 3,]", "x = ", " -1", "repeat 2 { dense(2) }",
    "for f in (1, 2) { dense(f) }", "dense(4, relu)", "input [2]", "\r\n", '"s#"', "1e-3",
    "add(x, y)", "output x", "compile(loss=mse)",
]  # fmt: skip


@st.composite
def mutated_specs(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "insert", "join", "duplicate"]))
        if action == "delete":
            end = draw(st.integers(position, min(len(text), position + 12)))
            text = text[:position] + text[end:]
        elif action == "insert":
            snippet = draw(
                st.sampled_from(SNIPPETS)
                | st.text(alphabet=' \n#;,()[]{}=-+*/>.0123xyz_"', max_size=6)
            )
            text = text[:position] + snippet + text[position:]
        elif action == "join":
            newline = text.find("\n", position)
            if newline >= 0:
                text = text[:newline] + draw(st.sampled_from([" ", ";", ""])) + text[newline + 1 :]
        else:
            start = text.rfind("\n", 0, position) + 1
            end = text.find("\n", position)
            end = len(text) if end < 0 else end + 1
            text = text[:end] + text[start:end] + text[end:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_format_safely(text: str) -> None:
    result = format_result(text, "fuzz.ns")  # never raises
    if result.diagnostic is not None:
        assert result.text == text and result.diagnostic.code == "NS001"
        return
    assert meaning(result.text) == meaning(text)
    assert Counter(comments(result.text)) == Counter(comments(text))
    assert format_source(result.text) == result.text


@st.composite
def relaid_out_specs(draw) -> str:
    """A repository spec with every token moved about: newlines and comments (own-line, trailing,
    `# noqa`) inside brackets and before `->`, odd spacing, `;` where brackets ignore it."""
    from netspec.language.fmt import _tokenize

    tokens = _tokenize(draw(st.sampled_from(ALL_SPECS)))
    out, depth = [], 0
    for index, token in enumerate(tokens):
        if token.kind == "newline":
            out.append("\n" + " " * draw(st.integers(0, 9)))
            if draw(st.integers(0, 9)) == 0:
                out.append(draw(st.sampled_from(["\n", "# own line\n", "\n# after a blank\n"])))
            continue
        out.append(token.text)
        if token.trailing is not None:
            out.append(f"  {token.trailing}\n")
        depth += token.text in ("(", "[")
        depth -= token.text in (")", "]")
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        glue = token.kind == "op" or (following is not None and following.kind == "op")
        choices = [" ", "  "] + ([""] if glue else [])
        if depth > 0:
            choices += ["\n", "  # inside\n", "\n# own inside\n", "  # noqa: NS201\n", " ; "]
        elif following is not None and following.text == "->":
            choices += ["\n", "\n\n  ", "  # before an arrow\n", "\n# own before an arrow\n"]
        elif token.text == "{":
            choices += ["  # after a brace\n"]
        out.append(draw(st.sampled_from(choices)))
    return "".join(out)


ALL_SPECS = [read(p) for p in SPEC_FILES]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(relaid_out_specs())
def test_relaid_out_specs_format_back_safely(text: str) -> None:
    result = format_result(text, "fuzz.ns")
    assert result.diagnostic is None, result.diagnostic
    assert meaning(result.text) == meaning(text)
    assert Counter(comments(result.text)) == Counter(comments(text))
    assert format_source(result.text) == result.text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('model{}[]()=,;#->*+/ \n\t"xyz12.e_')), max_size=60))
def test_junk_never_raises(text: str) -> None:
    result = format_result(text)
    assert result.diagnostic is not None or format_source(result.text) == result.text
