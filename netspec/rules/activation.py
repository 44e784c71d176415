"""Rules about activations: two in a row (NS203), layers after a softmax (NS204), a softmax of one (NS205)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from netspec.diagnostics import Severity
from netspec.ir import Node
from netspec.rules.base import Finding, RuleConfig, rule
from netspec.rules.graphs import (
    activation_of,
    aside,
    back_through,
    effective,
    is_activation_layer,
    is_passthrough,
    known_nodes,
    shape_of,
    shape_text,
    walk_forward,
)

if TYPE_CHECKING:
    from netspec.check import CheckedGraph

# Merges that keep probabilities probabilities (stacking them, or an ensemble's mean).
_PROBABILITY_MERGES = ("concat", "average")
# Merges that use a softmax as weights: attention.
_WEIGHTING_MERGES = ("multiply", "dot")


@rule("NS203", "double-activation", Severity.WARNING)
def double_activation(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An activation layer right after another activation.

    An activation layer applied to the output of another activation (`relu` after
    `dense(64, relu)`, `sigmoid` after `softmax`) is either a no-op (relu of a relu) or squashes
    values that were already squashed, which flattens the gradients; a nonlinear activation
    before a final softmax distorts the logits. Layers that only move values (dropout, flatten,
    reshape, padding) between the two do not separate them; batch norm does, since
    activation, batch norm, activation is a deliberate pattern. A recurrent layer's
    `activation` acts inside its cell and does not count.

    Bad:

    ```netspec
    model classifier {
        input [16]
        dense(10, relu)
        softmax
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [16]
        dense(10)
        softmax
    }
    ```
    """
    for node in known_nodes(checked):
        if not is_activation_layer(node):
            continue
        before, passed = back_through(checked, node, is_passthrough)
        earlier = None if before is None else activation_of(before)
        if before is not None and earlier is not None:
            yield _double(node, before, earlier, passed)


def _double(node: Node, before: Node, earlier: str, passed: list[Node]) -> Finding:
    current = activation_of(node)
    through = aside(passed[::-1])
    message = (
        f"{node.name} applies {current} right after the {earlier} of {before.name}{through}: "
        "two activations in a row; remove one"
    )
    if current == "softmax":
        help = f"a softmax wants raw scores: drop {earlier} from {before.name}"
    else:
        help = f"keep either the {earlier} of {before.name} or {node.name}"
    return Finding(node, message, help=help)


@rule("NS204", "layer-after-softmax", Severity.WARNING)
def layer_after_softmax(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A layer other than the end of the model comes after a softmax.

    A softmax turns scores into probabilities and belongs at the end of a classifier. A dense,
    convolution, normalisation or other learning layer after it works on probabilities, which
    squeezes its input into [0, 1] with a fixed sum and usually means the softmax was put on the
    wrong layer, or that a redundant second head was added. Not reported: layers that only move
    values (reshape, flatten, dropout: a dropout at the output is NS207), concat and average
    (stacking or averaging probabilities, as an ensemble does), multiply and dot (a softmax used
    as attention weights), and another activation (NS203).

    Bad:

    ```netspec
    model classifier {
        input [16]
        dense(10, softmax)
        dense(10)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [16]
        dense(10, relu)
        dense(10, softmax)
    }
    ```
    """
    consumers = checked.graph.consumers()
    # One finding per later layer, however many softmax values reach it.
    reached: dict[int, list[tuple[Node, list[Node]]]] = {}
    for node in known_nodes(checked):
        if activation_of(node) == "softmax":
            for later, between in _after(checked, node, consumers):
                reached.setdefault(later.id, []).append((node, between))
    for later_id, sources in sorted(reached.items()):
        yield _after_softmax(checked.graph.node(later_id), sources)


def _after(
    checked: CheckedGraph, softmax: Node, consumers: dict[int, list[int]]
) -> Iterator[tuple[Node, list[Node]]]:
    """The layers that work on the softmax's probabilities, with the layers between."""
    for node, between in walk_forward(checked, softmax, consumers, _keeps_probabilities):
        kind = effective(node)[0].name
        if not is_activation_layer(node) and kind not in _WEIGHTING_MERGES:
            yield node, between


def _keeps_probabilities(node: Node) -> bool:
    return is_passthrough(node) or effective(node)[0].name in _PROBABILITY_MERGES


def _after_softmax(later: Node, sources: list[tuple[Node, list[Node]]]) -> Finding:
    softmax, between = sources[0]
    what = softmax.name if is_activation_layer(softmax) else f"the softmax of {softmax.name}"
    through = aside(between)
    more = f" and {len(sources) - 1} more" if len(sources) > 1 else ""
    message = (
        f"{later.name} comes after {what}{more}{through}: it works on probabilities; a softmax "
        "belongs at the end of the model"
    )
    return Finding(later, message, help=f"move the softmax after {later.name}, or remove it")


@rule("NS205", "softmax-on-one-unit", Severity.WARNING)
def softmax_on_one_unit(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A softmax over an axis of size 1: its output is always 1.0.

    Softmax normalises over its axis (the last by default), so over a single value it returns
    1.0 whatever the input, and nothing before it can learn. This is the classic slip of a
    binary classifier written `dense(1, softmax)`: one unit wants `sigmoid`, or use two units
    with softmax.

    Bad:

    ```netspec
    model binary {
        input [16]
        dense(8, relu)
        dense(1, softmax)
    }
    ```

    Good:

    ```netspec
    model binary {
        input [16]
        dense(8, relu)
        dense(1, sigmoid)
    }
    ```
    """
    for node in known_nodes(checked):
        if activation_of(node) != "softmax":
            continue
        shape = shape_of(checked, node) or ()
        axes = _softmax_axes(node)
        sizes = [_axis_size(shape, axis) for axis in axes]
        if sizes and all(size == 1 for size in sizes):
            where = "its last axis" if axes == (-1,) else f"axis {', '.join(map(str, axes))}"
            message = (
                f"{node.name} takes a softmax over {where}, of size 1 in {shape_text(shape)}: "
                "its output is always 1.0"
            )
            yield Finding(node, message, help="use sigmoid for one unit, or one unit per class")


def _softmax_axes(node: Node) -> tuple[int, ...]:
    kind, args = effective(node)
    axis = args.get("axis", -1) if kind.name == "softmax" else -1
    return tuple(axis) if isinstance(axis, tuple) else (axis,)


def _axis_size(shape: tuple, axis: int) -> int | None:
    """The size of a Keras axis (the batch is axis 0) of a shape given without the batch."""
    index = axis - 1 if axis > 0 else len(shape) + axis
    return shape[index] if 0 <= index < len(shape) else None
