"""Diagnostics as data: a code, a severity, a message, a span and notes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file. Lines and columns are 1-based; `end_column` is exclusive.

    `start_pos` and `end_pos` are character offsets into the text (for editors and fixes).
    """

    line: int
    column: int
    end_line: int
    end_column: int
    start_pos: int = 0
    end_pos: int = 0

    def within(self, outer: Span) -> bool:
        """This span lies inside `outer` (both ends included)."""
        return (outer.line, outer.column) <= (self.line, self.column) and (
            self.end_line,
            self.end_column,
        ) <= (outer.end_line, outer.end_column)


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Note:
    """A secondary message, optionally pointing at another place (e.g. where a block was used)."""

    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    notes: tuple[Note, ...] = ()
    help: str | None = None
    path: str = "<stdin>"

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.message)


@dataclass
class DiagnosticSink:
    """Collects diagnostics for one file; lowering and checking append to it."""

    path: str
    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        span: Span,
        *,
        notes: tuple[Note, ...] = (),
        help: str | None = None,
    ) -> Diagnostic:
        diagnostic = Diagnostic(code, severity, message, span, notes, help, self.path)
        self.items.append(diagnostic)
        return diagnostic

    def error(self, code: str, message: str, span: Span, **kw) -> Diagnostic:
        return self.add(code, Severity.ERROR, message, span, **kw)


class LimitExceeded(Exception):
    """Raised when a spec exceeds a size limit (nesting, nodes, repeat counts)."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
