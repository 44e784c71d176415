"""Python source for values from a spec: every string is escaped as repr() escapes it, never raw."""

from __future__ import annotations

import math
from typing import Any

from netspec.layers.catalog import CallValue, LayerSpec
from netspec.targets.base import GenerationError


def py_literal(value: Any) -> str:
    """A Python literal for a plain value (numbers, booleans, None, strings, tuples)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, tuple):
        items = ", ".join(py_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, CallValue):
        # A call inside a call, or in a free-form argument: no target has a class for it.
        raise GenerationError(f"`{value.name}(...)` is a call where a plain value belongs")
    if isinstance(value, LayerSpec):
        raise TypeError(f"{type(value).__name__} needs a target-specific rendering")
    raise TypeError(f"cannot render {value!r} as a literal")


def string_literal(text: str) -> str:
    """`text` as a Python string literal in the quotes black keeps: double quotes unless the
    text holds more double quotes than single ones. Every other character is escaped as repr()
    escapes it."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # nothing to escape (the common case, quickly)
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = "".join(
        ("\\" + char if char == quote else char) if char in "'\"" else repr(char)[1:-1]
        for char in text
    )
    return quote + body + quote


def camel(name: str) -> str:
    """`he_normal` -> `HeNormal`, `l1_l2` -> `L1L2`: Keras' class name for a snake_case name."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))
