"""Rules about a model's layout: dense on feature maps, parameter blow-up, widths, depth without norm."""

from __future__ import annotations

from collections.abc import Iterator

from netspec.check.rules.base import Finding, RuleConfig, rule
from netspec.check.rules.graphs import (
    back_through,
    effective,
    head_layers,
    is_dropout,
    is_learning,
    known_nodes,
    learning_before,
    shape_of,
    shape_text,
    units_text,
)
from netspec.check.rules.output import PROBABILITY_LOSSES, output_losses
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Note, Severity
from netspec.language.ir import Node
from netspec.layers import catalog
from netspec.layers.common import product
from netspec.layers.core import DENSE, FLATTEN
from netspec.layers.traits import Pooling


def _dense(node: Node) -> bool:
    """A dense layer written as such (time_distributed(dense) is per step on purpose)."""
    return node.kind is DENSE


def _units(node: Node) -> int:
    return effective(node)[1]["units"]


def _dense_heads(checked: CheckedGraph) -> list[Node]:
    """The dense layers that compute the model's outputs."""
    return [layer for layer in head_layers(checked) if _dense(layer)]


@rule("NS206", "dense-on-feature-map", Severity.WARNING)
def dense_on_feature_map(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A dense layer on a feature map whose per-position outputs reach the model's output.

    Keras' Dense works on the last axis only: given a (batch, height, width, channels) feature
    map it is applied at every position, and the model's output keeps the spatial axes. That is
    rarely what a classifier after a convolution stack means; it wants flatten or a global
    pooling first, and a loss that expects one vector per sample then scores every position.
    Reported at the first dense layer on the map, when its per-position outputs reach an output
    of the model with the positions intact. Feature maps from a convolution or a (non-global)
    pooling layer count, and so do images given straight to a dense layer (`input [28, 28]`)
    under a classification loss (a series of rank 2 may be meant per step).

    Left alone: a dense layer used as a pointwise (1x1) layer inside a block that returns to
    the feature map, whose outputs go on into a convolution, a global pooling, flatten or a
    reshape (ConvNeXt's inverted MLP between its depthwise convolutions, a transformer's
    feed-forward layers over a sequence). Dense on a sequence from an embedding or a recurrent
    layer is per-step on purpose, and so is a layout chosen by reshape; a model that wants one
    output per position (a tagger, a segmentation head) says so with
    time_distributed(dense(...)) or a 1x1 convolution, which are not reported.

    Bad:

    ```netspec
    model classifier {
        input [28, 28, 1]
        conv2d(8, 3, activation=relu)
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [28, 28, 1]
        conv2d(8, 3, activation=relu)
        global_avg_pool2d
        dense(10, softmax)
    }

    # Left alone: pointwise dense layers inside a block that returns to the feature map.
    model pointwise_mlp {
        x = input [28, 28, 32]
        h = x -> depthwise_conv2d(7, padding=same) -> layer_norm
            -> dense(128, gelu) -> dense(32)
        add(x, h) -> global_avg_pool2d -> dense(10, softmax)
    }
    ```
    """
    graph = checked.graph
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    losses = {output_id: loss.name for output_id, loss in output_losses(checked)}
    for node in known_nodes(checked):
        if not _dense(node):
            continue
        shape = checked.shapes.get(node.inputs[0])
        if shape is None or len(shape) < 2:
            continue
        source = _feature_map_source(checked, node)
        if source is None:
            continue
        reached = _positions_reach_output(checked, node, consumers, outputs)
        if reached is None:
            continue
        # Raw values of rank 2 are an image or a series: a series may be meant per step, an
        # image under a classification loss is not.
        if source.is_input and losses.get(reached) not in PROBABILITY_LOSSES:
            continue
        yield _per_position(checked, node, source, shape, graph.node(reached))


def _positions_reach_output(
    checked: CheckedGraph, dense: Node, consumers: dict[int, list[int]], outputs: set[int]
) -> int | None:
    """The model output that the dense layer's per-position values reach with the positions
    kept (not through a convolution, a recurrent layer, flatten, reshape or global pooling)."""
    rank = len(checked.shapes.get(dense.id) or ())
    graph = checked.graph
    seen: set[int] = set()
    stack = [dense.id]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        if node_id in outputs:
            return node_id
        for later_id in consumers[node_id]:
            later = graph.node(later_id)
            shape = checked.shapes.get(later_id)
            traits = effective(later)[0].traits
            if shape is None or len(shape) < rank or traits.new_layout:
                continue
            if traits.is_convolution or traits.recurrent:
                continue  # back into spatial or sequential processing: a pointwise layer
            stack.append(later_id)
    return None


def _feature_map_source(checked: CheckedGraph, dense: Node) -> Node | None:
    """The convolution or pooling layer whose feature map reaches `dense` unflattened."""
    graph = checked.graph
    stack = list(dense.inputs)
    seen: set[int] = set()
    while stack:
        node = graph.node(stack.pop())
        if node.id in seen:
            continue
        seen.add(node.id)
        traits = effective(node)[0].traits
        if traits.window is not None:  # a convolution or a (non-global) pooling layer
            return node
        if node.is_input and _is_float_input(node):
            return node  # an image or a table of values given straight to the dense layer
        # Past a layer that changes the rank or the meaning of the positions, a dense is not
        # "on a convolution's feature map" any more (an embedding starts a sequence).
        if is_learning(node) or traits.is_global_pooling or traits.new_layout:
            continue
        stack.extend(node.inputs)
    return None


def _is_float_input(node: Node) -> bool:
    dtype = node.args.get("dtype")
    return not isinstance(dtype, str) or dtype.startswith(("float", "bfloat"))


def global_average_pooling(spatial: int) -> str:
    """The catalog's global average pooling over `spatial` axes, by name, for a help text."""
    for kind in catalog.all_kinds():
        traits = kind.traits
        average = traits.is_global_pooling and traits.pooling is Pooling.AVERAGE
        if average and traits.spatial_rank == spatial:
            return kind.name
    return "a global pooling"


def _per_position(
    checked: CheckedGraph, dense: Node, source: Node, shape: tuple, output: Node
) -> Finding:
    spatial = len(shape) - 1
    pool = global_average_pooling(spatial)
    message = (
        f"{dense.name} ({units_text(_units(dense))}) gets the feature map {shape_text(shape)} from "
        f"{source.name} and is applied at every position, giving "
        f"{shape_text(shape_of(checked, dense))}"
    )
    notes = tuple(
        Note(
            f"the loss {loss.written} (line {loss.span.line}) scores every position of the "
            f"output {output.name}, {shape_text(shape_of(checked, output))}, where a "
            "classifier's labels come one per sample",
            loss.span,
        )
        for output_id, loss in output_losses(checked)
        if output_id == output.id
    )
    help = f"add flatten or {pool} before {dense.name}"
    return Finding(dense, message, help=help, notes=notes)


@rule("NS209", "parameter-blow-up", Severity.WARNING)
def parameter_blow_up(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A dense layer after flatten holds most of the model's parameters.

    Flattening a feature map hands the next dense layer every value of it, so its kernel grows
    with height x width x channels and soon outweighs the whole convolution stack (VGG16's first
    dense layer holds 103M of its 138M parameters). Such a layer overfits and is slow; a global
    average pooling hands it only the channels. Reported when the layer holds more than half the
    parameters (`blowup_share`) of a model of over a million (`blowup_min_params`).

    Bad:

    ```netspec
    model classifier {
        input [64, 64, 3]
        conv2d(32, 3, activation=relu)
        flatten
        dense(64, relu)
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [64, 64, 3]
        conv2d(32, 3, activation=relu)
        global_avg_pool2d
        dense(64, relu)
        dense(10, softmax)
    }
    ```
    """
    total = checked.total_params
    if not checked.complete or total <= config.blowup_min_params:
        return
    for node in known_nodes(checked):
        if not _dense(node):
            continue
        flatten, _ = back_through(checked, node, is_dropout)
        if flatten is None or flatten.kind is not FLATTEN:
            continue
        share = checked.params(node.id) / total
        feature_map = checked.shapes.get(flatten.inputs[0])
        if share > config.blowup_share and feature_map and len(feature_map) >= 2:
            yield _blow_up(checked, node, flatten, feature_map, share)


def _blow_up(
    checked: CheckedGraph, dense: Node, flatten: Node, feature_map: tuple, share: float
) -> Finding:
    units = _units(dense)
    first = flatten.args.get("data_format") == "channels_first"
    channels = feature_map[0] if first else feature_map[-1]
    pooled = channels * units + (units if dense.args.get("use_bias") else 0)
    message = (
        f"{dense.name} ({units_text(units)}) after {flatten.name} holds {checked.params(dense.id):,} "
        f"of the model's {checked.total_params:,} parameters ({share:.0%}): flatten hands it all "
        f"{product(feature_map):,} values of {shape_text(feature_map)}"
    )
    spatial = len(feature_map) - 1
    pool = global_average_pooling(spatial)
    help = f"{pool} instead of flatten gives it {channels} inputs and {pooled:,} parameters"
    return Finding(dense, message, help=help)


@rule("NS211", "bottleneck", Severity.INFO)
def bottleneck(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """The last hidden dense layer is narrower than the output layer it feeds.

    The output layer is a linear map of the last hidden layer, so with d hidden units its
    outputs (the logits of a classifier) span at most d dimensions, whatever the number of
    outputs: a softmax over 100 classes computed from 16 values cannot express every
    distribution over them (the "softmax bottleneck", Yang et al., ICLR 2018). Only the layer
    right before the output counts: a narrow layer earlier in the stack is followed by a
    nonlinearity and does not bound the output's rank. Autoencoders narrow on purpose and may
    ignore this hint.

    Bad:

    ```netspec
    model classifier {
        input [64]
        dense(8, relu)
        dense(100, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [64]
        dense(128, relu)
        dense(100, softmax)
    }
    ```
    """
    for head in _dense_heads(checked):
        hidden = learning_before(checked, head)
        if hidden is None or not _dense(hidden) or _units(hidden) >= _units(head):
            continue
        narrow, wide = _units(hidden), _units(head)
        message = (
            f"{hidden.name} ({units_text(narrow)}) is narrower than the output layer {head.name} "
            f"({units_text(wide)}) it feeds: the {wide} outputs span at most {narrow} dimensions"
        )
        yield Finding(hidden, message, help=f"widen {hidden.name} to {wide} units or more")


@rule("NS224", "widening-toward-output", Severity.INFO)
def widening_toward_output(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A hidden dense layer is wider than the dense layer before it, on the way to a narrower output.

    In a multilayer perceptron the widths usually shrink from the input toward the output: each
    layer distils the one before. A layer wider than its predecessor cannot hold more information
    than the narrower layer passed on, so its extra units add parameters, not capacity; widen the
    earlier layer instead. Decoders, which widen toward a wide output, are not reported: the rule
    fires only when the wider layer is also wider than the output.

    Bad:

    ```netspec
    model classifier {
        input [784]
        dense(32, relu)
        dense(256, relu)
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [784]
        dense(256, relu)
        dense(32, relu)
        dense(10, softmax)
    }
    ```
    """
    narrowest = _narrowest_head_after(checked)
    for node in known_nodes(checked):
        head = narrowest.get(node.id)
        before = learning_before(checked, node) if head is not None and _dense(node) else None
        if before is not None and _dense(before):
            width, previous, output = _units(node), _units(before), _units(head)
            if width > previous and width > output:
                message = (
                    f"{node.name} ({width} units) is wider than {before.name} ({units_text(previous)}) "
                    f"before it, on the way to a {output}-unit output: widths usually shrink "
                    "toward the output"
                )
                yield Finding(node, message, help=f"widen {before.name} instead")


def _narrowest_head_after(checked: CheckedGraph) -> dict[int, Node]:
    """For each node, the narrowest dense output layer that depends on it (the first such in
    the model's output order among equals); nodes no dense output depends on are left out.

    One pass backwards over the nodes (a topological order), so many outputs stay linear.
    """
    order = {layer.id: (_units(layer), rank) for rank, layer in enumerate(_dense_heads(checked))}
    nodes = checked.graph.nodes
    best: dict[int, Node] = {}
    for node in reversed(nodes):
        candidates = [best[node.id]] if node.id in best else []
        if node.id in order:
            candidates.append(node)
        if not candidates:
            continue
        chosen = min(candidates, key=lambda layer: order[layer.id])
        for source in node.inputs:
            held = best.get(source)
            if held is None or order[chosen.id] < order[held.id]:
                best[source] = chosen
    return best


@rule("NS225", "no-normalization", Severity.INFO)
def no_normalization(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A deep network with no normalisation layer.

    Past about ten learning layers, activations and gradients drift in scale from layer to
    layer, and training without normalisation needs careful initialisation and small learning
    rates. Batch norm (after convolutions) or layer norm (in dense and recurrent stacks) keeps
    each layer's input in range. Reported at the model when it has more learning layers than
    `deep_network_layers` (10) and no batch, layer, group or unit norm.

    Bad:

    ```netspec
    model deep {
        input [32]
        repeat 11 { dense(32, relu) }
        dense(1)
    }
    ```

    Good:

    ```netspec
    model deep {
        input [32]
        repeat 11 { dense(32, use_bias=false); batch_norm; relu }
        dense(1)
    }
    ```
    """
    nodes = list(known_nodes(checked))
    if any(node.kind.traits.normalization is not None for node in nodes):
        return
    learning = sum(1 for node in nodes if is_learning(node))
    if learning > config.deep_network_layers:
        graph = checked.graph
        message = (
            f"{graph.name} has {learning} learning layers and no normalization layer: deep "
            "stacks train more easily with it"
        )
        help = "add batch_norm after convolutions, or layer_norm in dense and recurrent stacks"
        yield Finding(None, message, help=help, span=graph.name_span)
