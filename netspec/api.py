"""The Python API the command line and the language server share: parse, lower, check, lint."""

from __future__ import annotations

from netspec import syntax as S
from netspec.diagnostics import Diagnostic, DiagnosticSink
from netspec.ir import Program
from netspec.lower import lower as _lower
from netspec.parser import ParseError
from netspec.parser import parse as _parse


def parse(text: str, path: str = "<stdin>") -> S.Module:
    """Parse netspec text into an AST. Raises ParseError (with an NS001 diagnostic) on bad syntax."""
    return _parse(text, path)


def lower(module: S.Module) -> Program:
    """Lower a parsed file into IR graphs; problems found on the way are in `program.diagnostics`."""
    return _lower(module, DiagnosticSink(module.path))


def load_program(text: str, path: str = "<stdin>") -> Program:
    """Parse and lower; a syntax error gives a program with no graphs and one NS001."""
    try:
        module = _parse(text, path)
    except ParseError as exc:
        return Program(path, text, [], [exc.diagnostic])
    return lower(module)


def check_program(program: Program) -> list[Diagnostic]:
    """Shape inference and the rules over a lowered program (diagnostics of lowering not included)."""
    from netspec.check import check_graph

    found: list[Diagnostic] = []
    for graph in program.graphs:
        found.extend(check_graph(graph).diagnostics)
    return found


def lint_source(text: str, path: str = "<stdin>") -> list[Diagnostic]:
    """Every diagnostic for one file, sorted by place; it never raises on bad input."""
    program = load_program(text, path)
    diagnostics = list(program.diagnostics)
    if program.graphs:
        diagnostics.extend(check_program(program))
    return dedupe(diagnostics)


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
