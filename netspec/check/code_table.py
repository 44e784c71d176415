"""Every code netspec can emit, in one table: the core codes of netspec.codes and the design
rules of the registry, for reports, `netspec rule`, the configuration and the editor."""

from __future__ import annotations

import functools
import inspect
import re

from netspec.check import rules
from netspec.codes import CORE_CODES, CodeInfo
from netspec.diagnostics import Severity

# Where the examples of a rule's docstring start: the prose before them is its description.
_EXAMPLES = re.compile(r"^(?:Bad|Good):", re.MULTILINE)


def rule_info(rule: object) -> CodeInfo:
    """A registry rule as a CodeInfo: the first line of its documentation is the summary, the
    prose after it the description, and the whole body (bad and good examples too) the help."""
    doc = rule_doc(rule)
    summary, _, body = doc.partition("\n")
    body = body.strip()
    code = str(getattr(rule, "code"))
    severity = getattr(rule, "severity", Severity.WARNING)
    return CodeInfo(
        code=code,
        name=str(getattr(rule, "name", "") or code),
        severity=severity if isinstance(severity, Severity) else Severity(str(severity)),
        summary=summary.strip() or code,
        description=_unwrap(_EXAMPLES.split(body, maxsplit=1)[0]),
        help=body,
        markdown=body,
    )


def rule_doc(rule: object) -> str:
    """A rule's documentation: its `doc`, else its check function's docstring, else its own."""
    doc = getattr(rule, "doc", None)
    if not isinstance(doc, str):
        check = getattr(rule, "check", None)
        doc = getattr(check, "__doc__", None) or getattr(rule, "__doc__", None) or ""
    return inspect.cleandoc(doc)


def _unwrap(text: str) -> str:
    """Prose with its paragraphs each on one line: a docstring's line breaks are only wrapping."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def registered_rules() -> tuple[object, ...]:
    """The rules of the registry, `netspec.check.rules.REGISTRY`."""
    return tuple(getattr(rules, "REGISTRY", ()))


@functools.cache
def all_codes() -> tuple[CodeInfo, ...]:
    """Every code netspec can emit, sorted; a rule of the registry wins over a core entry."""
    table = dict(CORE_CODES)
    table.update((info.code, info) for info in map(rule_info, registered_rules()))
    return tuple(table[code] for code in sorted(table))


def lookup(code: str) -> CodeInfo | None:
    """The entry for `code` (any case), or None when netspec never emits it."""
    wanted = code.upper()
    return next((info for info in all_codes() if info.code == wanted), None)


@functools.cache
def known_codes() -> frozenset[str]:
    return frozenset(info.code for info in all_codes())
