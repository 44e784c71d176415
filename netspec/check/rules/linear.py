"""Rules about missing nonlinearity: stacked linear maps (NS201) and hidden layers without one (NS202)."""

from __future__ import annotations

from collections.abc import Iterator

from netspec.check.rules.base import Finding, RuleConfig, rule
from netspec.check.rules.graphs import (
    describe,
    is_learning,
    is_linear_map,
    is_map,
    is_transparent,
    is_weak_nonlinearity,
    known_nodes,
    via,
    walk_forward,
)
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Severity
from netspec.language.ir import Node


@rule("NS201", "linear-collapse", Severity.WARNING)
def linear_collapse(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """Two linear maps stacked with nothing nonlinear between them collapse into one.

    A dense or convolution layer with no activation (none given, or `linear`) computes an affine
    map of its input. When its output reaches another dense or convolution layer through layers
    that keep a map linear, the two compose into one affine map: the first layer adds weights but
    no expressive power. This is the seed network's lesson: dense layers without activations are
    one linear regression, however many there are. The second layer's own activation does not
    help, since it acts after the composed map.

    Walked through, as linear: dropout and noise (identity at inference), flatten, reshape,
    permute, padding, cropping, upsampling, average pooling (a fixed average), batch norm (an
    affine map at inference), rescaling and the `linear` activation. Breaks the chain: every
    other activation, max pooling (a maximum is not linear), layer, group and unit norm (they
    divide by a statistic of their input), multiply and dot, recurrent layers, and embedding (a
    table lookup, not a map of input values). The merges add, subtract, average and concat are
    walked through only when every one of their inputs is such a linear map, since the sum is then
    one linear map too; a merge with a skip connection or any other input is a residual design
    (ResNet, MobileNetV2's linear bottlenecks, transformer blocks) and is not reported. A linear
    layer that reaches the next learning layer through max pooling or normalisation is NS202.

    Bad:

    ```netspec
    model regression {
        input [2]
        dense(4)
        dense(3)
        dense(1)
    }
    ```

    Good:

    ```netspec
    model regression {
        input [2]
        dense(4, relu)
        dense(3, relu)
        dense(1)
    }
    ```
    """
    sources = linear_sources(checked)
    for node in known_nodes(checked):
        producers = sources.get(node.inputs[0]) if is_map(node) and node.inputs else None
        if producers:
            graph = checked.graph
            between = _transparent_between(checked, node, sources)
            yield _collapse(node, [graph.node(i) for i in sorted(producers)], between)


def linear_sources(checked: CheckedGraph) -> dict[int, frozenset[int] | None]:
    """For each node, the linear maps whose outputs alone make up its value through transparent
    layers; None when anything else goes into it (an input, an activation, a skip connection)."""
    sources: dict[int, frozenset[int] | None] = {}
    for node in checked.graph.nodes:  # creation order is a topological order
        if is_linear_map(node):
            sources[node.id] = frozenset({node.id})
        elif is_transparent(node) and node.inputs:
            found = [sources.get(i) for i in node.inputs]
            known = [f for f in found if f is not None]
            sources[node.id] = frozenset().union(*known) if len(known) == len(found) else None
        else:
            sources[node.id] = None
    return sources


def _transparent_between(
    checked: CheckedGraph, consumer: Node, sources: dict[int, frozenset[int] | None]
) -> list[Node]:
    """The transparent layers between a consumer and the linear maps that feed it, in order."""
    graph = checked.graph
    found: dict[int, Node] = {}
    stack = list(consumer.inputs)
    while stack:
        node = graph.node(stack.pop())
        if node.id not in found and not is_linear_map(node) and sources.get(node.id):
            found[node.id] = node
            stack.extend(node.inputs)
    return [found[i] for i in sorted(found)]


def _collapse(consumer: Node, producers: list[Node], between: list[Node]) -> Finding:
    if len(producers) == 1:
        producer = producers[0]
        message = (
            f"{producer.name} ({describe(producer)}) feeds {consumer.name} {via(between)}: "
            "the two are one linear map; add an activation such as relu"
        )
    else:
        names = ", ".join(f"{p.name} ({describe(p)})" for p in producers)
        message = (
            f"{names} feed {consumer.name} {via(between)}: together with {consumer.name} they "
            "are one linear map; add an activation such as relu"
        )
    return Finding(consumer, message, help=_help(producers[0], consumer))


def _help(producer: Node, consumer: Node) -> str:
    # A depthwise convolution then a 1x1 convolution is a separable convolution, written out.
    pointwise = consumer.args.get("kernel_size") in ((1,), (1, 1))
    if producer.kind.traits.factorised and pointwise:
        return "this pair is separable_conv2d: write it as one layer, or add an activation between"
    return f"give {producer.name} an activation (activation=relu), or put a relu layer after it"


@rule("NS202", "hidden-layer-without-activation", Severity.WARNING)
def hidden_without_activation(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A hidden dense or convolution layer has no activation before the next learning layer.

    A learning layer with no activation relies on what follows for its nonlinearity. When the
    only things between it and the next learning layer are max pooling, normalisation (layer,
    group or unit norm) or maximum/minimum merges, besides layers that keep a map linear, the
    network has no real activation there: max pooling is piecewise linear and only picks among
    the linear features, and normalisation rescales them. Most often an activation was simply
    forgotten. A linear layer that feeds a recurrent layer directly is reported too: the
    recurrent layer's input kernel absorbs it, just as NS201 describes for two dense layers.

    The pair with only linear layers between is NS201's, never reported twice; merges are
    followed as NS201 follows them. The warning stands at the layer missing its activation.

    Bad:

    ```netspec
    model features {
        input [28, 28, 1]
        conv2d(16, 3)
        max_pool2d(2)
        conv2d(32, 3, activation=relu)
    }
    ```

    Good:

    ```netspec
    model features {
        input [28, 28, 1]
        conv2d(16, 3, activation=relu)
        max_pool2d(2)
        conv2d(32, 3, activation=relu)
    }
    ```
    """
    consumers = checked.graph.consumers()
    sources = linear_sources(checked)
    for node in known_nodes(checked):
        if not is_linear_map(node):
            continue
        reached = _weak_reach(checked, node, consumers, sources)
        if reached is not None:
            yield _hidden(node, *reached)


def _weak_reach(
    checked: CheckedGraph,
    start: Node,
    consumers: dict[int, list[int]],
    sources: dict[int, frozenset[int] | None],
) -> tuple[Node, list[Node]] | None:
    """The nearest learning layer that `start` reaches with no activation between, through at
    least one weak nonlinearity or into a recurrent layer, with the layers between."""

    def go_on(node: Node) -> bool:
        return not is_learning(node) and _passes(node, sources)

    for node, between in walk_forward(checked, start, consumers, go_on):
        weak = any(is_weak_nonlinearity(n) for n in between)
        # A learning layer reached through linear layers only is NS201's pair.
        if is_learning(node) and (weak or not is_map(node)):
            return node, between
    return None


def _passes(node: Node, sources: dict[int, frozenset[int] | None]) -> bool:
    """Whether the walk goes on through `node`: a merge only when nothing but linear maps go
    into it, as NS201 has it (a skip connection makes a residual design)."""
    if not (is_transparent(node) or is_weak_nonlinearity(node)):
        return False
    return len(node.inputs) == 1 or all(sources.get(i) for i in node.inputs)


def _hidden(producer: Node, learner: Node, between: list[Node]) -> Finding:
    weak = [n.name for n in between if is_weak_nonlinearity(n)]
    if weak:
        if len(weak) == 1:
            reason = f"{weak[0]} is no activation of its own"
        else:
            reason = f"{' and '.join(weak)} are no activations of their own"
    else:
        reason = f"{learner.name}'s input kernel absorbs it into one linear map"
    if between:
        path = f"reaches {learner.name} {via(between)}"
    else:
        path = f"feeds {learner.name} directly"
    message = (
        f"{producer.name} ({describe(producer)}) {path}: {reason}; add an activation such as "
        f"relu to {producer.name}"
    )
    return Finding(producer, message, help="activation=relu on the layer, or a relu layer after it")
