"""Selection (--select, --ignore, --extend-select), pyproject settings and `# noqa` suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.api import lint_file, lint_source
from netspec.app.cli import main
from netspec.check.rules import by_code
from netspec.config.noqa import find_directives
from netspec.config.settings import (
    ConfigError,
    Selection,
    SelectionLayer,
    Settings,
    SettingsFinder,
    parse_selectors,
)
from netspec.language.source import find_comments

NS101_SPEC = "model m {\n    input [4, 4, 1]\n    conv2d(2, 5)\n}\n"  # NS101 on line 3
NS010_SPEC = (
    "model m {\n    x = input [2]\n    s = x -> dense(4)\n    y = x -> dense(1)\n    output y\n}\n"
)
NS201_SPEC = "model m {\n    input [2]\n    dense(4)\n    dense(1)\n}\n"  # NS201 on line 3
# Both a shape error (NS101, line 3) and an unused value (NS010, line 6) in one file.
TWO_CODES_SPEC = (
    "model m {\n    x = input [4, 4, 1]\n    y = x -> conv2d(2, 5)\n"
    "    output y\n    z = input [2]\n    s = z -> dense(4)\n}\n"
)
needs_ns201 = pytest.mark.skipif(by_code("NS201") is None, reason="rule NS201 is not registered")


def codes(text: str, **kwargs) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in lint_source(text, "spec.ns", **kwargs)]


def with_comment(spec: str, line: int, comment: str) -> str:
    lines = spec.split("\n")
    lines[line - 1] += comment
    return "\n".join(lines)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str], str]:
    """Run `netspec lint --format concise --quiet` and return the exit code, the codes, stderr."""
    code = main(["lint", "--format", "concise", "--quiet", *map(str, args)])
    out, err = capsys.readouterr()
    return code, [line.split(": ")[1].split(" ")[0] for line in out.splitlines()], err


def test_the_specs_produce_their_codes():
    assert codes(NS101_SPEC) == [("NS101", 3)]
    assert codes(NS010_SPEC) == [("NS010", 3)]
    assert codes(TWO_CODES_SPEC) == [("NS101", 3), ("NS010", 6)]


# --- noqa --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "comment",
    [
        "  # noqa: NS101",
        "  # noqa:NS101",
        "  # NOQA: ns101",
        "  #noqa : NS101",
        "  # noqa: NS101, NS010",
        "  # noqa: NS010 NS101",
        "  # noqa: NS101 because the input is a stub",
        "  # the window is on purpose # noqa: NS101",
    ],
)
def test_noqa_with_codes_silences_the_line(comment):
    text = with_comment(NS101_SPEC, 3, comment)
    reported = codes(text)
    assert ("NS101", 3) not in reported
    # NS010 in the list silences nothing: it is reported as unused, nothing else.
    assert all(code == "NS019" for code, _ in reported)
    assert len(reported) == ("NS010" in comment)


@pytest.mark.parametrize("comment", ["  # noqa", "  # NoQA", "  # noqa:"])
def test_bare_noqa_silences_every_code_on_the_line(comment):
    assert codes(with_comment(NS101_SPEC, 3, comment)) == []


def test_noqa_for_another_code_does_not_silence_and_is_reported():
    text = with_comment(NS101_SPEC, 3, "  # noqa: NS010")
    assert codes(text) == [("NS101", 3), ("NS019", 3)]


def test_noqa_on_another_line_does_not_silence():
    text = with_comment(NS101_SPEC, 2, "  # noqa: NS101")
    assert codes(text) == [("NS019", 2), ("NS101", 3)]


def test_a_hash_inside_a_string_is_not_a_comment():
    text = 'model m {\n    input [4, 4, 1]\n    conv2d(2, 5, name="c # noqa")\n}\n'
    assert "NS101" in [code for code, _ in codes(text)]
    line = 'dense(4, name="a \\" # noqa") # real'
    assert [c.text for c in find_comments(line)] == ["# real"]


def test_file_level_noqa_silences_a_code_in_the_whole_file():
    text = "# netspec: noqa: NS101\n" + TWO_CODES_SPEC
    assert codes(text) == [("NS010", 7)]


def test_bare_file_level_noqa_silences_everything():
    assert codes("# netspec: noqa\n" + TWO_CODES_SPEC) == []


def test_file_level_noqa_must_stand_on_its_own_line():
    text = with_comment(NS101_SPEC, 2, "  # netspec: noqa: NS101")
    assert ("NS101", 3) in codes(text)
    assert find_directives(text) == []


def test_unused_noqa_is_reported_at_the_comment():
    text = "model m {\n    input [2]\n    dense(4, relu)  # noqa: NS101\n}\n"
    (diagnostic,) = lint_source(text, "spec.ns")
    assert diagnostic.code == "NS019"
    assert diagnostic.severity.value == "warning"
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 21)
    assert diagnostic.span.end_column == 21 + len("# noqa: NS101")
    assert "unused: NS101" in diagnostic.message


def test_unused_noqa_names_unknown_and_non_enabled_codes():
    text = with_comment(NS101_SPEC, 3, "  # noqa: NS101, NS999, NS010")
    settings = Settings().with_overrides(SelectionLayer(ignore=("NS010",)))
    (diagnostic,) = lint_source(text, "spec.ns", settings=settings)
    assert diagnostic.code == "NS019"
    assert "unknown: NS999" in diagnostic.message
    assert "non-enabled: NS010" in diagnostic.message


def test_unused_blanket_and_file_level_noqa_are_reported():
    clean = "model m {\n    input [2]\n    dense(1)\n}\n"
    assert codes(with_comment(clean, 3, "  # noqa")) == [("NS019", 3)]
    assert codes("# netspec: noqa: NS101\n" + clean) == [("NS019", 1)]


def test_unused_noqa_only_when_ns019_is_selected():
    text = with_comment(NS101_SPEC, 2, "  # noqa: NS101")
    ignore = Settings().with_overrides(SelectionLayer(ignore=("NS019",)))
    assert codes(text, settings=ignore) == [("NS101", 3)]
    only_shapes = Settings().with_overrides(SelectionLayer(select=("NS1",)))
    assert codes(text, settings=only_shapes) == [("NS101", 3)]


def test_ns019_can_be_silenced_by_naming_it():
    text = with_comment(NS101_SPEC, 2, "  # noqa: NS101, NS019")
    assert codes(text) == [("NS101", 3)]


def test_noqa_inside_a_block_silences_the_diagnostic_at_its_line():
    block = "block b {\n    conv2d(2, 5)@\n}\nmodel m {\n    input [4, 4, 1]\n    b\n    b\n}\n"
    assert codes(block.replace("@", "")) == [("NS101", 2)]
    assert codes(block.replace("@", "  # noqa: NS101")) == []
    # The line where the block is used is not where the problem stands.
    used_at = block.replace("@", "").replace("    b\n    b\n", "    b  # noqa: NS101\n    b\n")
    assert codes(used_at) == [("NS101", 2), ("NS019", 6)]


def test_noqa_on_the_first_line_of_a_span_over_several_lines():
    spec = "model m {\n    x = input [2]\n    s = x -> dense(@1\n        4)@2\n    y = x -> dense(1)\n    output y\n}\n"

    def commented(first: str, last: str) -> str:
        return spec.replace("@1", first).replace("@2", last)

    assert codes(commented("", "")) == [("NS010", 3)]
    assert lint_source(commented("", ""), "spec.ns")[0].span.end_line == 4
    assert codes(commented("  # noqa: NS010", "")) == []
    assert codes(commented("", "  # noqa: NS010")) == [("NS010", 3), ("NS019", 4)]


def test_a_syntax_error_is_never_silenced_or_ignored(tmp_path, capsys):
    broken = "model m {\n    input [2]  # noqa: NS001\n    dense(4,\n"
    assert [code for code, _ in codes(broken)] == ["NS001"]
    assert [code for code, _ in codes("# netspec: noqa\n" + broken)] == ["NS001"]
    path = write(tmp_path, "broken.ns", broken)
    assert lint(capsys, path, "--ignore", "NS001")[:2] == (1, ["NS001"])
    assert lint(capsys, path, "--select", "NS2")[:2] == (1, ["NS001"])


@needs_ns201
def test_noqa_silences_a_design_rule():
    assert codes(NS201_SPEC) == [("NS201", 3)]
    assert codes(with_comment(NS201_SPEC, 3, "  # noqa: NS201")) == []
    assert codes("# netspec: noqa: NS201\n" + NS201_SPEC) == []


# --- selection ---------------------------------------------------------------------------------


def test_selectors_parse_commas_case_and_repeats():
    assert parse_selectors(["NS1, ns010", "ALL"], "--select") == ("NS1", "NS010", "ALL")
    for bad in ("E501", "NS1000", "NS999", "XYZ"):
        with pytest.raises(ConfigError, match="unknown code or prefix"):
            parse_selectors([bad], "--select")


@pytest.mark.parametrize(
    ("layers", "on", "off"),
    [
        ([SelectionLayer(select=("NS0",))], ["NS010", "NS001"], ["NS101"]),
        ([SelectionLayer(select=("NS2",), ignore=("NS201",))], ["NS202"], ["NS201", "NS101"]),
        # The more specific selector wins, whichever list it is in.
        ([SelectionLayer(select=("NS201",), ignore=("NS2",))], ["NS201"], ["NS202"]),
        ([SelectionLayer(select=("NS2",), ignore=("NS2",))], [], ["NS201"]),  # ignore wins a tie
        ([SelectionLayer(ignore=("NS1",))], ["NS010", "NS201"], ["NS101"]),
        (
            [SelectionLayer(select=("NS1",)), SelectionLayer(extend_select=("NS010",))],
            ["NS101", "NS010"],
            ["NS201"],
        ),
        # A later `select` starts afresh: it drops the earlier ignores too.
        ([SelectionLayer(ignore=("NS101",)), SelectionLayer(select=("ALL",))], ["NS101"], []),
        (
            [SelectionLayer(select=("NS1",)), SelectionLayer(ignore=("NS101",))],
            ["NS102"],
            ["NS101"],
        ),
    ],
)
def test_selection_layers(layers, on, off):
    selection = Selection()
    for layer in layers:
        selection = selection.then(layer)
    assert [code for code in on if selection.enabled(code)] == on
    assert [code for code in off if not selection.enabled(code)] == off


def test_select_ignore_extend_select_on_the_command_line(tmp_path, capsys):
    path = write(tmp_path, "two.ns", TWO_CODES_SPEC)
    assert lint(capsys, path)[:2] == (1, ["NS101", "NS010"])
    assert lint(capsys, path, "--select", "NS0")[:2] == (1, ["NS010"])
    assert lint(capsys, path, "--select", "ns1")[:2] == (1, ["NS101"])
    assert lint(capsys, path, "--ignore", "NS1")[:2] == (1, ["NS010"])
    assert lint(capsys, path, "--ignore", "NS101,NS010")[:2] == (0, [])
    assert lint(capsys, path, "--ignore", "NS101", "--ignore", "NS010")[:2] == (0, [])
    assert lint(capsys, path, "--select", "NS1", "--extend-select", "NS010")[:2] == (
        1,
        ["NS101", "NS010"],
    )
    assert lint(capsys, path, "--select", "NS101", "--ignore", "NS1")[:2] == (1, ["NS101"])
    assert lint(capsys, path, "--select", "ALL", "--ignore", "NS")[:2] == (0, [])


def test_an_unknown_selector_is_a_usage_error(tmp_path, capsys):
    path = write(tmp_path, "a.ns", NS101_SPEC)
    code, found, err = lint(capsys, path, "--select", "NS1,E501")
    assert (code, found) == (2, [])
    assert "--select: unknown code or prefix `E501`" in err


# --- pyproject.toml ------------------------------------------------------------------------------


def test_pyproject_found_walking_up_with_per_file_ignores(tmp_path, capsys, monkeypatch):
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.netspec]\nextend-select = ["NS1"]\n'
        'per-file-ignores = { "legacy/**/*.ns" = ["NS101"], "dangling.ns" = ["NS010"] }\n',
    )
    old = write(tmp_path, "legacy/deep/er/old.ns", TWO_CODES_SPEC)
    new = write(tmp_path, "src/new.ns", TWO_CODES_SPEC)
    dangling = write(tmp_path, "src/more/dangling.ns", TWO_CODES_SPEC)
    # From elsewhere: the globs are relative to the pyproject's folder, not the current one.
    monkeypatch.chdir(tmp_path / "src")
    assert lint(capsys, old)[:2] == (1, ["NS010"])
    assert lint(capsys, new)[:2] == (1, ["NS101", "NS010"])
    # A glob without a folder matches the file's name anywhere below.
    assert lint(capsys, dangling)[:2] == (1, ["NS101"])


def test_the_closest_pyproject_with_a_netspec_table_wins(tmp_path, capsys):
    write(tmp_path, "pyproject.toml", '[tool.netspec]\nignore = ["NS101"]\n')
    write(tmp_path, "a/pyproject.toml", '[project]\nname = "no netspec table here"\n')
    write(tmp_path, "a/b/pyproject.toml", '[tool.netspec]\nignore = ["NS010"]\n')
    skipped = write(tmp_path, "a/two.ns", TWO_CODES_SPEC)
    closest = write(tmp_path, "a/b/c/two.ns", TWO_CODES_SPEC)
    assert lint(capsys, skipped)[:2] == (1, ["NS010"])
    # The closest file is the whole configuration: the outer ignore does not carry over.
    assert lint(capsys, closest)[:2] == (1, ["NS101"])
    assert lint(capsys, tmp_path)[:2] == (1, ["NS101", "NS010"])  # a/b/c/two.ns, a/two.ns


def test_the_command_line_wins_over_pyproject(tmp_path, capsys):
    write(tmp_path, "pyproject.toml", '[tool.netspec]\nselect = ["NS0"]\nignore = ["NS010"]\n')
    path = write(tmp_path, "two.ns", TWO_CODES_SPEC)
    assert lint(capsys, path)[:2] == (0, [])
    assert lint(capsys, path, "--extend-select", "NS101")[:2] == (1, ["NS101"])
    assert lint(capsys, path, "--select", "NS010")[:2] == (1, ["NS010"])
    assert lint(capsys, path, "--select", "ALL")[:2] == (1, ["NS101", "NS010"])


def test_stdin_uses_the_settings_of_its_filename(tmp_path, capsys, monkeypatch):
    import io
    import sys

    write(tmp_path, "pyproject.toml", '[tool.netspec]\nignore = ["NS101"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(TWO_CODES_SPEC))
    assert lint(capsys, "-", "--stdin-filename", "x.ns")[:2] == (1, ["NS010"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[tool.netspec\nselect = 1\n", "not valid TOML"),
        ('[tool.netspec]\nselct = ["NS1"]\n', "unknown key `selct`"),
        ('[tool.netspec]\nselect = "NS1"\n', "select must be a list of strings"),
        ('[tool.netspec]\nignore = ["NS1", "W605"]\n', "unknown code or prefix `W605`"),
        ("[tool.netspec.rules]\nhigh-dropout = 0.3\n", "unknown rule option `high-dropout`"),
        ('[tool.netspec.rules]\nhigh-dropout-rate = "high"\n', "takes a value of type float"),
        ('[tool.netspec]\nper-file-ignores = ["a.ns"]\n', "per-file-ignores must be a table"),
    ],
)
def test_a_broken_config_exits_2_naming_the_file(tmp_path, capsys, content, message):
    config = write(tmp_path, "pyproject.toml", content)
    path = write(tmp_path, "a.ns", NS101_SPEC)
    code, found, err = lint(capsys, path)
    assert (code, found) == (2, [])
    assert str(config) in err
    assert message in err


def test_rule_options_become_the_registry_rule_config(tmp_path):
    write(
        tmp_path,
        "pyproject.toml",
        "[tool.netspec.rules]\nhigh-dropout-rate = 0.3\ndeep_network_layers = 20\n",
    )
    settings = SettingsFinder().for_file(str(tmp_path / "a.ns"))
    assert settings.rule_options == {"high_dropout_rate": 0.3, "deep_network_layers": 20}
    config = settings.rule_config()
    assert (config.high_dropout_rate, config.deep_network_layers) == (0.3, 20)


def test_lint_file_finds_the_settings_itself(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.netspec]\nignore = ["NS101"]\n')
    path = write(tmp_path, "two.ns", TWO_CODES_SPEC)
    assert [d.code for d in lint_file(str(path), TWO_CODES_SPEC)] == ["NS010"]
    assert [d.code for d in lint_source(TWO_CODES_SPEC, str(path))] == ["NS101", "NS010"]


def test_rule_thresholds_from_pyproject_reach_the_rules(tmp_path) -> None:
    from netspec.api import lint_file

    spec = tmp_path / "m.ns"
    spec.write_text(
        "model m {\n    input [8]\n    dense(8, relu)\n    dropout(0.6)\n    dense(1)\n}\n"
    )
    assert "NS221" in [d.code for d in lint_file(str(spec), spec.read_text())]
    (tmp_path / "pyproject.toml").write_text("[tool.netspec.rules]\nhigh-dropout-rate = 0.7\n")
    assert "NS221" not in [d.code for d in lint_file(str(spec), spec.read_text())]
