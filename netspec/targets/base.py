"""What every target shares: GenerationError, the template environment, rendering and black.

Targets read checked graphs only; loading and checking a spec is netspec.api's job."""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Diagnostic
from netspec.language.ir import Graph
from netspec.language.names import class_problem, name_problem
from netspec.resources import resource_dir
from netspec.targets.layout import docstring, fits, lay_out
from netspec.version import __version__

TARGETS = ("keras", "torch", "numpy")


class GenerationError(Exception):
    """The spec cannot be generated; `diagnostics` say why (errors of the spec, or a target's limit)."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics or []


@dataclass(frozen=True)
class ModuleContext:
    """What every target's template gets: the source, the version and the checked models."""

    source: str  # the spec's path as given, shown in the header
    version: str
    models: tuple[Any, ...]  # target-specific model contexts

    @property
    def source_literal(self) -> str:
        # repr() keeps a path with quotes or newlines on one line of the header comment.
        return repr(self.source)


def templates_dir() -> Path:
    """The templates: inside the installed package, or at the root of a source checkout."""
    return resource_dir("templates", "keras.py.jinja")


@functools.cache
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )

    @jinja2.pass_context
    def layout(context, text: str, indent: int, suffix: str = "") -> str:
        """`{{ statement | layout(8) }}`: the statement in black's layout at 8 columns."""
        laid = lay_out(text, indent, suffix)
        if not laid.isascii() or not fits(laid, indent):
            context["laid_out"].gave_up = True  # black formats this module
        return laid

    env.filters["layout"] = layout
    env.filters["docstring"] = docstring
    return env


class LayoutReport:
    """Whether every statement a template laid out is in black's layout."""

    def __init__(self) -> None:
        self.gave_up = False


def generate(checked: list[CheckedGraph], path: str, target: str) -> str:
    """The module for `target` from checked graphs free of errors; `path` is shown in its header.
    Raises GenerationError for what the target cannot express."""
    if target not in TARGETS:
        raise GenerationError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    for one in checked:
        check_names(one.graph)
    backend = importlib.import_module(f"netspec.targets.{target}.target")
    with _collector_paused():
        models = tuple(backend.model_context(c) for c in checked)
        return render(target, ModuleContext(path, __version__, models))


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off while a module is generated: generation makes strings and
    small records, no cycles to collect, and each full collection would walk every object of
    the checked graphs again (at 16,000 layers that made generation grow as n^1.25)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_names(graph: Graph) -> None:
    """Refuse any name that is not a safe identifier, whatever the checker said before: names
    become attributes, variables and classes in the generated code."""
    problem = class_problem(graph.name)
    if problem is not None:
        raise GenerationError(f"model {graph.name!r} cannot be generated: {problem}")
    for node in graph.nodes:
        problem = name_problem(node.name)
        if problem is not None:
            raise GenerationError(f"layer {node.name!r} cannot be generated: {problem}")


def render(target: str, context: ModuleContext) -> str:
    template = environment().get_template(f"{target}.py.jinja")
    report = LayoutReport()
    source = template.render(module=context, laid_out=report)
    return format_python(source, laid_out=not report.gave_up)


# What black would still change in a module laid out line by line: trailing whitespace, a
# missing or doubled final newline, three blank lines, two blank lines inside a block.
_FMT_OFF = re.compile(r"^[ \t]*# fmt: off\n.*?^[ \t]*# fmt: on$", re.MULTILINE | re.DOTALL)
_NOT_BLACK = re.compile(r"[ \t]$|\n\n\n\n|\n\n\n[ \t]", re.MULTILINE)


def format_python(source: str, laid_out: bool = False) -> str:
    """`source` as black formats it with its defaults (a user's own black leaves it unchanged).

    Black costs more than everything else in `gen`, so it runs only when needed: the templates'
    own text is in black's layout, and `laid_out` says every statement filled in was laid out
    as black keeps it (targets/layout.py). tests/test_black_layout.py checks that black leaves
    the output of every example, case and target unchanged."""
    # Compiled, not parsed into Python objects (no work for the garbage collector); the
    # `# fmt: off` tables are data written by value_literal, blanked for the check: they made
    # 60% of its time and memory.
    code = _FMT_OFF.sub(lambda table: "\n" * table.group().count("\n"), source)
    try:
        compile(code, "<generated>", "exec", dont_inherit=True)
    except SyntaxError as exc:  # a template bug: never write broken code
        raise GenerationError(f"internal error: generated code does not parse: {exc}") from None
    if laid_out and _in_black_layout(source):
        return source
    return run_black(source)


def _in_black_layout(source: str) -> bool:
    ends_once = source.endswith("\n") and not source.endswith("\n\n")
    return ends_once and _NOT_BLACK.search(source) is None


def run_black(source: str) -> str:
    import black

    try:
        # black's defaults, as a user's own black runs them: formatting never makes it stale.
        return black.format_str(source, mode=black.Mode())
    except black.InvalidInput as exc:  # a template bug: never write broken code
        raise GenerationError(f"internal error: generated code does not parse: {exc}") from None
