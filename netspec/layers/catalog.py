"""The layer catalog: one entry per layer kind, looked up by spec name, alias or Keras class."""

from __future__ import annotations

import functools

from netspec.layers import (
    attention,
    conv,
    core,
    merge,
    normalization,
    ops,
    pooling,
    preprocessing,
    recurrent,
)
from netspec.layers.base import (
    REQUIRED,
    Arg,
    CallValue,
    LayerKind,
    LayerSpec,
    Linearity,
    Shape,
    ShapeError,
    ValueKind,
    Weight,
)

__all__ = [
    "REQUIRED",
    "Arg",
    "CallValue",
    "LayerKind",
    "LayerSpec",
    "Linearity",
    "Shape",
    "ShapeError",
    "ValueKind",
    "Weight",
    "all_kinds",
    "lookup",
    "known_names",
]

_MODULES = (core, conv, pooling, normalization, recurrent, merge, attention, preprocessing, ops)


@functools.cache
def all_kinds() -> tuple[LayerKind, ...]:
    """Every layer kind, in catalog order."""
    return tuple(kind for module in _MODULES for kind in module.KINDS)


@functools.cache
def _index() -> dict[str, LayerKind]:
    index: dict[str, LayerKind] = {}
    # Operations on values are made by expressions (`x * 0.5`), never named as a layer.
    kinds = [kind for kind in all_kinds() if not ops.is_operation(kind)]
    for kind in kinds:
        index[kind.name] = kind
    # Aliases never shadow a spec name: `Activation` stays the generic activation layer.
    for kind in kinds:
        for alias in (*kind.aliases, kind.keras_class):
            if (
                kind.keras_class == "Activation"
                and alias == "Activation"
                and kind.name != "activation"
            ):
                continue
            index.setdefault(alias, kind)
    return index


def lookup(name: str) -> LayerKind | None:
    """The kind a spec name refers to: `dense`, `Dense`, `MaxPooling2D`, `relu`, ..."""
    return _index().get(name)


def known_names() -> tuple[str, ...]:
    return tuple(sorted(_index()))
