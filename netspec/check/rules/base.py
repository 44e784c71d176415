"""What a rule is: a code, a name, a severity, a check function and the documentation it carries."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Note, Severity, Span
from netspec.language.ir import Node

_EXAMPLE = re.compile(r"^(Bad|Good):\s*\n+```netspec\n(.*?)^```", re.MULTILINE | re.DOTALL)
_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds of the rules, from [tool.netspec.rules] (kebab-case keys there); the defaults
    are the documented ones. Which codes run is the selection's business, not this."""

    high_dropout_rate: float = 0.5  # NS221: a dropout rate above this is a hint
    blowup_share: float = 0.5  # NS209: share of the model's parameters one dense may hold
    blowup_min_params: int = 1_000_000  # NS209: smaller models are not worth the warning
    deep_network_layers: int = 10  # NS225: more learning layers than this is "deep"
    saturating_layers: int = 4  # NS226: more saturating hidden layers in a row is a hint

    def __post_init__(self) -> None:
        # pyproject values arrive unchecked: refuse nonsense before any rule runs on it.
        _number("high-dropout-rate", self.high_dropout_rate, 0.0, 1.0)
        _number("blowup-share", self.blowup_share, 0.0, 1.0)
        _count("blowup-min-params", self.blowup_min_params, 0)
        _count("deep-network-layers", self.deep_network_layers, 1)
        _count("saturating-layers", self.saturating_layers, 1)


def _number(key: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"`{key}` must be a number from {low:g} to {high:g}, got {value!r}")


def _count(key: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"`{key}` must be an integer of at least {low}, got {value!r}")


@dataclass(frozen=True)
class Finding:
    """One problem a rule found: at a node (its span unless `span` says otherwise) or at a span."""

    node: Node | None
    message: str
    help: str | None = None
    span: Span | None = None
    notes: tuple[Note, ...] = ()


CheckFn = Callable[["CheckedGraph", RuleConfig], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A design rule: its documentation is the check function's docstring."""

    code: str
    name: str
    severity: Severity
    check: CheckFn

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    @property
    def examples(self) -> dict[str, str]:
        """The `Bad:` and `Good:` netspec examples of the docstring, by label."""
        return {label: text for label, text in _EXAMPLE.findall(self.doc)}

    @property
    def kebab_case(self) -> bool:
        return bool(_KEBAB.match(self.name))


def rule(code: str, name: str, severity: Severity) -> Callable[[CheckFn], Rule]:
    """Make a check function a Rule; the registry in `netspec.check.rules` lists every one."""

    def wrap(check: CheckFn) -> Rule:
        return Rule(code, name, severity, check)

    return wrap


def related(node: Node, what: str) -> Note:
    """A note that names and points at the other layer of a pair (related information)."""
    return Note(f"{node.name} (line {node.span.line}) {what}", node.span)
