"""`netspec summary`: the table and the JSON form that language.md fixes."""

from __future__ import annotations

import json
from pathlib import Path

from netspec.app.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_summary_json_has_exactly_the_fixed_fields(capsys) -> None:
    assert main(["summary", "--format", "json", str(ROOT / "examples" / "seed.ns")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["models"]
    seed = data["models"][0]
    assert list(seed) == [
        "name",
        "path",
        "total_params",
        "trainable_params",
        "output_shape",
        "layers",
    ]
    assert seed["name"] == "seed" and seed["total_params"] == 31 and seed["trainable_params"] == 31
    assert seed["output_shape"] == [None, 1]
    assert seed["layers"][1] == {
        "name": "dense",
        "kind": "dense",
        "output_shape": [None, 4],
        "params": 12,
    }
    for layer in seed["layers"]:
        assert list(layer) == ["name", "kind", "output_shape", "params"]


def test_summary_counts_batch_norm_statistics_as_non_trainable(tmp_path, capsys) -> None:
    spec = tmp_path / "bn.ns"
    spec.write_text(
        "model m {\n    input [8, 8, 3]\n    conv2d(4, 3)\n    batch_norm\n    relu\n}\n"
    )
    assert main(["summary", "--format", "json", str(spec)]) == 0
    model = json.loads(capsys.readouterr().out)["models"][0]
    assert model["total_params"] == 3 * 3 * 3 * 4 + 4 + 4 * 4
    assert model["trainable_params"] == 3 * 3 * 3 * 4 + 4 + 2 * 4
    assert model["output_shape"] == [None, 6, 6, 4]


def test_summary_table_of_a_graph_shows_connections(capsys) -> None:
    assert main(["summary", str(ROOT / "examples" / "text_cnn.ns")]) == 0
    out = capsys.readouterr().out
    assert 'Model: "text_cnn"' in out
    assert "Connected to" in out
    assert "concatenate (Concatenate)" in out
    assert "Total params: 1,155,909" in out


def test_summary_of_a_spec_with_errors_exits_1_and_reports_on_stderr(tmp_path, capsys) -> None:
    spec = tmp_path / "bad.ns"
    spec.write_text("model m {\n    input [4, 4, 1]\n    conv2d(2, 5)\n    dense(1)\n}\n")
    assert main(["summary", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "NS101" in captured.err
    assert "(None, 4, 4, 1)" in captured.out and "?" in captured.out


def test_summary_reads_the_configuration_lint_reads(tmp_path, capsys) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    spec = folder / "m.ns"
    spec.write_text("model m {\n    input [4, 4, 1]\n    conv2d(2, 5)\n}\n")
    (folder / "pyproject.toml").write_text('[tool.netspec]\nignore = ["NS1"]\n')
    assert main(["lint", str(spec)]) == 0
    assert main(["summary", str(spec)]) == 0  # the ignored error is not reported here either
    capsys.readouterr()
    (folder / "pyproject.toml").write_text('[tool.netspec]\nignore = ["NS999"]\n')
    assert main(["lint", str(spec)]) == 2
    assert main(["summary", str(spec)]) == 2
    assert "NS999" in capsys.readouterr().err
