"""What a name may hold while lowering: numbers, strings, tuples, None, or a tensor (TensorRef);
and how a diagnostic shows each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TensorRef:
    """A tensor value in a scope: the IR node that produces it (None once it is unknown)."""

    node: int | None


@dataclass(frozen=True)
class Several:
    """The values of a block that ends in `output a, b`: bound by `a, b = ...` only."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class BranchOnly:
    """A name first bound in some branches of an `if` only: using it after the `if` is an error,
    whichever branch the condition chose."""

    name: str
    line: int


class _NoCurrent:
    """What follows `a, b = ...`: no current value for a bare line to take."""

    def __repr__(self) -> str:
        return "NO_CURRENT"


NO_CURRENT: Any = _NoCurrent()


class _Unknown:
    """What a name holds when its expression failed (reported there): its uses say nothing."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shown(value: Any) -> str:
    """A value as a message names it."""
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:37]}..."'
    if isinstance(value, TensorRef):
        return "a value (a tensor)"
    if isinstance(value, Several):
        return f"{len(value.values)} values"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if is_number(value):
        return repr(value)
    name = getattr(value, "name", None)
    return f"`{name}`" if isinstance(name, str) else "this value"
