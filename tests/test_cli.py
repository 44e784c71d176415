"""The `netspec` command line: exit codes, the three output formats, paths, stdin and bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netspec import __version__
from netspec.app.cli import COMMANDS, main
from netspec.app.report import REPORTERS, closing_count, render
from netspec.diagnostics import Diagnostic, Note, Severity, Span

REPO_ROOT = Path(__file__).resolve().parent.parent
JSON_KEYS = ["path", "line", "column", "end_line", "end_column", "code", "severity", "message"]

VALID = "model seed {\n    input [2]\n    dense(4, relu)\n    dense(3, relu)\n    dense(1)\n}\n"
# The `{` of line 1 is never closed: the parser points at it (line 1, column 12).
MISSING_BRACE = "model seed {\n    input [2]\n    dense(4, relu)\n"
# A semantic error on line 3, after a tab: `bogus` starts at column 11 and is 5 characters long.
TABBED_BAD_ACTIVATION = "model a {\n\tinput [2]\n\tdense(4, bogus)\n}\n"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["lint", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- clean files and exit codes --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_clean_file_exits_0_and_prints_nothing(tmp_path, capsys, fmt):
    path = write(tmp_path, "seed.ns", VALID)
    assert lint(capsys, path, "--format", fmt) == (0, "", "")


def test_clean_file_in_json_prints_an_empty_array(tmp_path, capsys):
    code, out, _ = lint(capsys, write(tmp_path, "seed.ns", VALID), "--format", "json")
    assert code == 0
    assert out.strip() == "[]"


def test_exit_zero_turns_findings_into_0(tmp_path, capsys):
    path = write(tmp_path, "bad.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, path, "--exit-zero", "--format", "concise")
    assert code == 0
    assert "NS001" in out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"netspec {__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["-h", "lint"], ["lnt", "x.ns"]])
def test_the_top_level_help_and_an_unknown_command_name_every_subcommand(capsys, argv):
    # The parser sets up only the subcommand a command line starts with; these start with none.
    main(argv)
    captured = capsys.readouterr()
    listing = captured.out + captured.err
    for name in COMMANDS:
        assert name in listing


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_subcommand_has_its_own_help(capsys, name):
    assert main([name, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: netspec {name} ")


def test_no_subcommand_and_unknown_option_are_usage_errors(capsys):
    assert main([]) == 2
    assert main(["lint", "--no-such-option", "x.ns"]) == 2
    assert "usage" in capsys.readouterr().err


# --- concise and json ------------------------------------------------------------------------


def test_missing_brace_in_concise(tmp_path, capsys):
    path = write(tmp_path, "bad.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, path, "--format", "concise")
    assert code == 1
    first, count = out.splitlines()
    assert first.startswith(f"{path}:1:12: NS001 ")
    assert count == "Found 1 error."


def test_missing_brace_in_json(tmp_path, capsys):
    path = write(tmp_path, "bad.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, path, "--format", "json")
    assert code == 1
    [row] = json.loads(out)
    assert list(row) == JSON_KEYS
    assert (row["path"], row["line"], row["column"], row["code"]) == (str(path), 1, 12, "NS001")
    assert row["severity"] == "error"
    assert (row["end_line"], row["end_column"]) == (1, 13)


def test_json_is_one_sorted_array_with_the_fixed_keys(tmp_path, capsys):
    # Given in reverse order on the command line; the output is still sorted by path and place.
    b = write(
        tmp_path,
        "b.ns",
        TABBED_BAD_ACTIVATION + "model c {\n    input [2]\n    dense(2, nope)\n}\n",
    )
    a = write(tmp_path, "a.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, b, a, "--format", "json")
    assert code == 1
    rows = json.loads(out)  # the whole output is one JSON document: no count line
    assert len(rows) == 3
    assert all(list(row) == JSON_KEYS for row in rows)
    assert all(row["severity"] in {"error", "warning", "info"} for row in rows)
    places = [(row["path"], row["line"], row["column"]) for row in rows]
    assert places == sorted(places)
    assert places[0][0] == str(a)


# --- full ------------------------------------------------------------------------------------


def test_full_shows_place_source_line_and_carets(tmp_path, capsys):
    path = write(tmp_path, "bad.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, path)  # full is the default
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("error[NS001]: missing `}`")
    assert lines[1] == f" --> {path}:1:12"
    source = next(line for line in lines if line.startswith("1 | "))
    carets = lines[lines.index(source) + 1]
    assert source == "1 | model seed {"
    # the caret stands under the `{`, in the same column of the terminal
    assert carets.index("^") == source.index("{")
    assert "= help: " in out
    assert lines[-1] == "Found 1 error."
    assert lines[-2] == ""


def test_full_expands_tabs_so_carets_line_up(tmp_path, capsys):
    path = write(tmp_path, "tab.ns", TABBED_BAD_ACTIVATION)
    code, out, _ = lint(capsys, path, "--format", "full")
    assert code == 1
    lines = out.splitlines()
    assert lines[1] == f" --> {path}:3:11"
    source = next(line for line in lines if line.startswith("3 | "))
    carets = lines[lines.index(source) + 1]
    assert "\t" not in source
    assert carets.index("^") == source.index("bogus")
    assert carets.strip(" |") == "^^^^^"


def test_full_has_no_color_off_a_terminal(tmp_path, capsys):
    _, out, _ = lint(capsys, write(tmp_path, "bad.ns", MISSING_BRACE))
    assert "\x1b[" not in out


def test_render_full_with_color_notes_and_a_multiline_span():
    text = "model m {\n    dense(\n        4)\n}\n"
    diagnostic = Diagnostic(
        "NS201",
        Severity.WARNING,
        "a message",
        Span(2, 5, 3, 11),
        notes=(Note("in block b, used at line 7"),),
        help="do this",
        path="m.ns",
    )
    plain = render("full", [diagnostic], {"m.ns": text})
    assert plain.splitlines()[:5] == [
        "warning[NS201]: a message",
        " --> m.ns:2:5",
        "  |",
        "2 |     dense(",
        "  |     ^^^^^^",  # to the end of the first line
    ]
    assert "  = note: in block b, used at line 7\n  = help: do this\n" in plain
    assert plain.endswith("\nFound 1 warning.\n")
    coloured = render("full", [diagnostic], {"m.ns": text}, color=True)
    assert "\x1b[" in coloured
    assert "\x1b[" not in render("concise", [diagnostic], {})


def test_render_full_without_the_source_still_gives_the_place():
    diagnostic = Diagnostic("NS201", Severity.ERROR, "m", Span(9, 1, 9, 2), path="gone.ns")
    assert render("full", [diagnostic], {}, quiet=True) == "error[NS201]: m\n --> gone.ns:9:1\n\n"


def test_color_follows_the_terminal_and_no_color(monkeypatch):
    from netspec.app.files import use_color

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Terminal())


# --- the closing count -----------------------------------------------------------------------


def _diagnostics(*severities: Severity) -> list[Diagnostic]:
    return [Diagnostic("NS999", s, "m", Span(i + 1, 1, i + 1, 2)) for i, s in enumerate(severities)]


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        ((), ""),
        ((Severity.ERROR,), "Found 1 error."),
        (
            (Severity.WARNING, Severity.ERROR, Severity.ERROR, Severity.ERROR),
            "Found 3 errors, 1 warning.",
        ),
        ((Severity.WARNING, Severity.WARNING), "Found 2 warnings."),
        ((Severity.INFO,), "Found 1 note."),
        (
            (Severity.INFO, Severity.ERROR, Severity.INFO, Severity.WARNING),
            "Found 1 error, 1 warning, 2 notes.",
        ),
    ],
)
def test_closing_count_wording(severities, expected):
    assert closing_count(_diagnostics(*severities)) == expected


def test_quiet_drops_the_count_but_keeps_the_diagnostics(tmp_path, capsys):
    code, out, _ = lint(
        capsys, write(tmp_path, "bad.ns", MISSING_BRACE), "--format", "concise", "-q"
    )
    assert code == 1
    assert out.count("\n") == 1 and "NS001" in out and "Found" not in out


def test_registry_has_the_three_formats():
    assert {"full", "concise", "json"} <= set(REPORTERS)


# --- paths -----------------------------------------------------------------------------------


def test_folder_is_searched_recursively_for_ns_files(tmp_path, capsys, monkeypatch):
    write(tmp_path, "good.ns", VALID)
    write(tmp_path, "z/deep/bad.ns", MISSING_BRACE)
    write(tmp_path, "a/bad.ns", MISSING_BRACE)
    write(tmp_path, "a/notes.txt", MISSING_BRACE)  # not a spec
    write(tmp_path, ".hidden/bad.ns", MISSING_BRACE)
    write(tmp_path, "node_modules/bad.ns", MISSING_BRACE)
    write(tmp_path, ".venv/lib/bad.ns", MISSING_BRACE)
    monkeypatch.chdir(tmp_path)
    code, out, _ = lint(capsys, ".", "--format", "concise")
    assert code == 1
    paths = [line.split(":")[0] for line in out.splitlines()[:-1]]
    assert paths == [os.path.join("a", "bad.ns"), os.path.join("z", "deep", "bad.ns")]
    assert out.splitlines()[-1] == "Found 2 errors."


def test_a_file_named_twice_is_linted_once(tmp_path, capsys):
    path = write(tmp_path, "bad.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, path, tmp_path, "--format", "concise", "-q")
    assert code == 1
    assert out.count("NS001") == 1


def test_missing_path_exits_2_with_a_message(tmp_path, capsys):
    good = write(tmp_path, "good.ns", VALID)
    code, out, err = lint(capsys, tmp_path / "nope.ns", good)
    assert code == 2
    assert "nope.ns" in err and "Traceback" not in err
    assert out == ""


def test_missing_path_wins_over_findings_and_exit_zero(tmp_path, capsys):
    bad = write(tmp_path, "bad.ns", MISSING_BRACE)
    code, out, _ = lint(capsys, bad, tmp_path / "nope.ns", "--exit-zero", "--format", "concise")
    assert code == 2
    assert "NS001" in out  # the files that could be read are still reported


def test_unreadable_file_exits_2(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, "secret.ns", VALID)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # chmod does not stop root, so the refusal is simulated where the CLI opens files.
    monkeypatch.setattr("netspec.app.files.open", refuse, raising=False)
    code, _, err = lint(capsys, path)
    assert code == 2
    assert "secret.ns" in err and "Permission denied" in err and "Traceback" not in err


# --- standard input --------------------------------------------------------------------------


def test_dash_reads_stdin(capsys, monkeypatch):
    feed_stdin(monkeypatch, MISSING_BRACE.encode())
    code, out, _ = lint(capsys, "-", "--format", "concise")
    assert code == 1
    assert out.startswith("<stdin>:1:12: NS001 ")


def test_stdin_filename_names_stdin(capsys, monkeypatch):
    feed_stdin(monkeypatch, MISSING_BRACE.encode())
    code, out, _ = lint(capsys, "--stdin-filename", "models/net.ns")
    assert code == 1
    assert " --> models/net.ns:1:12" in out
    assert "1 | model seed {" in out  # the source line comes from stdin too


def test_clean_stdin_exits_0(capsys, monkeypatch):
    feed_stdin(monkeypatch, VALID.encode())
    assert lint(capsys, "-") == (0, "", "")


# --- bytes that are not a spec ---------------------------------------------------------------


def test_non_utf8_file_gives_ns001_at_the_bad_byte(tmp_path, capsys):
    path = write(tmp_path, "latin1.ns", b"model seed {\n    input [2]  # caf" + b"\xff\n}\n")
    code, out, err = lint(capsys, path, "--format", "json")
    assert code == 1
    assert err == ""
    [row] = json.loads(out)
    assert (row["code"], row["line"], row["column"]) == ("NS001", 2, 21)
    assert row["message"] == "file is not UTF-8 text: invalid byte 0xff"


def test_non_utf8_column_counts_code_points_and_full_shows_the_line(tmp_path, capsys):
    path = write(tmp_path, "mixed.ns", "model é {".encode() + b"\xfe")
    code, out, _ = lint(capsys, path, "--format", "full")
    assert code == 1
    assert f" --> {path}:1:10" in out
    assert "invalid byte 0xfe" in out


def test_utf8_bom_is_skipped(tmp_path, capsys):
    path = write(tmp_path, "bom.ns", b"\xef\xbb\xbf" + VALID.encode())
    assert lint(capsys, path) == (0, "", "")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\x03",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        bytes(range(256)),
        b"model m {\r\n    input [2]\r\n\x1b[31m}",
        "model 模型 {\n\u202e    dense(4)\n".encode(),
        b"{" * 5000,
    ],
)
@pytest.mark.parametrize("fmt", ["full", "concise", "json"])
def test_junk_never_tracebacks(tmp_path, capsys, data, fmt):
    path = write(tmp_path, "junk.ns", data)
    code, out, err = lint(capsys, path, "--format", fmt)
    assert code in (0, 1)
    assert err == ""
    if fmt == "json":
        json.loads(out)


def test_empty_file_is_clean(tmp_path, capsys):
    assert lint(capsys, write(tmp_path, "empty.ns", ""))[0] == 0


def test_internal_fault_exits_2_without_a_traceback(tmp_path, capsys, monkeypatch):
    def explode(text: str, path: str, **options: object) -> list[Diagnostic]:
        raise RuntimeError("boom")

    monkeypatch.setattr("netspec.app.parallel.lint_source", explode)
    code, _, err = lint(capsys, write(tmp_path, "seed.ns", VALID))
    assert code == 2
    assert err.startswith("netspec: internal error: RuntimeError: boom")
    assert "Traceback" not in err


# --- the module entry point, as a real process -----------------------------------------------


def run_module(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "netspec", *args],
        check=False,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_python_dash_m_lints_files(tmp_path):
    write(tmp_path, "seed.ns", VALID)
    write(tmp_path, "bad.ns", MISSING_BRACE)
    clean = run_module("lint", "seed.ns", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, b"", b"")
    found = run_module("lint", ".", "--format", "concise", cwd=tmp_path)
    assert found.returncode == 1
    assert found.stdout.decode().splitlines() == [
        "bad.ns:1:12: NS001 missing `}`: the `{` at line 1, column 12 is never closed",
        "Found 1 error.",
    ]


def test_python_dash_m_version_stdin_and_missing_path(tmp_path):
    version = run_module("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout.decode().strip()) == (0, f"netspec {__version__}")
    piped = run_module("lint", "-", "--format", "json", cwd=tmp_path, stdin=b"\xff\xfe junk")
    assert piped.returncode == 1
    assert json.loads(piped.stdout)[0]["path"] == "<stdin>"
    missing = run_module("lint", "nope.ns", cwd=tmp_path)
    assert missing.returncode == 2
    assert b"nope.ns" in missing.stderr and b"Traceback" not in missing.stderr


def test_a_folder_without_specs_is_warned_about(tmp_path, capsys) -> None:
    assert main(["lint", str(tmp_path)]) == 0
    assert "no .ns files found" in capsys.readouterr().err


def test_a_very_long_source_line_is_shown_around_the_span(tmp_path, capsys) -> None:
    spec = tmp_path / "long.ns"
    spec.write_text("model m {\n    input [2]\n    dense(4, " + " " * 5000 + "rleu)\n}\n")
    assert main(["lint", str(spec)]) == 1
    shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("3 |")]
    assert shown and len(shown[0]) < 200 and shown[0].endswith("rleu)")
    assert "..." in shown[0]


def test_lone_carriage_returns_show_the_right_line(tmp_path, capsys) -> None:
    spec = tmp_path / "cr.ns"
    spec.write_bytes(b"model m {\r    input [2]\r    dense(0)\r}\r")
    assert main(["lint", str(spec)]) == 1
    assert "3 |     dense(0)" in capsys.readouterr().out
