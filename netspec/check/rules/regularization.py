"""Rules about dropout and batch norm: where dropout stands, its rate, two in a row, a bias that
batch norm cancels, a norm at the output."""

from __future__ import annotations

from collections.abc import Iterator

from netspec.check.rules.base import Finding, RuleConfig, related, rule
from netspec.check.rules.graphs import (
    activation_of,
    aside,
    back_through,
    effective,
    is_dropout,
    is_learning,
    is_map,
    is_passthrough,
    known_nodes,
    moves_values,
    shape_of,
)
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Severity
from netspec.language.ir import Node
from netspec.layers.core import DENSE
from netspec.layers.traits import Normalization, Regularization


def _what(node: Node) -> str:
    """`rate 0.5` or `stddev 0.1`: the strength of a dropout or noise layer."""
    if "rate" in node.args:
        return f"rate {node.args['rate']:g}"
    if "stddev" in node.args:
        return f"stddev {node.args['stddev']:g}"
    return node.kind.name


def _has_rate(node: Node) -> bool:
    return is_dropout(node) and "rate" in node.args


@rule("NS207", "dropout-at-output", Severity.WARNING)
def dropout_at_output(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A dropout or noise layer is the model's output.

    Dropout and noise act only in training. At the output they corrupt the predictions the loss
    compares with the targets (dropout zeroes some and scales up the rest), so the model learns
    to fight its own regulariser, and at inference they do nothing. Dropout belongs before the
    last layer, never after it (nor after the output activation).

    Bad:

    ```netspec
    model classifier {
        input [16]
        dense(10, softmax)
        dropout(0.5)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [16]
        dropout(0.5)
        dense(10, softmax)
    }
    ```
    """
    graph = checked.graph
    for output_id in dict.fromkeys(graph.outputs):
        node = graph.node(output_id)
        if shape_of(checked, node) is None or not is_dropout(node):
            continue
        before = graph.node(node.inputs[0]).name if node.inputs else "the last layer"
        message = (
            f"{node.name} ({_what(node)}) is the model's output: it corrupts the predictions in "
            "training and does nothing at inference"
        )
        yield Finding(node, message, help=f"move {node.name} before {before}")


@rule("NS208", "dropout-before-batch-norm", Severity.WARNING)
def dropout_before_batch_norm(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """Dropout (or noise) feeds a batch norm.

    Dropout changes the variance of its output between training (some values zeroed, the rest
    scaled up) and inference (identity). A batch norm after it learns its moving variance from
    the training-time values and so normalises inference-time values wrongly: the "variance
    shift" of Li et al. (CVPR 2019), which costs accuracy. Put the dropout after the last batch
    norm. Layers that only reshape (flatten, reshape) between the two do not help.

    Bad:

    ```netspec
    model classifier {
        input [64]
        dense(64, relu)
        dropout(0.3)
        batch_norm
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [64]
        dense(64, relu)
        batch_norm
        dropout(0.3)
        dense(10, softmax)
    }
    ```
    """
    for node in known_nodes(checked):
        if node.kind.traits.normalization is not Normalization.BATCH:
            continue
        dropout, between = back_through(checked, node, moves_values)
        if dropout is not None and is_dropout(dropout):
            through = aside(between[::-1])
            message = (
                f"{dropout.name} ({_what(dropout)}) feeds {node.name}{through}: batch norm "
                "learns its variance from training-time values, which differ at inference"
            )
            notes = (related(node, "is the batch norm it feeds"),)
            yield Finding(
                dropout, message, help=f"move {dropout.name} after {node.name}", notes=notes
            )


@rule("NS220", "bias-before-batch-norm", Severity.INFO)
def bias_before_batch_norm(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A dense or convolution layer with a bias feeds a batch norm that cancels it.

    Batch norm subtracts each channel's mean, which removes any constant the layer before it
    added per channel, and its own `beta` (with center=true) plays the bias's part. The layer's
    bias is then dead weight: set use_bias=false on it. Reported only when the layer has no
    activation of its own, feeds nothing else, and the batch norm normalises its channel axis.

    Bad:

    ```netspec
    model features {
        input [32, 32, 3]
        conv2d(16, 3)
        batch_norm
        relu
    }
    ```

    Good:

    ```netspec
    model features {
        input [32, 32, 3]
        conv2d(16, 3, use_bias=false)
        batch_norm
        relu
    }
    ```
    """
    consumers = checked.graph.consumers()
    for node in known_nodes(checked):
        if node.kind.traits.normalization is not Normalization.BATCH:
            continue
        layer = checked.graph.node(node.inputs[0])
        if _bias_cancelled(checked, layer, node) and consumers[layer.id] == [node.id]:
            beta = ", and its beta takes the bias's place" if node.args.get("center") else ""
            message = (
                f"{layer.name} adds a bias that {node.name} cancels: batch norm subtracts each "
                f"channel's mean{beta}"
            )
            yield Finding(layer, message, help=f"set use_bias=false on {layer.name}")


def _bias_cancelled(checked: CheckedGraph, layer: Node, norm: Node) -> bool:
    args = effective(layer)[1]
    if not is_map(layer) or activation_of(layer) is not None or not args.get("use_bias"):
        return False
    shape = shape_of(checked, layer)
    if not shape:
        return False
    channel = 0 if args.get("data_format") == "channels_first" else len(shape) - 1
    axis = norm.args.get("axis")
    axes = axis if isinstance(axis, tuple) else (axis,)
    if len(axes) != 1 or not isinstance(axes[0], int):
        return False
    index = axes[0] - 1 if axes[0] > 0 else len(shape) + axes[0]
    return index == channel


@rule("NS221", "high-dropout-rate", Severity.INFO)
def high_dropout_rate(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A dropout rate above 0.5.

    The rate is the fraction of values dropped, not kept (Keras' convention; the original paper
    and some frameworks use the keep probability). Above 0.5 dropout removes most of the signal,
    slows training and tends to underfit; 0.1 to 0.5 is usual. A high rate is often a keep
    probability written as a drop rate. The threshold is `high_dropout_rate`.

    Bad:

    ```netspec
    model classifier {
        input [64]
        dense(64, relu)
        dropout(0.8)
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [64]
        dense(64, relu)
        dropout(0.2)
        dense(10, softmax)
    }
    ```
    """
    for node in known_nodes(checked):
        rate = node.args.get("rate") if _has_rate(node) else None
        if isinstance(rate, (int, float)) and rate > config.high_dropout_rate:
            message = (
                f"{node.name} drops {rate:.0%} of its inputs (rate {rate:g}): above "
                f"{config.high_dropout_rate:g}, dropout slows training and tends to underfit"
            )
            help = "the rate is the fraction dropped, not kept; 0.1 to 0.5 is usual"
            yield Finding(node, message, help=help, span=node.arg_spans.get("rate"))


@rule("NS222", "dropout-before-pooling", Severity.INFO)
def dropout_before_pooling(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """Dropout feeds a pooling layer.

    Pooling right after dropout mixes the dropped values with their neighbours (a maximum mostly
    picks a surviving one, an average dilutes the gaps), so the dropout masks many values whose
    effect the pooling then blurs. Dropout after the pooling regularises at least as well, on
    fewer values (NeuraLint places dropout after pooling for this reason).

    Bad:

    ```netspec
    model features {
        input [28, 28, 1]
        conv2d(16, 3, activation=relu)
        dropout(0.25)
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
        dropout(0.25)
        conv2d(32, 3, activation=relu)
    }
    ```
    """
    graph = checked.graph
    consumers = graph.consumers()
    for node in known_nodes(checked):
        if not _has_rate(node):
            continue
        pools = [graph.node(i) for i in consumers[node.id] if graph.node(i).kind.traits.is_pooling]
        if pools:
            message = (
                f"{node.name} ({_what(node)}) feeds {pools[0].name}: pooling mixes the dropped "
                "values with their neighbours; dropout after it regularises on fewer values"
            )
            yield Finding(node, message, help=f"move {node.name} after {pools[0].name}")


# ---- two dropouts in a row (NS217) -----------------------------------------------------------


def _is_dropout_layer(node: Node) -> bool:
    """Dropout that multiplies its input by random masks or factors; gaussian_noise adds instead."""
    return node.kind.traits.regularization is Regularization.DROPOUT


@rule("NS217", "double-dropout", Severity.WARNING)
def double_dropout(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A dropout layer right after another dropout layer: the rates compound.

    Two dropouts in a row drop independently, so a value survives both with probability
    (1 - a)(1 - b): dropout(0.5) after dropout(0.5) drops 75% of the values, not 50%, and
    gaussian_dropout compounds its noise the same way. It is almost always a slip (a dropout
    left in when another was added, or one before and one after a reshape) and regularises far
    more than either rate says. Counted: every dropout that drops or scales values by a rate
    (dropout, alpha_dropout, spatial_dropout1d/2d, gaussian_dropout), with only layers between
    that move or pad values (flatten, reshape, permute, padding, cropping, upsampling, masking);
    additive gaussian_noise is a different regulariser and does not count. A dropout of rate 0
    drops nothing and is not reported.

    Bad:

    ```netspec
    model classifier {
        input [64]
        dense(64, relu)
        dropout(0.5)
        dropout(0.5)
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [64]
        dense(64, relu)
        dropout(0.5)
        dense(10, softmax)
    }
    ```
    """
    for node in known_nodes(checked):
        if not _is_dropout_layer(node) or not node.args.get("rate"):
            continue
        before, between = back_through(checked, node, moves_values)
        if before is None or not _is_dropout_layer(before) or not before.args.get("rate"):
            continue
        first, second = before.args["rate"], node.args["rate"]
        combined = 1 - (1 - first) * (1 - second)
        message = (
            f"{node.name} ({_what(node)}) comes right after {before.name} ({_what(before)})"
            f"{aside(between[::-1])}: together they act as one dropout of rate {combined:.2g}"
        )
        help = f"keep one dropout of the rate you mean, e.g. {before.name} alone"
        yield Finding(node, message, help=help, notes=(related(before, "drops out before it"),))


# ---- normalisation at the output (NS218) -----------------------------------------------------

# Normalisation with a learned shift and scale: at the output it fixes the outputs' statistics.
# unit_norm is left out: an L2-normalised output (an embedding for cosine similarity) is a design.
_OUTPUT_NORMS = (Normalization.BATCH, Normalization.LAYER, Normalization.GROUP)


@rule("NS218", "batch-norm-at-output", Severity.WARNING)
def batch_norm_at_output(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A batch, layer or group norm is the model's output, after its head.

    The output layer computes the predictions the loss compares with the targets. A
    normalisation after it re-centres and re-scales them, whatever the loss: batch norm forces
    each output's mean and spread over the batch to its learned beta and gamma in training, and
    uses moving averages at inference, so a prediction depends on the rest of the batch and
    changes between training and inference; layer norm over a single output unit always returns
    beta; after a softmax or sigmoid the outputs are no longer probabilities. Normalisation
    belongs between hidden layers. Reported when the norm (possibly followed by reshaping) is an
    output and what it normalises comes straight (through dropout or reshaping) from a dense
    layer or a sigmoid, or, in a model with a loss, from any learning layer or activation (a
    norm after a softmax is NS204's). Left alone: a norm after a merge (a transformer's final
    layer norm, a residual sum), the features of a convolution or recurrent backbone in a model
    without a loss (another model may build on them), and unit_norm (L2-normalised embeddings
    are a design).

    Bad:

    ```netspec
    model regression {
        input [8]
        dense(16, relu)
        dense(1)
        batch_norm
        compile(loss=mse, optimizer=adam)
    }
    ```

    Good:

    ```netspec
    model regression {
        input [8]
        dense(16)
        batch_norm
        relu
        dense(1)
        compile(loss=mse, optimizer=adam)
    }
    ```
    """
    graph = checked.graph
    has_loss = graph.compile is not None and graph.compile.loss is not None
    for output_id in dict.fromkeys(graph.outputs):
        norm = graph.node(output_id)
        while moves_values(norm) and len(norm.inputs) == 1:
            norm = graph.node(norm.inputs[0])
        if norm.kind.traits.normalization not in _OUTPUT_NORMS or shape_of(checked, norm) is None:
            continue
        before, between = back_through(checked, norm, is_passthrough)
        if before is None or before.is_input:
            continue
        activation = activation_of(before)
        if activation == "softmax":
            continue  # any layer after a final softmax is NS204's
        headed = effective(before)[0] is DENSE or activation == "sigmoid"
        if headed or (has_loss and (is_learning(before) or activation is not None)):
            yield _normalised_output(checked, norm, before, between)


def _normalised_output(checked: CheckedGraph, norm: Node, before: Node, between: list) -> Finding:
    activation = activation_of(before)
    shape = shape_of(checked, norm) or ()
    if activation == "sigmoid":
        what = f"the sigmoid probabilities of {before.name} are no longer probabilities"
    elif norm.kind.traits.normalization is Normalization.LAYER and shape and shape[-1] == 1:
        what = "over a single output unit layer norm always returns its beta"
    elif norm.kind.traits.normalization is Normalization.BATCH:
        what = "each prediction depends on the rest of the batch and differs at inference"
    else:
        what = "the outputs are re-centred and re-scaled whatever the targets"
    message = (
        f"{norm.name} normalises the model's output after {before.name}{aside(between[::-1])}: "
        f"{what}"
    )
    return Finding(norm, message, help=f"remove {norm.name}, or move it before {before.name}")
