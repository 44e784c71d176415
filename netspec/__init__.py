"""netspec: a static linter and code generator for neural-network specs (.ns files).

The public API, one function per stage:

    module = netspec.parse(text, path)        # text -> AST (raises ParseError with an NS001)
    program = netspec.lower(module)           # AST -> IR graphs, with lowering diagnostics
    diagnostics = netspec.lint_source(text, path)   # everything, sorted, never raises
"""

from __future__ import annotations

from netspec.api import check_program, lint_file, lint_source, load_program, lower, parse
from netspec.diagnostics import Diagnostic, Note, Severity, Span
from netspec.language.parser import ParseError

__version__ = "0.1.0"

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
