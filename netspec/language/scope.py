"""Where lowering stands: the names bound in a body, the parameters in force, the block uses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from netspec.diagnostics import Note, Span
from netspec.language import syntax as S
from netspec.language.evaluate import TensorRef
from netspec.language.ir import BlockUse

_MISSING = object()


@dataclass
class Scope:
    """Names bound in a model's or a block's body, as Python binds them in a function: the
    bodies of `repeat`, `for` and `if` bind into it, and a name bound again replaces its value.
    A name holds a tensor (TensorRef), a number, a string, a tuple, None, or Several values."""

    names: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    parent: Scope | None = None
    later: frozenset[str] = frozenset()  # names bound anywhere in the body (for NS009)

    def lookup(self, name: str, default: Any = _MISSING) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name][0]
            scope = scope.parent
        return default

    def find(self, name: str) -> TensorRef | None:
        """The tensor bound to `name`, or None when it holds something else or nothing."""
        value = self.lookup(name, None)
        return value if isinstance(value, TensorRef) else None

    def bind(self, name: str, value: Any, span: Span) -> None:
        self.names[name] = (value, span)

    def bound_later(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.later:
                return True
            scope = scope.parent
        return False


class Names(Mapping[str, Any]):
    """What a name means while a body is lowered: its binding in the body's scope, else the
    block's parameter of that name. Evaluation reads names through it."""

    def __init__(self, scope: Scope, params: Mapping[str, Any]) -> None:
        self.scope = scope
        self.params = params

    def __getitem__(self, name: str) -> Any:
        value = self.scope.lookup(name)
        if value is _MISSING:
            return self.params[name]
        return value

    def get(self, name: str, default: Any = None) -> Any:
        # Without the KeyError of Mapping.get: names are read at every pass of every body.
        value = self.scope.lookup(name)
        if value is _MISSING:
            return self.params.get(name, default)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return self.scope.lookup(name) is not _MISSING or name in self.params

    def __iter__(self) -> Iterator[str]:
        seen = {n for s in scopes(self.scope) for n in s.names}
        yield from seen
        yield from (n for n in self.params if n not in seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Frame:
    """The context of a body being lowered: its parameters and where it sits in block uses."""

    env: Mapping[str, Any]
    origin: tuple[BlockUse, ...]
    block_input: TensorRef | None  # what `input` means inside a block body
    stack: tuple[str, ...]  # the blocks being expanded, for recursion


def bound_names(body: tuple[S.Statement, ...]) -> frozenset[str]:
    """Every name a body binds, in its nested bodies too (they bind into the same scope)."""
    names: set[str] = set()
    for statement in body:
        _collect_bound(statement, names)
    return frozenset(names)


def bound_in_every_branch(body: tuple[S.Statement, ...] | None) -> frozenset[str]:
    """The names a body surely binds: its own bindings, and those every branch of its `if`s
    binds (a loop may run no pass)."""
    names: set[str] = set()
    for statement in body or ():
        if isinstance(statement, S.Binding):
            names.add(statement.name)
        elif isinstance(statement, S.Destructure):
            names.update(w.name for w in statement.names)
        elif isinstance(statement, S.If):
            names |= bound_in_every_branch(statement.body) & bound_in_every_branch(statement.orelse)
    return frozenset(names)


def _collect_bound(statement: Any, names: set[str]) -> None:
    if isinstance(statement, S.Binding):
        names.add(statement.name)
    elif isinstance(statement, S.Destructure):
        names.update(w.name for w in statement.names)
    elif isinstance(statement, S.For):
        names.add(statement.var)
    for body in _bodies(statement):
        for inner in body:
            _collect_bound(inner, names)


def _bodies(statement: Any) -> Iterator[tuple]:
    if isinstance(statement, (S.Repeat, S.For)):
        yield statement.body
    elif isinstance(statement, S.If):
        yield statement.body
        if statement.orelse is not None:
            yield statement.orelse
    if isinstance(statement, (S.Binding, S.Destructure, S.ChainStatement)):
        for term in statement.chain.terms[1:]:
            if isinstance(term, (S.Repeat, S.For, S.If)):
                yield from _bodies(term)


def block_notes(origin: tuple[BlockUse, ...]) -> tuple[Note, ...]:
    """ "in block conv_bn, used at line 12", innermost use first."""
    return tuple(
        Note(f"in block {use.block}, used at line {use.span.line}", use.span)
        for use in reversed(origin)
    )


def scopes(scope: Scope) -> Iterator[Scope]:
    current: Scope | None = scope
    while current is not None:
        yield current
        current = current.parent
