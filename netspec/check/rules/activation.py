"""Rules about activations: two in a row (NS203), layers after a softmax (NS204), a softmax of one
(NS205), bent logits (NS212), saturating stacks (NS226)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from netspec.check.rules.base import Finding, RuleConfig, related, rule
from netspec.check.rules.graphs import (
    activation_of,
    aside,
    back_through,
    effective,
    head,
    head_layers,
    is_activation_layer,
    is_learning,
    is_map,
    is_passthrough,
    known_nodes,
    next_activation,
    shape_of,
    shape_text,
    walk_forward,
    width,
    wrapped_args,
)
from netspec.check.rules.output import PROBABILITY_LOSSES, Loss, loss_squash, output_losses
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Severity
from netspec.language.ir import Node
from netspec.layers.core import RELU, SOFTMAX
from netspec.layers.traits import Merge

# Merges that keep probabilities probabilities (stacking them, or an ensemble's mean).
_PROBABILITY_MERGES = (Merge.STACK, Merge.MEAN)


@rule("NS203", "double-activation", Severity.WARNING)
def double_activation(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An activation layer right after another activation.

    An activation layer applied to the output of another activation (`relu` after
    `dense(64, relu)`, `sigmoid` after `tanh`) is either a no-op (relu of a relu) or squashes
    values that were already squashed, which flattens the gradients. Layers that only move values
    (dropout, flatten, reshape, padding) between the two do not separate them; batch norm does,
    since activation, batch norm, activation is a deliberate pattern. A recurrent layer's
    `activation` acts inside its cell and does not count. An activation before the model's final
    softmax or sigmoid is NS212's (nonlinear-logits), reported at the layer that bends the scores.

    Bad:

    ```netspec
    model regression {
        input [16]
        dense(8, relu)
        relu
        dense(1)
    }
    ```

    Good:

    ```netspec
    model regression {
        input [16]
        dense(8, relu)
        dense(1)
    }
    ```
    """
    # A softmax or sigmoid at the output after an activation is NS212's, reported at the layer
    # that bends the scores.
    deferred = {item.squash.id for item in final_logits(checked) if item.squash is not None}
    for node in known_nodes(checked):
        if not is_activation_layer(node) or node.id in deferred:
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
    return Finding(node, message, help=help, notes=(related(before, f"applies the {earlier}"),))


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
        # A product uses the softmax as weights: attention.
        weighs = effective(node)[0].traits.merge is Merge.PRODUCT
        if not is_activation_layer(node) and not weighs:
            yield node, between


def _keeps_probabilities(node: Node) -> bool:
    return is_passthrough(node) or effective(node)[0].traits.merge in _PROBABILITY_MERGES


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
    axis = args.get("axis", -1) if kind is SOFTMAX else -1
    return tuple(axis) if isinstance(axis, tuple) else (axis,)


def _axis_size(shape: tuple, axis: int) -> int | None:
    """The size of a Keras axis (the batch is axis 0) of a shape given without the batch."""
    index = axis - 1 if axis > 0 else len(shape) + axis
    return shape[index] if 0 <= index < len(shape) else None


# ---- the scores before the final softmax or sigmoid (NS212) ----------------------------------

_SQUASHING = ("softmax", "sigmoid")
# The range of each activation's output, (low, high), None where it is unbounded: what it leaves
# of the scores a final softmax or sigmoid turns into probabilities.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "relu": (0.0, None),
    "relu6": (0.0, 6.0),
    "elu": (-1.0, None),
    "celu": (-1.0, None),
    "selu": (-1.7581, None),
    "gelu": (-0.17, None),
    "silu": (-0.2785, None),
    "swish": (-0.2785, None),
    "hard_silu": (-0.375, None),
    "hard_swish": (-0.375, None),
    "mish": (-0.3088, None),
    "softplus": (0.0, None),
    "squareplus": (0.0, None),
    "sparse_plus": (0.0, None),
    "exponential": (0.0, None),
    "sigmoid": (0.0, 1.0),
    "hard_sigmoid": (0.0, 1.0),
    "sparse_sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "sparsemax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "hard_tanh": (-1.0, 1.0),
    "softsign": (-1.0, 1.0),
    "log_sigmoid": (None, 0.0),
    "log_softmax": (None, 0.0),
}
# Activations that cut their input flat below a point: a score cut there gets no gradient.
_CUTTING = ("relu", "relu6")


@dataclass(frozen=True)
class Logits:
    """Scores bent by an activation before the model's final softmax or sigmoid."""

    layer: Node  # the layer whose activation bends the scores
    activation: str
    squash: Node | None  # the softmax or sigmoid layer; None when the loss applies it
    function: str  # softmax or sigmoid
    loss: Loss | None  # the loss told from_logits=true, when it squashes
    units: int | None  # how many scores the softmax or sigmoid takes
    passed: list[Node]  # the layers between, in data-flow order


def final_logits(checked: CheckedGraph) -> list[Logits]:
    """Each output whose softmax or sigmoid (a layer, or the loss's from_logits) takes scores
    that an activation has already bent."""
    graph = checked.graph
    losses = dict(output_losses(checked))
    found: list[Logits] = []
    for output_id in dict.fromkeys(graph.outputs):
        end = head(checked, output_id)
        loss = losses.get(output_id)
        if end is not None and end.activation in _SQUASHING and is_activation_layer(end.layer):
            squash = end.layer
            units = _squashed_units(checked, squash)
            if end.activation == "softmax" and units == 1:
                continue  # a softmax of one value is NS205's: always 1.0, whatever comes before
            before, passed = back_through(checked, squash, keeps_scores)
            bent = None if before is None else bending(before)
            if before is not None and bent is not None:
                between = passed[::-1]
                found.append(Logits(before, bent, squash, end.activation, None, units, between))
        elif loss is not None and loss.from_logits and loss.name in PROBABILITY_LOSSES:
            layer, passed = _scores_layer(checked, graph.node(output_id))
            bent = bending(layer)
            # A softmax or sigmoid head with from_logits=true is NS301's.
            if bent is not None and bent not in _SQUASHING:
                units = width(checked, graph.node(output_id))
                found.append(Logits(layer, bent, None, loss_squash(loss), loss, units, passed))
    return found


def keeps_scores(node: Node) -> bool:
    """Passes scores on within the range they had: dropout, flatten, reshape, padding, and
    pooling (a maximum or an average of values in a range stays in it)."""
    if is_passthrough(node):
        return True
    return len(node.inputs) == 1 and effective(node)[0].traits.pooling is not None


def bending(node: Node) -> str | None:
    """The activation a node's output has been through: its own, or a recurrent layer's, whose
    `activation` (tanh by default) bounds its output too."""
    name = activation_of(node)
    if name is not None:
        return name
    kind, args = effective(node)
    if not kind.traits.recurrent:
        return None
    name = wrapped_args(kind, args).get("activation")
    return name if isinstance(name, str) and name != "linear" else None


def _scores_layer(checked: CheckedGraph, output: Node) -> tuple[Node, list[Node]]:
    """The layer that gives an output its values, through dropout and reshaping."""
    passed: list[Node] = []
    node = output
    while keeps_scores(node):
        passed.append(node)
        node = checked.graph.node(node.inputs[0])
    return node, passed[::-1]


def _squashed_units(checked: CheckedGraph, squash: Node) -> int | None:
    shape = shape_of(checked, squash) or ()
    axes = _softmax_axes(squash) if activation_of(squash) == "softmax" else (-1,)
    sizes = [_axis_size(shape, axis) for axis in axes]
    if len(sizes) != 1:
        return None
    return sizes[0]


def _range(node: Node, activation: str) -> tuple[float | None, float | None]:
    kind, args = effective(node)
    if kind is RELU:  # the ReLU layer: a cap, a slope below the threshold
        if args.get("negative_slope"):
            return None, None
        cap = args.get("max_value")
        return 0.0, float(cap) if isinstance(cap, (int, float)) else None
    return _RANGES.get(activation, (None, None))


def _bent_reason(item: Logits) -> str:
    low, high = _range(item.layer, item.activation)
    if item.function == "softmax":
        classes = item.units
        if item.activation in _CUTTING and low is not None:
            return (
                "a class whose score it cuts to 0 gets no gradient, so the model cannot raise it "
                "for the examples where it should win"
            )
        if low is not None and high is not None and classes is not None and classes > 1:
            cap = 1 / (1 + (classes - 1) * math.exp(low - high))
            return (
                f"scores within [{low:g}, {high:g}] cap any class's probability at {cap:.0%} "
                f"over {classes} classes"
            )
        return "a softmax wants raw scores (logits), which it bends"
    floor = None if low is None else 1 / (1 + math.exp(-low))
    ceiling = None if high is None else 1 / (1 + math.exp(-high))
    if floor is not None and ceiling is not None:
        return (
            f"the sigmoid of scores within [{low:g}, {high:g}] stays between {floor:.0%} and "
            f"{ceiling:.0%}"
        )
    if floor is not None:
        never = ", so the model never predicts the negative class" if floor >= 0.5 else ""
        return f"the sigmoid of scores of at least {low:g} never goes below {floor:.0%}{never}"
    if ceiling is not None:
        return f"the sigmoid of scores of at most {high:g} never goes above {ceiling:.0%}"
    return "a sigmoid wants raw scores (logits), which it bends"


def _bent(item: Logits) -> Finding:
    layer, what = item.layer, item.activation
    if item.squash is not None:
        named = item.squash.name
        squasher = named if named.startswith(item.function) else f"{named} ({item.function})"
    else:
        squasher = f"the loss {item.loss.written if item.loss else item.function}"
    through = aside(item.passed)
    recurrent = activation_of(layer) is None
    if recurrent:
        start = (
            f"{layer.name}'s outputs pass through its {what}{through}, and {squasher} turns them"
        )
        help = f"add a linear dense layer between {layer.name} and the {item.function}"
    elif is_activation_layer(layer):
        start = f"{layer.name} applies {what} to the scores{through} that {squasher} turns"
        help = f"remove {layer.name}: a {item.function} wants raw scores (logits)"
    else:
        start = f"{layer.name} applies {what} to the scores{through} that {squasher} turns"
        help = f"leave {layer.name} linear: a {item.function} wants raw scores (logits)"
    message = f"{start} into probabilities: {_bent_reason(item)}"
    return Finding(layer, message, help=help)


@rule("NS212", "nonlinear-logits", Severity.WARNING)
def nonlinear_logits(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An activation bends the scores that the model's final softmax or sigmoid takes.

    A final softmax (or sigmoid) turns raw scores, the logits, into probabilities; it wants them
    unbounded. A nonlinear activation on the layer that feeds it (`dense(10, relu)` then
    `softmax`, UMLAUT's FinalLayerHasActivation) bends them first: bounded scores cap the
    probabilities (tanh's [-1, 1] lets a softmax over 10 classes reach at most 45%, and a sigmoid
    stay within 27% to 73%), and relu cuts every negative score to 0, where it gets no gradient,
    so the sigmoid of a relu never goes below 50%. The same holds when the loss applies the
    softmax or sigmoid itself (from_logits=true) to a layer with an activation, and for a
    recurrent layer feeding the softmax directly, whose output its tanh bounds. The layer before
    the logits keeps its activation (`dense(64, relu)`, `dense(10)`, `softmax` is right).
    Walked through: dropout, noise, flatten, reshape, padding and pooling (global or not: a
    maximum or an average of scores a relu has cut stays cut, so `conv2d(10, 1, relu)`,
    global pooling, softmax bends them just the same; SqueezeNet's classifier has this flaw);
    batch norm re-centres the scores and stops the walk. A softmax or sigmoid head with from_logits=true is NS301's.

    Bad:

    ```netspec
    model classifier {
        input [16]
        dense(64, relu)
        dense(10, relu)
        softmax
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [16]
        dense(64, relu)
        dense(10)
        softmax
    }
    ```
    """
    for item in final_logits(checked):
        yield _bent(item)


# ---- saturating activations in a deep stack (NS226) ------------------------------------------

_SATURATING = ("sigmoid", "tanh", "hard_sigmoid", "hard_tanh", "softsign")


@rule("NS226", "saturating-activations", Severity.INFO)
def saturating_activations(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """Many hidden layers in a row use saturating activations, with no normalisation between.

    sigmoid, tanh, hard_sigmoid, hard_tanh and softsign flatten out for large inputs: their
    derivative is at most 0.25 (sigmoid) or 1 (tanh, only at 0) and near 0 once they saturate.
    Backpropagation multiplies one such derivative per layer, so in a deep stack the gradient
    reaching the first layers vanishes and they stop learning (Glorot and Bengio, 2010; the
    reason relu replaced them in deep networks). Reported when more than
    `saturating_layers` (4) hidden dense or convolution layers follow each other with a
    saturating activation (their own or an activation layer right after), at the first of them.
    Batch or layer norm between two of them, a merge (a skip connection keeps a short path for
    the gradient) or a recurrent layer breaks the run, and so does any other activation. The
    output layer does not count (a sigmoid output is a choice of head), nor do recurrent layers:
    their tanh acts inside the cell, which gates its gradient.

    Bad:

    ```netspec
    model deep {
        input [32]
        repeat 5 { dense(64, tanh) }
        dense(1)
    }
    ```

    Good:

    ```netspec
    model deep {
        input [32]
        repeat 5 { dense(64, relu) }
        dense(1)
    }
    ```
    """
    consumers = checked.graph.consumers()
    heads = {layer.id for layer in head_layers(checked)}
    # Each saturating layer: the one before it in its run, the run's first layer and its length.
    # Links rather than a list per layer: a long run stays linear in time and memory.
    before_in_run: dict[int, Node | None] = {}
    first_and_length: dict[int, tuple[Node, int]] = {}
    previous: set[int] = set()
    for node in known_nodes(checked):
        if not is_map(node) or node.id in heads:
            continue
        activation = activation_of(node) or next_activation(checked, node, consumers)
        if activation not in _SATURATING:
            continue
        before, _ = back_through(checked, node, _within_run)
        if before is not None and before.id in first_and_length:
            first, length = first_and_length[before.id]
            first_and_length[node.id] = (first, length + 1)
            before_in_run[node.id] = before
            previous.add(before.id)
        else:
            first_and_length[node.id] = (node, 1)
            before_in_run[node.id] = None
    reported: set[int] = set()
    for node_id, (first, length) in first_and_length.items():
        ends = length > config.saturating_layers and node_id not in previous
        if ends and first.id not in reported:
            reported.add(first.id)
            yield _saturating(checked, _run(checked, node_id, before_in_run), consumers)


def _run(checked: CheckedGraph, last: int, before_in_run: dict[int, Node | None]) -> list[Node]:
    """The run of saturating layers that ends at `last`, first layer first."""
    run = [checked.graph.node(last)]
    while (before := before_in_run[run[-1].id]) is not None:
        run.append(before)
    return run[::-1]


def _within_run(node: Node) -> bool:
    """Layers a run of saturating layers continues through: no learning, no normalisation, no
    other activation."""
    if is_activation_layer(node) and activation_of(node) not in _SATURATING:
        return False
    return not is_learning(node) and node.kind.traits.normalization is None


def _saturating(checked: CheckedGraph, run: list[Node], consumers: dict[int, list[int]]) -> Finding:
    first, last = run[0], run[-1]
    used = list(
        dict.fromkeys(activation_of(n) or next_activation(checked, n, consumers) or "" for n in run)
    )
    names = used[0] if len(used) == 1 else ", ".join(used[:-1]) + " and " + used[-1]
    message = (
        f"{first.name} starts a run of {len(run)} hidden layers with {names} ({first.name} to "
        f"{last.name}) and no normalization between: the gradient reaching {first.name} is "
        f"multiplied by {len(run)} saturating derivatives on the way and tends to vanish"
    )
    help = "use relu (or gelu, elu) in the hidden layers, or put batch_norm/layer_norm between them"
    return Finding(first, message, help=help)
