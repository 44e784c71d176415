"""Where lowering stands: the names bound in a body, the parameters in force, the block uses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from netspec.diagnostics import Note, Span
from netspec.language import syntax as S
from netspec.language.evaluate import TensorRef
from netspec.language.ir import BlockUse


@dataclass
class Scope:
    """Names bound in one body. Repeat and loop bodies get a child scope per iteration."""

    names: dict[str, tuple[TensorRef, Span]] = field(default_factory=dict)
    parent: Scope | None = None
    later: frozenset[str] = frozenset()  # names bound further down the body (for NS009)

    def find(self, name: str) -> TensorRef | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name][0]
            scope = scope.parent
        return None

    def bound_later(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.later:
                return True
            scope = scope.parent
        return False


@dataclass
class Frame:
    """The context of a body being lowered: its parameters and where it sits in block uses."""

    env: Mapping[str, Any]
    origin: tuple[BlockUse, ...]
    block_input: TensorRef | None  # what `input` means inside a block body
    stack: tuple[str, ...]  # the blocks being expanded, for recursion


def bound_names(body: tuple[S.Statement, ...]) -> frozenset[str]:
    return frozenset(s.name for s in body if isinstance(s, S.Binding))


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
