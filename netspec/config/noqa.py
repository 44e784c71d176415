"""`# noqa` comments: find them, silence the diagnostics they name, report those that silence nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from netspec.check.code_table import known_codes
from netspec.codes import SYNTAX_ERROR, UNUSED_NOQA
from netspec.diagnostics import Diagnostic, Severity, Span
from netspec.language.source import find_comments

# Codes in a directive: `NS201`, `NS201, NS205` or `NS201 NS205` (ruff's forms); the list ends at the
# first word that is not a code, so `# noqa: NS201 (the widths are on purpose)` works.
_CODES = r"(?P<codes>[a-z]+[0-9]+(?:[\s,]+[a-z]+[0-9]+)*)"
# `# noqa`, `# noqa: NS201`; anywhere in a comment, as in `# why # noqa: NS201`.
_LINE_NOQA = re.compile(rf"#\s*noqa(?![\w-])(?:\s*:\s*{_CODES}?)?", re.IGNORECASE)
# `# netspec: noqa` or `# netspec: noqa: NS201`, the whole comment of a line of its own.
_FILE_NOQA = re.compile(rf"#\s*netspec\s*:\s*noqa(?![\w-])(?:\s*:\s*{_CODES}?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Directive:
    """One suppression comment: the codes it names (None: every code) and where it stands."""

    span: Span
    codes: tuple[str, ...] | None
    file_level: bool

    def silences(self, code: str) -> bool:
        if self.codes is None:
            # A bare line `# noqa` cannot silence the report that it is itself unused.
            return self.file_level or code != UNUSED_NOQA
        return code in self.codes


def find_directives(text: str) -> list[Directive]:
    """The suppression comments of a file, in order."""
    directives: list[Directive] = []
    for comment in find_comments(text):
        match = _FILE_NOQA.match(comment.text) if comment.own_line else None
        file_level = match is not None
        if match is None:
            match = _LINE_NOQA.search(comment.text)
        if match is None:
            continue
        start, end = comment.column + match.start(), comment.column + match.end()
        span = Span(
            comment.line,
            start,
            comment.line,
            end,
            comment.offset + match.start(),
            comment.offset + match.end(),
        )
        directives.append(Directive(span, _parse_codes(match.group("codes")), file_level))
    return directives


def _parse_codes(codes: str | None) -> tuple[str, ...] | None:
    if codes is None:
        # `# noqa:` with no code is taken as a bare `# noqa`, as flake8 takes it.
        return None
    return tuple(dict.fromkeys(code.upper() for code in re.split(r"[\s,]+", codes) if code))


def apply_suppressions(
    diagnostics: Iterable[Diagnostic],
    text: str,
    path: str,
    reported: Callable[[str], bool],
) -> list[Diagnostic]:
    """The diagnostics that are selected and not silenced, plus an NS019 for each directive
    that silences nothing (when NS019 is selected). NS001 is never selected away or silenced."""
    diagnostics = list(diagnostics)
    if any(d.code == SYNTAX_ERROR for d in diagnostics):
        # A file that does not parse was not checked: there is nothing for a directive to
        # silence, and every directive would look unused. (Nor is a huge file scanned.)
        return sorted((d for d in diagnostics if reported(d.code)), key=Diagnostic.sort_key)
    directives = find_directives(text)
    silencer = _Silencer(directives)
    kept = [d for d in diagnostics if reported(d.code) and not silencer.silence(d)]
    if reported(UNUSED_NOQA):
        for directive in directives:
            unused = _unused_report(directive, silencer.used(directive), reported, path)
            if unused is not None and not silencer.silence(unused):
                kept.append(unused)
    return sorted(kept, key=Diagnostic.sort_key)


class _Silencer:
    """Matches diagnostics to directives and remembers which codes each directive silenced."""

    def __init__(self, directives: list[Directive]) -> None:
        self.file_level = [d for d in directives if d.file_level]
        self.by_line = {d.span.line: d for d in directives if not d.file_level}
        self._used: dict[int, set[str]] = {}

    def silence(self, diagnostic: Diagnostic) -> bool:
        # A diagnostic over several lines is silenced on its first line, where its span starts.
        line = self.by_line.get(diagnostic.span.line)
        for directive in (*self.file_level, *([line] if line else [])):
            if directive.silences(diagnostic.code):
                self._used.setdefault(id(directive), set()).add(diagnostic.code)
                return True
        return False

    def used(self, directive: Directive) -> set[str]:
        return self._used.get(id(directive), set())


def _unused_report(
    directive: Directive, used: set[str], reported: Callable[[str], bool], path: str
) -> Diagnostic | None:
    kind = "file-level `# netspec: noqa`" if directive.file_level else "`# noqa`"
    if directive.codes is None:
        if used:
            return None
        where = "in this file" if directive.file_level else "on this line"
        return _ns019(
            f"unused blanket {kind} directive: nothing is reported {where}", directive, path
        )
    groups = _unused_codes(directive.codes, used, reported)
    if not groups:
        return None
    detail = "; ".join(f"{label}: {', '.join(codes)}" for label, codes in groups.items())
    return _ns019(f"unused {kind} directive ({detail})", directive, path)


def _unused_codes(
    codes: tuple[str, ...], used: set[str], reported: Callable[[str], bool]
) -> dict[str, list[str]]:
    """The codes a directive names in vain, grouped as ruff's RUF100 groups them."""
    known = known_codes()
    groups: dict[str, list[str]] = {}
    for code in codes:
        if code in used or code == UNUSED_NOQA:
            continue
        label = (
            "unknown" if code not in known else "non-enabled" if not reported(code) else "unused"
        )
        groups.setdefault(label, []).append(code)
    return groups


def _ns019(message: str, directive: Directive, path: str) -> Diagnostic:
    return Diagnostic(
        UNUSED_NOQA,
        Severity.WARNING,
        message,
        directive.span,
        help="remove the directive, or the codes it names in vain",
        path=path,
    )
