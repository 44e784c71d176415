"""The sarif and github reporters: schema-valid SARIF 2.1.0 covering every code, escaped annotations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netspec.app.cli import main
from netspec.app.report import artifact_uri, escape_data, escape_property, render
from netspec.check.code_table import all_codes, registered_rules
from netspec.codes import CORE_CODES
from netspec.diagnostics import Diagnostic, Severity, Span

NETSPEC_SOURCE = Path(__file__).resolve().parents[1] / "netspec"
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sarif-schema-2.1.0.json"

NS101_SPEC = "model m {\n    input [4, 4, 1]\n    conv2d(2, 5)\n}\n"  # NS101 on line 3
NS010_SPEC = (
    "model m {\n    x = input [2]\n    s = x -> dense(4)\n    y = x -> dense(1)\n    output y\n}\n"
)
# NS101 inside a block: the diagnostic carries a note pointing at the use (a related location).
BLOCK_SPEC = "block b {\n    conv2d(2, 5)\n}\nmodel m {\n    input [4, 4, 1]\n    b\n}\n"
UNUSED_NOQA_SPEC = "model m {\n    input [2]\n    dense(4, relu)  # noqa: NS101\n}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of specs with awkward names, as the current folder (paths are relative to it)."""
    write(tmp_path, "models/conv.ns", NS101_SPEC)
    write(tmp_path, "models/dangling.ns", NS010_SPEC)
    write(tmp_path, "models/with block.ns", BLOCK_SPEC)
    write(tmp_path, "models/a,b%#ü.ns", UNUSED_NOQA_SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sarif_log(capsys: pytest.CaptureFixture[str], *paths: str) -> dict:
    code, out, err = lint(capsys, "--format", "sarif", *paths)
    assert code == 1, err
    return json.loads(out)


# --- SARIF -------------------------------------------------------------------------------------


def _uri_reference(value: object) -> bool:
    """RFC 3986 URI reference, as far as a SARIF consumer cares: only allowed characters, every
    `%` followed by two hex digits, no backslash; a scheme (if any) well formed."""
    if not isinstance(value, str):
        return True
    if re.search(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]", value):
        return False
    if re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return False
    head = value.split("/", 1)[0]
    return ":" not in head or re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:.*", head) is not None


def _uri(value: object) -> bool:
    return _uri_reference(value) and (
        not isinstance(value, str) or re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value) is not None
    )


@pytest.mark.skipif(
    not SARIF_SCHEMA.is_file(),
    reason=f"the official SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (outside this checkout)",
)
def test_sarif_validates_against_the_official_schema(project, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    # The schema says which draft it is written in; use that draft's validator.
    validator_class = jsonschema.validators.validator_for(schema)
    assert validator_class is jsonschema.Draft4Validator
    # jsonschema checks no "uri" formats without optional packages: check them here.
    checker = jsonschema.FormatChecker()
    checker.checks("uri")(_uri)
    checker.checks("uri-reference")(_uri_reference)
    log = sarif_log(capsys, "models")
    errors = sorted(validator_class(schema, format_checker=checker).iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_run_has_tool_version_column_kind_and_results(project, capsys):
    log = sarif_log(capsys, "models")
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "netspec"
    assert driver["version"]
    assert run["columnKind"] == "unicodeCodePoints"
    codes = sorted(result["ruleId"] for result in run["results"])
    assert codes == ["NS010", "NS019", "NS101", "NS101"]


def test_every_result_names_a_rule_of_the_driver_by_id_and_index(project, capsys):
    run = sarif_log(capsys, "models")["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_driver_rules_describe_every_code_netspec_can_emit():
    log = json.loads(render("sarif", []))
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    registry = {rule.code for rule in registered_rules()}
    assert set(CORE_CODES) | registry <= set(rules)
    assert set(rules) == {info.code for info in all_codes()}
    for rule in rules.values():
        for text in (
            rule["name"],
            rule["shortDescription"]["text"],
            rule["fullDescription"]["text"],
            rule["help"]["text"],
        ):
            assert text.strip(), rule["id"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_every_code_in_the_source_is_in_the_code_table():
    """A code raised anywhere in netspec must be described (a new core code goes in codes.py)."""
    emitted = {
        code
        for path in NETSPEC_SOURCE.rglob("*.py")
        for code in re.findall(r"[\"'](NS\d{3})[\"']", path.read_text(encoding="utf-8"))
    }
    assert emitted - {info.code for info in all_codes()} == set()


def test_registry_rules_keep_their_names_severity_and_docs():
    rules = {
        rule["id"]: rule
        for rule in json.loads(render("sarif", []))["runs"][0]["tool"]["driver"]["rules"]
    }
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    for rule in registered_rules():
        entry = rules[rule.code]
        assert entry["name"] == rule.name
        assert entry["defaultConfiguration"]["level"] == levels[rule.severity]
        assert entry["shortDescription"]["text"] == rule.summary


def test_sarif_locations_and_uris(project, capsys):
    run = sarif_log(capsys, "models")["runs"][0]
    by_uri = {}
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        by_uri.setdefault(location["artifactLocation"]["uri"], []).append((result, location))
    assert set(by_uri) == {
        "models/conv.ns",
        "models/dangling.ns",
        "models/with%20block.ns",
        "models/a%2Cb%25%23%C3%BC.ns",
    }
    ((_, conv),) = by_uri["models/conv.ns"]
    assert conv["region"] == {"startLine": 3, "startColumn": 15, "endLine": 3, "endColumn": 16}
    ((block, _),) = by_uri["models/with%20block.ns"]
    # The block's use is a related location with the note as its message.
    related = block["relatedLocations"][0]
    assert related["message"]["text"] == "in block b, used at line 6"
    assert related["physicalLocation"]["region"]["startLine"] == 6


def test_sarif_is_deterministic(project, capsys):
    first = lint(capsys, "--format", "sarif", "models")[1]
    second = lint(capsys, "--format", "sarif", "models")[1]
    assert first == second
    assert "TimeUtc" not in first  # no invocation times: the same input gives the same bytes


def test_sarif_levels_and_degenerate_spans_stay_valid():
    diagnostics = [
        Diagnostic("NS223", Severity.INFO, "a hint", Span(0, 0, 0, 0), path="a.ns"),
        Diagnostic("NS201", Severity.WARNING, "w", Span(2, 5, 1, 3), path="a.ns"),
        Diagnostic("NS101", Severity.ERROR, "", Span(3, 1, 3, 1), path="a.ns"),
    ]
    results = json.loads(render("sarif", diagnostics))["runs"][0]["results"]
    assert [r["level"] for r in results] == ["note", "warning", "error"]
    for result in results:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert min(region.values()) >= 1
        assert (region["endLine"], region["endColumn"]) >= (
            region["startLine"],
            region["startColumn"],
        )
        assert result["message"]["text"]  # never empty, even for an empty message


def test_a_file_outside_the_current_folder_gets_an_absolute_file_uri(tmp_path, monkeypatch):
    inside = tmp_path / "repo"
    inside.mkdir()
    monkeypatch.chdir(inside)
    outside = tmp_path / "elsewhere" / "x y.ns"
    assert artifact_uri(str(outside)).startswith("file:///")
    assert artifact_uri(str(outside)).endswith("/elsewhere/x%20y.ns")
    assert artifact_uri(str(inside / "sub" / "a.ns")) == "sub/a.ns"
    assert artifact_uri("a:b.ns") == "a%3Ab.ns"  # not read as a URI scheme


# --- GitHub annotations ------------------------------------------------------------------------


def test_github_escapes_message_and_properties():
    message = "100% sure: a, b\nnext line\r"
    diagnostic = Diagnostic(
        "NS101", Severity.ERROR, message, Span(3, 15, 3, 16), path="dir,x/a:b.ns"
    )
    first = render("github", [diagnostic]).splitlines()[0]
    assert first == (
        "::error file=dir%2Cx/a%3Ab.ns,line=3,col=15,endLine=3,endColumn=16,"
        "title=netspec (NS101)::100%25 sure: a, b%0Anext line%0D"
    )


def test_escape_order_keeps_escapes_literal():
    assert escape_data("%0A") == "%250A"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_github_maps_severities_and_prints_the_plain_report_after(tmp_path):
    diagnostics = [
        Diagnostic(f"NS{200 + i:03d}", severity, "m", Span(i + 1, 1, i + 1, 2), path="a.ns")
        for i, severity in enumerate([Severity.ERROR, Severity.WARNING, Severity.INFO] * 5)
    ]
    lines = render("github", diagnostics).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    # All fifteen annotations, though GitHub shows ten of each kind: the plain report follows.
    assert [c.split(" ")[0] for c in commands[:3]] == ["::error", "::warning", "::notice"]
    assert len(commands) == 15
    plain = lines[15:]
    assert plain[0] == "a.ns:1:1: NS200 m"
    assert plain[-1] == "Found 5 errors, 5 warnings, 5 notes."


def test_lint_format_github_from_the_command_line(project, capsys):
    code, out, _ = lint(capsys, "--format", "github", "models/conv.ns")
    assert code == 1
    assert out.splitlines() == [
        "::error file=models/conv.ns,line=3,col=15,endLine=3,endColumn=16,title=netspec (NS101)::"
        "conv2d: window 5x5 is larger than its 4x4 input; use padding=same or a smaller window",
        "models/conv.ns:3:15: NS101 conv2d: window 5x5 is larger than its 4x4 input; use "
        "padding=same or a smaller window",
        "Found 1 error.",
    ]


def test_github_clean_run_prints_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "ok.ns", "model m {\n    input [2]\n    dense(1)\n}\n")
    assert lint(capsys, "--format", "github", "ok.ns") == (0, "", "")
