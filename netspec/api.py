"""The Python API the command line and the language server share: parse, lower, check, lint."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netspec.config.noqa import apply_suppressions
from netspec.config.settings import DEFAULT_SETTINGS, Settings, find_settings
from netspec.diagnostics import Diagnostic, DiagnosticSink
from netspec.language import syntax as S
from netspec.language.ir import Program
from netspec.language.lower import lower as _lower
from netspec.language.parser import ParseError
from netspec.language.parser import parse as _parse
from netspec.language.source import normalize_newlines

if TYPE_CHECKING:
    from netspec.check.shapes import CheckedGraph


def parse(text: str, path: str = "<stdin>") -> S.Module:
    """Parse netspec text into an AST. Raises ParseError (with an NS001 diagnostic) on bad syntax."""
    return _parse(text, path)


def lower(module: S.Module) -> Program:
    """Lower a parsed file into IR graphs; problems found on the way are in `program.diagnostics`."""
    return _lower(module, DiagnosticSink(module.path))


def load_program(text: str, path: str = "<stdin>") -> Program:
    """Parse and lower; a syntax error gives a program with no graphs and one NS001."""
    return _load(normalize_newlines(text), path)[1]


def _load(text: str, path: str) -> tuple[S.Module | None, Program]:
    try:
        module = _parse(text, path)
    except ParseError as exc:
        return None, Program(path, text, [], [exc.diagnostic])
    return module, lower(module)


def check_program(program: Program, settings: Settings | None = None) -> list[Diagnostic]:
    """Shape inference and the rules over a lowered program (diagnostics of lowering not included);
    rule thresholds come from `settings`."""
    from netspec.check.checker import check_graph

    config = (settings or DEFAULT_SETTINGS).rule_config()
    found: list[Diagnostic] = []
    for graph in program.graphs:
        found.extend(check_graph(graph, config).diagnostics)
    return found


@dataclass
class Linted:
    """One file taken through every stage: its AST (None when it does not parse), its IR, the
    checked graphs, and the diagnostics `settings` select and no `# noqa` silences."""

    text: str
    module: S.Module | None
    program: Program
    checked: list[CheckedGraph]
    diagnostics: list[Diagnostic]


def lint_document(text: str, path: str = "<stdin>", *, settings: Settings | None = None) -> Linted:
    """Parse, lower and check once, for callers that need more than the diagnostics (summary,
    the language server); it never raises on bad input."""
    from netspec.check.checker import check_graph

    settings = settings or DEFAULT_SETTINGS
    text = normalize_newlines(text)
    with collector_paused():
        module, program = _load(text, path)
        config = settings.rule_config()
        checked = [check_graph(graph, config) for graph in program.graphs]
        found = list(program.diagnostics) + [d for one in checked for d in one.diagnostics]
        # Per-file ignores match the file's own path; plain standard input has none.
        reported = settings.code_filter(None if path == "<stdin>" else path)
        diagnostics = apply_suppressions(dedupe(found), text, path, reported)
    return Linted(text, module, program, checked, diagnostics)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while one file is taken through the stages.

    They make an object or more per token, node and diagnostic, and almost no cycles; the
    collections that allocation triggers walk the whole growing heap, so their cost grew with
    the square of the file (a third of the time at 16,000 layers). What cycles a file makes
    (a caught exception's frames) are collected once it is done."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def lint_source(
    text: str, path: str = "<stdin>", *, settings: Settings | None = None
) -> list[Diagnostic]:
    """The diagnostics for one file that `settings` select and no `# noqa` silences, sorted by
    place; it never raises on bad input. Without settings every code is selected."""
    return lint_document(text, path, settings=settings).diagnostics


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


def generate_source(
    text: str,
    path: str,
    target: str,
    model: str | None = None,
    *,
    settings: Settings | None = None,
) -> str:
    """Generate the module for `target` from spec text, checked once with `settings` as lint
    checks it. Raises targets.base.GenerationError when the spec has errors or the target
    cannot express it."""
    from netspec.diagnostics import Severity
    from netspec.targets.base import TARGETS, GenerationError, generate

    if target not in TARGETS:
        raise GenerationError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    linted = lint_document(text, path, settings=settings)
    program, checked = linted.program, linted.checked
    # Every error counts here: a `# noqa` silences a report, never what reaches generated code.
    found = list(program.diagnostics) + [d for one in checked for d in one.diagnostics]
    errors = [d for d in dedupe(found) if d.severity is Severity.ERROR]
    wanted = _nested_closure(program, model) if model is not None else set()
    if model is not None:
        # Errors inside the other models of the file (but those it nests) do not stop the one
        # asked for.
        others = [g.span for g in program.graphs if g.name not in wanted]
        errors = [d for d in errors if not any(d.span.within(span) for span in others)]
    if errors:
        raise GenerationError(f"{path} has {len(errors)} error(s); fix them first", errors)
    if model is not None:
        checked = [c for c in checked if c.graph.name in wanted]
        if not any(c.graph.name == model for c in checked):
            names = ", ".join(g.name for g in program.graphs) or "none"
            raise GenerationError(f"{path} has no model {model!r} (models: {names})")
    if not checked:
        raise GenerationError(f"{path} defines no model")
    return generate(checked, path, target)


def _nested_closure(program: Program, model: str) -> set[str]:
    """`model` and every model it uses as a layer, directly or through others."""
    graphs = {g.name: g for g in program.graphs}
    found: set[str] = set()
    pending = [model]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        graph = graphs.get(name)
        if graph is not None:
            pending.extend(n.submodel.name for n in graph.nodes if n.submodel is not None)
    return found


def checked_models(
    text: str, path: str = "<stdin>", *, settings: Settings | None = None
) -> list[CheckedGraph]:
    """Every graph of a spec, checked (shapes, weights, rules); for tests and tools."""
    return lint_document(text, path, settings=settings).checked
