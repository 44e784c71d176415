"""Reporters: diagnostics as text for people (full, concise) and tools (json, sarif, github)."""

from __future__ import annotations

import os
import re
import unicodedata
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from netspec.check.code_table import all_codes
from netspec.codes import CodeInfo
from netspec.diagnostics import Diagnostic, Severity, Span
from netspec.version import __version__

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A source line wider than this is shown as a window around the span.
MAX_SHOWN_CELLS = 160
CONTEXT_CHARS = 60
# As rustc: every tab shows as four spaces, so the carets line up whatever the terminal's tab stops.
TAB_WIDTH = 4

_RESET = "\x1b[0m"
_BOLD = "1"
_GUTTER = "1;34"  # bold blue, as rustc
_SEVERITY_STYLE = {Severity.ERROR: "1;31", Severity.WARNING: "1;33", Severity.INFO: "1;36"}
# Closing-count words; infos are "notes" to a reader, as in rustc and ruff.
_COUNT_WORDS = ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note"))


@dataclass(frozen=True)
class ReportInput:
    """What every reporter gets: the diagnostics (sorted by place), the source texts and options."""

    diagnostics: tuple[Diagnostic, ...]
    sources: Mapping[str, str] = field(default_factory=dict)  # path -> text, to show source lines
    color: bool = False  # ANSI colour; the CLI decides (a terminal, and NO_COLOR not set)
    quiet: bool = False  # leave out the closing count


Reporter = Callable[[ReportInput], str]


def render(
    fmt: str,
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, str] | None = None,
    *,
    color: bool = False,
    quiet: bool = False,
) -> str:
    """The whole report in format `fmt` (a key of REPORTERS); "" when a text format has nothing."""
    ordered = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
    return REPORTERS[fmt](ReportInput(ordered, sources or {}, color, quiet))


def closing_count(diagnostics: Iterable[Diagnostic]) -> str:
    """'Found 3 errors, 1 warning.' or '' when there is nothing."""
    counts = Counter(diagnostic.severity for diagnostic in diagnostics)
    parts = [_plural(counts[severity], word) for severity, word in _COUNT_WORDS if counts[severity]]
    return f"Found {', '.join(parts)}." if parts else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _with_count(lines: list[str], report: ReportInput) -> str:
    """Join report lines and add the closing count unless quiet; '' for no lines at all."""
    count = "" if report.quiet else closing_count(report.diagnostics)
    if count:
        lines = [*lines, count]
    return "".join(line + "\n" for line in lines)


# --- concise ---------------------------------------------------------------------------------


def report_concise(report: ReportInput) -> str:
    """One line per diagnostic, `path:line:col: CODE message`, as ruff's concise form."""
    lines = [
        f"{d.path}:{d.span.line}:{d.span.column}: {_paint(d.code, _severity_style(d), report.color)}"
        f" {d.message}"
        for d in report.diagnostics
    ]
    return _with_count(lines, report)


# --- full ------------------------------------------------------------------------------------


def report_full(report: ReportInput) -> str:
    """The rustc layout: header, ` --> ` place, the source line with carets, notes and help."""
    lines: list[str] = []
    # Each source is split into lines once, however many diagnostics it has.
    split: dict[str, list[str] | None] = {}
    for diagnostic in report.diagnostics:
        if diagnostic.path not in split:
            split[diagnostic.path] = source_lines(report.sources.get(diagnostic.path))
        lines.extend(_full_block(diagnostic, split[diagnostic.path], report.color))
    return _with_count(lines, report)


def _full_block(d: Diagnostic, source: list[str] | None, color: bool) -> list[str]:
    style = _severity_style(d)
    # The gutter is as wide as the line number, so `|` and `-->` line up under each other.
    pad = " " * len(str(d.span.line))
    bar = _paint("|", _GUTTER, color)
    lines = [
        _paint(f"{d.severity.value}[{d.code}]", style, color)
        + _paint(f": {d.message}", _BOLD, color),
        f"{pad}{_paint('-->', _GUTTER, color)} {d.path}:{d.span.line}:{d.span.column}",
    ]
    text = line_of(source, d.span.line)
    if text is not None:
        shown, start, width = underline(text, d.span)
        lines += [
            f"{pad} {bar}",
            f"{_paint(str(d.span.line), _GUTTER, color)} {bar} {shown}".rstrip(),
            f"{pad} {bar} {' ' * start}{_paint('^' * width, style, color)}",
        ]
    extras = [("note", note.message) for note in d.notes]
    if d.help:
        extras.append(("help", d.help))
    if extras and text is not None:
        lines.append(f"{pad} {bar}")
    for label, message in extras:
        lines.append(
            f"{pad} {_paint('=', _GUTTER, color)} {_paint(label + ':', _BOLD, color)} {message}"
        )
    lines.append("")
    return lines


def source_lines(source: str | None) -> list[str] | None:
    """The lines of a text without their line breaks, or None when there is no text."""
    if source is None:
        return None
    # Split where the parser counts lines (LF, CRLF, a lone CR), while str.splitlines would also
    # split at form feeds and U+2028 and put later lines out of step.
    return _LINE_BREAK.split(source)


def line_of(lines: list[str] | None, line: int) -> str | None:
    """Line `line` (1-based) of text split by `source_lines`, or None when there is none."""
    if lines is None or line < 1 or line > len(lines):
        return None
    return lines[line - 1]


def underline(text: str, span: Span) -> tuple[str, int, int]:
    """The line as shown, and the cell where its carets start and how many (at least one).

    A span over several lines is underlined to the end of its first line.
    """
    first = min(max(span.column - 1, 0), len(text))
    last = span.end_column - 1 if span.end_line == span.line else len(text)
    last = min(max(last, first), len(text))
    if len(text) <= MAX_SHOWN_CELLS and text.isascii() and text.isprintable():
        # The common line: every character shows as itself in one cell.
        return text, first, max(last - first, 1)
    cells = [_cell(char) for char in text]
    if sum(width for _, width in cells) > MAX_SHOWN_CELLS:
        cells, first, last = _crop(cells, first, last)
    start = sum(width for _, width in cells[:first])
    width = sum(width for _, width in cells[first:last])
    return "".join(shown for shown, _ in cells), start, max(width, 1)


def _crop(
    cells: list[tuple[str, int]], first: int, last: int
) -> tuple[list[tuple[str, int]], int, int]:
    """A window of a very long line around the span, with `...` where it was cut."""
    begin = max(first - CONTEXT_CHARS, 0)
    end = min(max(last, first + 1) + CONTEXT_CHARS, len(cells))
    window = cells[begin:end]
    offset = -begin
    if begin > 0:
        window = [("...", 3), *window]
        offset += 1
    if end < len(cells):
        window = [*window, ("...", 3)]
    return window, first + offset, min(last, end) + offset


def _cell(char: str) -> tuple[str, int]:
    """How one character is shown, and how many terminal cells it takes."""
    if char == "\t":
        return " " * TAB_WIDTH, TAB_WIDTH
    code = ord(char)
    # Control characters would move the cursor or vanish: show their Unicode pictures (as rustc).
    if code < 0x20:
        return chr(0x2400 + code), 1
    if code == 0x7F:
        return "\u2421", 1
    category = unicodedata.category(char)
    # Format characters (bidi overrides, zero-width spaces, a stray BOM) are invisible or reorder
    # the line on screen: name them instead.
    if category == "Cf":
        shown = f"<U+{code:04X}>"
        return shown, len(shown)
    if category in ("Mn", "Me"):
        return char, 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return char, 2
    return char, 1


def _severity_style(diagnostic: Diagnostic) -> str:
    return _SEVERITY_STYLE.get(diagnostic.severity, _BOLD)


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{style}m{text}{_RESET}" if color else text


# --- json ------------------------------------------------------------------------------------


def report_json(report: ReportInput) -> str:
    """One JSON array with the fields fixed by the language contract, in its key order."""
    rows = [
        {
            "path": d.path,
            "line": d.span.line,
            "column": d.span.column,
            "end_line": d.span.end_line,
            "end_column": d.span.end_column,
            "code": d.code,
            "severity": d.severity.value,
            "message": d.message,
        }
        for d in report.diagnostics
    ]
    import json  # here, not at the top: the text formats, lint's usual output, do not need it

    # ASCII escapes keep the output valid JSON whatever the encoding of the stream it goes to.
    return json.dumps(rows, indent=2, ensure_ascii=True) + "\n"


# --- sarif -------------------------------------------------------------------------------------

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def report_sarif(report: ReportInput) -> str:
    """A SARIF 2.1.0 log for code scanning: every code netspec has as a rule, then the results."""
    infos = {info.code: info for info in all_codes()}
    # A code missing from the table (a rule left out of the registry) still gets a rule entry:
    # every ruleId needs one, and a bare entry shows the gap instead of breaking the upload.
    for d in report.diagnostics:
        infos.setdefault(d.code, CodeInfo(d.code, d.code, d.severity, f"netspec code {d.code}."))
    codes = sorted(infos)
    index = {code: i for i, code in enumerate(codes)}
    driver: dict[str, object] = {"name": "netspec", "version": __version__}
    homepage = _homepage()
    if homepage:
        driver["informationUri"] = homepage
    driver["rules"] = [_sarif_rule(infos[code]) for code in codes]
    run = {
        "tool": {"driver": driver},
        # netspec counts columns in code points, SARIF in UTF-16 units unless told otherwise.
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(d, index[d.code]) for d in report.diagnostics],
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    import json

    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def _homepage() -> str | None:
    """The project's home page from the installed package's metadata, when it names one."""
    from importlib import metadata

    try:
        urls = metadata.metadata("netspec").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "documentation", "repository") and url.strip():
            return url.strip()
    return None


def _sarif_rule(info: CodeInfo) -> dict[str, object]:
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.full_description},
        "help": {"text": info.help_text, **({"markdown": info.markdown} if info.markdown else {})},
        "defaultConfiguration": {"level": _SARIF_LEVEL[info.severity]},
    }


def _sarif_result(d: Diagnostic, rule_index: int) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": _sarif_message(d)},
        "locations": [_sarif_location(d.path, d.span)],
    }
    related = [
        {"id": i, "message": {"text": note.message}, **_sarif_location(d.path, note.span)}
        for i, note in enumerate(d.notes)
        if note.span is not None
    ]
    if related:
        result["relatedLocations"] = related
    return result


def _sarif_message(d: Diagnostic) -> str:
    """The message, with the notes that point nowhere (the others are related locations)."""
    lines = [d.message or d.code]
    lines += [f"note: {note.message}" for note in d.notes if note.span is None]
    if d.help:
        lines.append(f"help: {d.help}")
    return "\n".join(lines)


def _sarif_location(path: str, span: Span) -> dict[str, object]:
    line = max(span.line, 1)
    column = max(span.column, 1)
    end_line = max(span.end_line, line)
    end_column = span.end_column if end_line > line else max(span.end_column, column)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(path)},
            "region": {
                "startLine": line,
                "startColumn": column,
                "endLine": end_line,
                "endColumn": max(end_column, 1),
            },
        }
    }


def artifact_uri(path: str) -> str:
    """A path as a URI reference: relative to the current folder with `/` and percent escapes
    when the file lies under it (as code scanning wants), else an absolute file:// URI."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd()) if os.path.isabs(path) else path
    relative = os.path.normpath(relative).replace(os.sep, "/")
    if relative == ".." or relative.startswith("../"):
        return _file_uri(absolute)
    # Every reserved character is escaped: a `:` in the first segment would read as a scheme.
    return urllib.parse.quote(relative, safe="/")


def _file_uri(absolute: str) -> str:
    return Path(absolute).as_uri()


# --- github ------------------------------------------------------------------------------------

_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def report_github(report: ReportInput) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic, then the concise report:
    GitHub shows only ten annotations of each kind per step, the log shows everything."""
    lines = [_annotation(d) for d in report.diagnostics]
    plain = report_concise(ReportInput(report.diagnostics, report.sources, False, report.quiet))
    return "".join(line + "\n" for line in lines) + plain


def _annotation(d: Diagnostic) -> str:
    properties = {
        "file": d.path,
        "line": d.span.line,
        "col": d.span.column,
        "endLine": d.span.end_line,
        "endColumn": d.span.end_column,
        "title": f"netspec ({d.code})",
    }
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{_GITHUB_COMMAND[d.severity]} {joined}::{escape_data(d.message)}"


def escape_data(text: str) -> str:
    """A workflow command's message: `%` first, so the escapes themselves are not escaped again."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: `:` and `,` would end it early."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# Format name -> reporter. A new format is one function and one entry here.
REPORTERS: dict[str, Reporter] = {
    "full": report_full,
    "concise": report_concise,
    "json": report_json,
    "sarif": report_sarif,
    "github": report_github,
}
