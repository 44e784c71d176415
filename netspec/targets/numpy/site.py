"""What the NumPy target's layer generators share: the Site a generator reads, the NumpyLayer it
returns (the Python expression of the layer's output), and the activation functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netspec.layers.base import LayerKind, Shape
from netspec.targets.literals import py_literal


class Unsupported(Exception):
    """A layer the NumPy target cannot compute exactly; the message says why."""


class WeightMismatch(Exception):
    """A generator and the catalog disagree on a layer's weights: a bug of netspec, never of the
    spec; the message names the weight."""


@dataclass(frozen=True)
class NumpyLayer:
    """One line of `__call__`: `var = expr`, after `mask_var = mask_expr` when it makes a mask."""

    var: str  # the local variable holding its output
    expr: str  # the expression computing it
    mask_var: str = ""  # a variable for the mask this layer makes (set before its output)
    mask_expr: str = ""


@dataclass
class Site:
    """What a generator gets: the layer, its input expressions and shapes, its weights, its mask."""

    kind: LayerKind
    args: Mapping[str, Any]
    name: str
    var: str
    inputs: tuple[str, ...]
    shapes: tuple[Shape, ...]
    weights: dict[
        str, str
    ]  # the catalog's weight names below the layer -> expressions reading them
    helpers: set[str]
    mask: str = ""  # the mask reaching a layer that uses one
    mask_var: str = ""  # for a layer that makes a mask: the variable to hold it

    def use(self, *names: str) -> str:
        """Record helper functions the module must define; the first one's name in the module."""
        self.helpers.update(names)
        return f"_{names[0]}"

    def call(self, helper: str, *args: str) -> str:
        """`_helper(x, args...)`: a helper of the module applied to the first input."""
        return f"{self.use(helper)}({', '.join((self.x, *args))})"

    def weight(self, name: str, present: bool = True) -> str:
        """The expression reading weight `name`, checked against the catalog's weights of the
        layer; `present=False` (use_bias=false, scale=false) reads as None and checks it absent."""
        if present and name not in self.weights:
            known = ", ".join(f"`{k}`" for k in self.weights) or "none"
            raise WeightMismatch(
                f"it reads weight `{name}`, which the catalog does not list ({known})"
            )
        if not present and name in self.weights:
            raise WeightMismatch(f"it leaves out weight `{name}`, which the catalog lists")
        return self.weights[name] if present else "None"

    def arg(self, name: str) -> Any:
        return self.args[name]

    @property
    def x(self) -> str:
        return self.inputs[0]

    def layer(self, expr: str, wrap: tuple[str, ...] = ()) -> NumpyLayer:
        return NumpyLayer(self.var, wrapped(expr, wrap))


def wrapped(expr: str, wrap: tuple[str, ...]) -> str:
    """`expr` inside the functions of `wrap`, the first one outermost."""
    return "".join(f"{f}(" for f in wrap) + expr + ")" * len(wrap)


def keywords(pairs: list[tuple[str, Any]]) -> str:
    return ", ".join(f"{key}={py_literal(value)}" for key, value in pairs)


# ---- activations ---------------------------------------------------------------------------

# Functions numpy has; every other activation is a helper `_<name>` of the generated module.
_NUMPY_ACTIVATIONS = {"tanh": "np.tanh", "exponential": "np.exp"}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def activation_function(site: Site, name: str | None) -> str:
    """A callable for an activation name (what recurrent layers take)."""
    name = "linear" if name is None else _ALIASES.get(name, name)
    if name in _NUMPY_ACTIVATIONS:
        return _NUMPY_ACTIVATIONS[name]
    return site.use(name)


def fused(site: Site, name: str | None) -> tuple[str, ...]:
    """The wrap for a layer's `activation=` argument: nothing for linear."""
    if name is None or name == "linear":
        return ()
    return (activation_function(site, name),)
