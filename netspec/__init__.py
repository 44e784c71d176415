"""netspec: a static linter and code generator for neural-network specs (.ns files).

The public API, one function per stage:

    module = netspec.parse(text, path)        # text -> AST (raises ParseError with an NS001)
    program = netspec.lower(module)           # AST -> IR graphs, with lowering diagnostics
    diagnostics = netspec.lint_source(text, path)   # everything, sorted, never raises

The names are loaded when first used, so that importing one stage (netspec.layers, a target)
does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from netspec.version import __version__

_EXPORTS = {
    "check_program": "netspec.api",
    "lint_file": "netspec.api",
    "lint_source": "netspec.api",
    "load_program": "netspec.api",
    "lower": "netspec.api",
    "parse": "netspec.api",
    "Diagnostic": "netspec.diagnostics",
    "Note": "netspec.diagnostics",
    "Severity": "netspec.diagnostics",
    "Span": "netspec.diagnostics",
    "ParseError": "netspec.language.parser",
}

__all__ = [
    "Diagnostic",
    "Note",
    "ParseError",
    "Severity",
    "Span",
    "__version__",
    "check_program",
    "lint_file",
    "lint_source",
    "load_program",
    "lower",
    "parse",
]

if TYPE_CHECKING:
    from netspec.api import check_program, lint_file, lint_source, load_program, lower, parse
    from netspec.diagnostics import Diagnostic, Note, Severity, Span
    from netspec.language.parser import ParseError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'netspec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
