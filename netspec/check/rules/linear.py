"""Rules about missing nonlinearity: stacked linear maps (NS201) and hidden layers without one (NS202)."""

from __future__ import annotations

from collections.abc import Iterator

from netspec.check.rules.base import Finding, RuleConfig, related, rule
from netspec.check.rules.factorisation import is_design
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
from netspec.language.ir import Graph, Node


@rule("NS201", "linear-collapse", Severity.WARNING)
def linear_collapse(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """Two linear maps stacked with nothing nonlinear between them collapse into one.

    A dense or convolution layer with no activation (none given, or `linear`) computes an affine
    map of its input. When its output reaches another dense or convolution layer through layers
    that keep a map linear, the two compose into one affine map. This is the seed network's
    lesson: dense layers without activations are one linear regression, however many there are.
    The second layer's own activation does not help, since it acts after the composed map. The
    warning stands at the first layer, the one to give an activation; the second is named as
    related information.

    A product of two maps is reported only when it buys nothing over the one map it equals.
    With the first map taking `in` channels to `mid` and the second `mid` to `out`, it buys
    something in two cases, which are left alone:

    - Rank: the product has rank at most `mid`. A middle narrower than both ends
      (mid < min(in, out)) makes a low-rank map on purpose, a linear bottleneck: MobileNetV2
      projects 96 channels to 24, batch norm, and the next block expands them to 144 (a relu
      on so few channels would destroy information, the paper's argument). A middle as wide as
      the first map's input that the second expands (mid == in < out) is left alone for the
      same reason: MobileNetV3-Small's first block projects 16 channels to 16, and the next
      expands them to 72. A middle as wide as the output (784 -> 64 -> 64) is reported: the
      second map adds nothing.
    - Parameters: a factor that leaves some mixing out, depthwise (no mixing of channels) or
      pointwise (1x1, or a dense applied at every position: no mixing of positions), with fewer
      weights in the two than in the one map of the same receptive field. A 3x3 depthwise then
      a 1x1 convolution from 32 to 64 channels hold 9x32 + 32x64 = 2,336 weights where one 3x3
      convolution holds 9x32x64 = 18,432: a separable convolution written out. ConvNeXt's 4x4
      stride-4 stem then its 7x7 depthwise convolution hold 4x4x3x96 + 7x7x96 weights where
      the one map would see 28x28 pixels: 28x28x3x96.

    Reported: the seed's `dense(4)` then `dense(3)` on 2 inputs (a middle of 4 constrains
    nothing, and 2x4 + 4x3 weights do the work of 2x3); a 1x1 then a 3x3 convolution at full
    width (32x32 + 9x32x32 weights for one 3x3 map of 9x32x32); and two full convolutions in a
    row (two 3x3 at 64 channels hold fewer weights than the 5x5 they compose to, but they are a
    5x5 convolution all the same: VGG's stacks of small kernels are worth it only with a relu
    between). Across flatten or reshape the widths are counted as whole tensors, and the one
    map is a dense layer over them, against which a convolution's shared weights save: a DCGAN
    generator's linear dense(8 * 8 * 128) on a 128-value latent vector, reshaped, then a 4x4
    transposed convolution to 128 channels holds 1.3M weights where the one map holds 4.2M
    (keras.io's example writes it so), and is left alone; a dense layer then flatten's dense
    layer (conv, flatten, dense on a vector) is judged by rank alone.

    Walked through, as linear: dropout and noise (identity at inference), flatten, reshape,
    permute, padding, cropping, upsampling, average pooling (a fixed average), batch norm (an
    affine map at inference), rescaling and the `linear` activation. Breaks the chain: every
    other activation, max pooling (a maximum is not linear), layer, group and unit norm (they
    divide by a statistic of their input), multiply and dot, recurrent layers, and embedding (a
    table lookup, not a map of input values). The merges add, subtract, average and concat are
    walked through when every input is such a linear map and no input feeds another: the sum of
    linear maps of the same values is one linear map, and each branch is reported. A residual
    merge, one of whose inputs also feeds the other branch (ResNet, MobileNetV2's inverted
    residuals, ConvNeXt and transformer blocks), holds a nonlinear function of its skip and is
    not walked through, even when both branches end in a linear layer; nor is a merge of
    branches whose linear maps read different values (a feature pyramid's lateral 1x1
    convolution added to the upsampled coarser level, as FPN publishes it without
    activations). A linear layer that reaches the next learning layer through max pooling or
    normalisation is NS202.

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

    # Left alone: a linear bottleneck (24 channels between 96 and 144).
    model linear_bottleneck {
        input [28, 28, 96]
        conv2d(24, 1, use_bias=false)
        batch_norm
        conv2d(144, 1, use_bias=false)
        batch_norm
        relu(6.0)
    }
    ```
    """
    sources = linear_sources(checked)
    for node in known_nodes(checked):
        producers = sources.get(node.inputs[0]) if is_map(node) and node.inputs else None
        if not producers:
            continue
        between = _transparent_between(checked, node, sources)
        graph = checked.graph
        for producer in (graph.node(i) for i in sorted(producers)):
            path = [n for n in between if n.id > producer.id]
            if not is_design(checked, producer, node, path):
                yield _collapse(producer, node, path, len(producers))


def linear_sources(checked: CheckedGraph) -> dict[int, frozenset[int] | None]:
    """For each node, the linear maps whose outputs alone make up its value through transparent
    layers; None when anything else goes into it (an input, an activation, a skip connection)."""
    sources: dict[int, frozenset[int] | None] = {}
    graph = checked.graph
    for node in graph.nodes:  # creation order is a topological order
        if is_linear_map(node):
            sources[node.id] = frozenset({node.id})
        elif is_transparent(node) and node.inputs:
            found = [sources.get(i) for i in node.inputs]
            known = [f for f in found if f is not None]
            linear = len(known) == len(found) and not is_residual(graph, node)
            if linear and len(set(node.inputs)) > 1:
                linear = _one_origin(graph, known)
            sources[node.id] = frozenset().union(*known) if linear else None
        else:
            sources[node.id] = None
    return sources


def _one_origin(graph: Graph, branches: list[frozenset[int]]) -> bool:
    """Whether the linear maps of a merge's branches all read one value: then the merge adds
    up maps of it, one map in disguise. Branches from different values (a feature pyramid's
    lateral 1x1 and its upsampled top-down path) are left alone, as residual merges are."""
    origins = {
        graph.node(m).inputs[0] for branch in branches for m in branch if graph.node(m).inputs
    }
    return len(origins) <= 1


def is_residual(graph: Graph, merge: Node) -> bool:
    """A merge one of whose inputs feeds another of them: a skip connection. Its sum is no
    stack of linear maps, since the other branch holds a nonlinear function of the skip."""
    inputs = sorted(set(merge.inputs))
    for k, earlier in enumerate(inputs):
        for later in inputs[k + 1 :]:
            if _feeds(graph, earlier, later):
                return True
    return False


def _feeds(graph: Graph, earlier: int, later: int) -> bool:
    """Whether node `earlier` is an ancestor of node `later`. Ids follow the data flow, so the
    walk back stays between the two: the body of the residual block, not the whole model."""
    seen: set[int] = set()
    stack = [later]
    while stack:
        node_id = stack.pop()
        if node_id == earlier:
            return True
        if node_id in seen or node_id < earlier:
            continue
        seen.add(node_id)
        stack.extend(graph.node(node_id).inputs)
    return False


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


def _collapse(producer: Node, consumer: Node, between: list[Node], producers: int) -> Finding:
    together = " together with the other branches" if producers > 1 else ""
    message = (
        f"{producer.name} ({describe(producer)}) feeds {consumer.name} {via(between)}: the two "
        f"are one linear map{together}; add an activation such as relu to {producer.name}"
    )
    return Finding(
        producer,
        message,
        help=f"give {producer.name} an activation (activation=relu), or put a relu layer after it",
        notes=(related(consumer, "takes its output"),),
    )


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

    Normalisation is judged as the architectures that use it intend: a pair that NS201 would
    leave alone as a factorisation by design (a narrower middle, or a depthwise or pointwise
    factor that saves weights) is left alone here too, whatever stands between. ConvNeXt's
    block is a 7x7 depthwise convolution, layer norm, then a pointwise dense layer (the two
    halves of a separable convolution with a normalisation between), and its stem a 4x4
    patchify convolution, layer norm, then the depthwise convolution; MLP-Mixer embeds patches
    linearly before layer norm and its token-mixing dense layers. A full map, max pooling or
    layer norm, then another full map is still reported.

    The pair with only linear layers between is NS201's, never reported twice; merges are
    followed as NS201 follows them, a residual merge not at all. The warning stands at the
    layer missing its activation, with the layer it reaches as related information.

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

    # Left alone: ConvNeXt's depthwise convolution, layer norm, then a pointwise dense layer.
    block convnext(dim) {
        h = input -> depthwise_conv2d(7, padding=same) -> layer_norm(epsilon=1e-6)
            -> dense(4 * dim) -> gelu -> dense(dim)
        add(input, h)
    }

    model convnext_stage {
        input [56, 56, 96]
        repeat 3 { convnext(96) }
        global_avg_pool2d
        dense(10, softmax)
    }
    ```
    """
    consumers = checked.graph.consumers()
    sources = linear_sources(checked)
    for node in known_nodes(checked):
        if not is_linear_map(node):
            continue
        reached = _weak_reach(checked, node, consumers, sources)
        if reached is None:
            continue
        learner, between = reached
        if is_map(learner) and is_design(checked, node, learner, between):
            continue
        yield _hidden(node, learner, between)


def _weak_reach(
    checked: CheckedGraph,
    start: Node,
    consumers: dict[int, list[int]],
    sources: dict[int, frozenset[int] | None],
) -> tuple[Node, list[Node]] | None:
    """The nearest learning layer that `start` reaches with no activation between, through at
    least one weak nonlinearity or into a recurrent layer, with the layers between."""

    def go_on(node: Node) -> bool:
        return not is_learning(node) and _passes(checked, node, sources)

    for node, between in walk_forward(checked, start, consumers, go_on):
        weak = any(is_weak_nonlinearity(n) for n in between)
        # A learning layer reached through linear layers only is NS201's pair.
        if is_learning(node) and (weak or not is_map(node)):
            return node, between
    return None


def _passes(checked: CheckedGraph, node: Node, sources: dict[int, frozenset[int] | None]) -> bool:
    """Whether the walk goes on through `node`: a merge only when nothing but linear maps go
    into it and none of them feeds another, as NS201 has it (a skip connection makes a residual
    design)."""
    if not (is_transparent(node) or is_weak_nonlinearity(node)):
        return False
    if len(node.inputs) == 1:
        return True
    return all(sources.get(i) for i in node.inputs) and not is_residual(checked.graph, node)


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
    return Finding(
        producer,
        message,
        help="activation=relu on the layer, or a relu layer after it",
        notes=(related(learner, "takes its output"),),
    )
