"""The Python API the command line and the language server share: parse, lower, check, lint."""

from __future__ import annotations

import re

from netspec import syntax as S
from netspec.config import DEFAULT_SETTINGS, Settings, find_settings
from netspec.diagnostics import Diagnostic, DiagnosticSink
from netspec.ir import Program
from netspec.lower import lower as _lower
from netspec.parser import ParseError
from netspec.parser import parse as _parse
from netspec.suppress import apply_suppressions

_LONE_CR = re.compile(r"\r(?!\n)")


def parse(text: str, path: str = "<stdin>") -> S.Module:
    """Parse netspec text into an AST. Raises ParseError (with an NS001 diagnostic) on bad syntax."""
    return _parse(text, path)


def lower(module: S.Module) -> Program:
    """Lower a parsed file into IR graphs; problems found on the way are in `program.diagnostics`."""
    return _lower(module, DiagnosticSink(module.path))


def normalize_newlines(text: str) -> str:
    """Old Mac line ends (a CR alone) read as newlines; one character for one, so every offset,
    line and column stays that of the text as given (CRLF needs nothing: CR is whitespace)."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def load_program(text: str, path: str = "<stdin>") -> Program:
    """Parse and lower; a syntax error gives a program with no graphs and one NS001."""
    text = normalize_newlines(text)
    try:
        module = _parse(text, path)
    except ParseError as exc:
        return Program(path, text, [], [exc.diagnostic])
    return lower(module)


def check_program(program: Program, settings: Settings | None = None) -> list[Diagnostic]:
    """Shape inference and the rules over a lowered program (diagnostics of lowering not included);
    rule thresholds come from `settings`."""
    from netspec.check import check_graph

    config = (settings or DEFAULT_SETTINGS).rule_config()
    found: list[Diagnostic] = []
    for graph in program.graphs:
        found.extend(check_graph(graph, config).diagnostics)
    return found


def lint_source(
    text: str, path: str = "<stdin>", *, settings: Settings | None = None
) -> list[Diagnostic]:
    """The diagnostics for one file that `settings` select and no `# noqa` silences, sorted by
    place; it never raises on bad input. Without settings every code is selected."""
    settings = settings or DEFAULT_SETTINGS
    text = normalize_newlines(text)
    program = load_program(text, path)
    diagnostics = list(program.diagnostics)
    if program.graphs:
        diagnostics.extend(check_program(program, settings))
    # Per-file ignores match the file's own path; plain standard input has none.
    reported = settings.code_filter(None if path == "<stdin>" else path)
    return apply_suppressions(dedupe(diagnostics), text, path, reported)


def lint_file(path: str, text: str, settings: Settings | None = None) -> list[Diagnostic]:
    """lint_source with the settings of the pyproject.toml found from the file's folder (as the
    command line finds them); raises config.ConfigError on a broken one."""
    return lint_source(text, path, settings=settings or find_settings(path))


def dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted, one diagnostic per code and place (a block used twice reports its problem once)."""
    seen: set[tuple] = set()
    unique: list[Diagnostic] = []
    for diagnostic in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (diagnostic.code, diagnostic.span.line, diagnostic.span.column, diagnostic.message)
        if key not in seen:
            seen.add(key)
            unique.append(diagnostic)
    return unique
