"""What every target shares: GenerationError, the template environment, rendering and black.

Targets read checked graphs only; loading and checking a spec is netspec.api's job."""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Diagnostic
from netspec.language.ir import Graph
from netspec.language.names import class_problem, name_problem
from netspec.resources import resource_dir
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
    return env


def generate(checked: list[CheckedGraph], path: str, target: str) -> str:
    """The module for `target` from checked graphs free of errors; `path` is shown in its header.
    Raises GenerationError for what the target cannot express."""
    if target not in TARGETS:
        raise GenerationError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    for one in checked:
        check_names(one.graph)
    backend = importlib.import_module(f"netspec.targets.{target}.target")
    models = tuple(backend.model_context(c) for c in checked)
    return render(target, ModuleContext(path, __version__, models))


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
    source = template.render(module=context)
    return format_python(source)


def format_python(source: str) -> str:
    import black

    try:
        # black's defaults, as a user's own black runs them: formatting never makes it stale.
        return black.format_str(source, mode=black.Mode())
    except black.InvalidInput as exc:  # a template bug: never write broken code
        raise GenerationError(f"internal error: generated code does not parse: {exc}") from None
