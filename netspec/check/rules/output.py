"""Rules on the output layer against the loss of `compile` (NS3xx): logits, task, regression."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from netspec.check.rules.base import Finding, RuleConfig, rule
from netspec.check.rules.graphs import (
    Head,
    describe,
    effective,
    head,
    shape_text,
    is_transparent,
    wrapped_args,
)
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Note, Severity, Span
from netspec.layers.catalog import CallValue
from netspec.layers.core import RELU
from netspec.layers.training import canonical_loss

_BINARY = ("binary_crossentropy", "binary_focal_crossentropy")
_CATEGORICAL = (
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
)
PROBABILITY_LOSSES = _BINARY + _CATEGORICAL  # the losses that take from_logits
_REGRESSION = (
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
)
_DISTRIBUTION = ("kl_divergence",)  # compares distributions: wants a softmax too
_DISTRIBUTIONS = ("softmax", "sparsemax")  # activations whose outputs sum to 1
_PROBABILITIES = ("sigmoid", "hard_sigmoid", "sparse_sigmoid")  # each output in [0, 1]
_HINGE = ("hinge", "squared_hinge")
_OVERLAP = ("dice", "tversky")  # segmentation losses on probabilities, with no from_logits
# Activations that let an output go negative, where the poisson loss takes a logarithm.
_SIGNED = (
    "tanh", "hard_tanh", "softsign", "elu", "selu", "celu", "leaky_relu", "log_sigmoid",
    "log_softmax", "tanh_shrink", "soft_shrink", "hard_shrink",
)  # fmt: skip
_SQUASHING = ("softmax", "sigmoid")
# The outputs a regression loss cannot be fitted with, and why (NS303).
_REGRESSION_BOUNDS = {
    "softmax": "bounds its outputs to (0, 1) with a sum of 1",
    "sigmoid": "bounds its outputs to (0, 1)",
    "hard_sigmoid": "bounds its outputs to [0, 1]",
    "sparse_sigmoid": "bounds its outputs to [0, 1]",
    "tanh": "bounds its outputs to (-1, 1)",
    "hard_tanh": "bounds its outputs to [-1, 1]",
    "softsign": "bounds its outputs to (-1, 1)",
    "relu6": "bounds its outputs to [0, 6]",
    "relu": "cannot go below 0 and gives no gradient to an output it cuts to 0",
}


@dataclass(frozen=True)
class Loss:
    """A model's loss as the rules need it: canonical name, as written, from_logits, where."""

    name: str
    written: str
    from_logits: bool
    span: Span


def _loss(value: Any, span: Span) -> Loss | None:
    if isinstance(value, str):
        return Loss(canonical_loss(value), value, False, span)
    if isinstance(value, CallValue):
        kwargs = dict(value.kwargs)
        # Keras' loss classes take from_logits as their first positional argument.
        first = value.args[0] if value.args and isinstance(value.args[0], bool) else False
        from_logits = bool(kwargs.get("from_logits", first))
        written = f"{value.name}(from_logits=true)" if from_logits else value.name
        return Loss(canonical_loss(value.name), written, from_logits, span)
    return None


def output_losses(checked: CheckedGraph) -> Iterator[tuple[int, Loss]]:
    """Each output's id with its loss: one loss for all outputs, or one per output in order."""
    graph = checked.graph
    if graph.compile is None or graph.compile.loss is None:
        return
    outputs = list(dict.fromkeys(graph.outputs))
    value = graph.compile.loss
    span = graph.compile.arg_spans.get("loss", graph.compile.span)
    values = list(value) if isinstance(value, tuple) else [value] * len(outputs)
    if len(values) != len(outputs):
        return
    for output_id, item in zip(outputs, values):
        loss = _loss(item, span)
        if loss is not None:
            yield output_id, loss


def _heads_and_losses(
    checked: CheckedGraph, recurrent: bool = False
) -> Iterator[tuple[Head, Loss]]:
    """Each output's head with its loss, where one layer decides the output's range (with
    `recurrent`, also a recurrent layer that gives the output, by its cell's activation)."""
    for output_id, loss in output_losses(checked):
        end = head(checked, output_id)
        if end is None and recurrent:
            end = _recurrent_head(checked, output_id)
        if end is not None:
            yield end, loss


def loss_squash(loss: Loss) -> str:
    """The squashing a probability loss told from_logits=true applies itself."""
    return "sigmoid" if loss.name in _BINARY else "softmax"


def _finding(end: Head, loss: Loss, message: str, help: str) -> Finding:
    return Finding(
        end.layer,
        message,
        help=help,
        notes=(Note(f"the loss {loss.written} is set at line {loss.span.line}", loss.span),),
    )


@rule("NS301", "output-vs-loss-logits", Severity.WARNING)
def output_vs_loss_logits(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """The output layer gives probabilities where the loss expects logits, or the other way round.

    A cross-entropy loss takes probabilities by default and raw scores (logits) when told
    from_logits=true. A softmax or sigmoid head with from_logits=true has the squashing applied
    twice, which flattens the gradients; a head with no activation and a probability loss feeds
    scores where probabilities belong, and Keras clips them into [0, 1], so the model trains
    badly or not at all. Keep the output linear with from_logits=true (the numerically stable
    choice), or give it its softmax or sigmoid and leave from_logits out. The ctc loss takes
    logits only (it applies a log-softmax over the classes itself and has no from_logits): a
    softmax or sigmoid head under it squashes twice.

    Bad:

    ```netspec
    model classifier {
        input [16]
        dense(32, relu)
        dense(10)
        compile(loss=sparse_categorical_crossentropy, optimizer=adam)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [16]
        dense(32, relu)
        dense(10)
        compile(loss=sparse_categorical_crossentropy(from_logits=true), optimizer=adam)
    }
    ```
    """
    for end, loss in _heads_and_losses(checked):
        if loss.name == "ctc" and end.activation in _SQUASHING:
            message = (
                f"{end.layer.name} applies {end.activation}, but the loss {loss.written} takes "
                "logits and applies a log-softmax over the classes itself: the squashing is "
                "applied twice"
            )
            yield _finding(end, loss, message, f"keep {end.layer.name} linear under ctc")
            continue
        if loss.name not in PROBABILITY_LOSSES:
            continue
        if end.activation in _SQUASHING and loss.from_logits:
            message = (
                f"{end.layer.name} applies {end.activation}, but the loss {loss.written} applies "
                f"{end.activation} again"
            )
            help = f"leave from_logits out, or drop the {end.activation} and keep raw scores"
            yield _finding(end, loss, message, help)
        elif end.activation is None and not loss.from_logits:
            squash = loss_squash(loss)
            message = (
                f"{end.layer.name} ({describe(end.layer)}) outputs raw scores, but the loss "
                f"{loss.written} expects probabilities"
            )
            help = f"write loss={loss.written}(from_logits=true), or give the output {squash}"
            yield _finding(end, loss, message, help)


@rule("NS302", "head-vs-task", Severity.WARNING)
def head_vs_task(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """The output layer does not fit the kind of classification the loss is for.

    Categorical cross-entropy (sparse or one-hot) scores one class out of several: it wants one
    unit per class under a softmax. With a single unit there is one class, so the loss is 0 (or
    the labels are out of range) whatever the model does; with a sigmoid the outputs do not sum
    to 1 and the loss rewards making every unit large.
    Binary cross-entropy scores each unit as its own yes/no question: with a softmax over several
    units, the units compete when they should not (for one label per example, the loss should be
    categorical; for several labels, the activation should be sigmoid), and a softmax over one
    unit is always 1.0 (NS205 says so too: this rule says what the loss wants).
    Every loss of keras.losses is judged against the output's activation and units, whatever
    else is reported at that layer: binary cross-entropy (and its focal form) wants sigmoid
    units, and clips anything else (relu, tanh, softplus) into [0, 1], where the clipped
    outputs get no gradient; categorical, sparse categorical and KL divergence want a softmax
    over the classes; hinge and squared hinge want scores that can reach the margin of 1 on
    both sides, which a sigmoid or softmax never does; dice and tversky measure the overlap of
    probabilities with a mask and take no from_logits, so they want sigmoid or softmax outputs
    (a linear one makes them unbounded). Categorical hinge compares the true class's score
    with the best other class's and wants a margin of 1 between them: one unit has no other
    class, and a softmax or sigmoid (scores in (0, 1)) never reaches the margin, so the loss
    never reaches 0 (Keras gives about 0.5 on confident softmax outputs). Cosine similarity
    normalises the output over its last axis: one unit normalises to its sign, so the loss is
    -1 or 1 and its gradient is 0. ctc wants one vector of class scores per time step, an
    output of shape (time, classes), and Keras refuses any other rank when it fits.
    A linear output with from_logits=true
    is always right; a linear output without it, or a squashed one with it, is NS301's. A
    recurrent layer that gives the output itself counts with its cell's activation (tanh by
    default): `lstm(1)` under binary cross-entropy gives values in (-1, 1), not probabilities.

    Bad:

    ```netspec
    model binary {
        input [16]
        dense(8, relu)
        dense(1, sigmoid)
        compile(loss=categorical_crossentropy, optimizer=adam)
    }

    model one_softmax {
        input [16]
        dense(8, relu)
        dense(1, softmax)
        compile(loss=binary_crossentropy, optimizer=adam)
    }
    ```

    Good:

    ```netspec
    model binary {
        input [16]
        dense(8, relu)
        dense(1, sigmoid)
        compile(loss=binary_crossentropy, optimizer=adam)
    }
    ```
    """
    for output_id, loss in output_losses(checked):
        end = head(checked, output_id) or _recurrent_head(checked, output_id)
        found = None if end is None else _task_mismatch(end, loss, checked.shapes[output_id])
        if end is not None and found is not None:
            yield _finding(end, loss, *found)


def _recurrent_head(checked: CheckedGraph, output_id: int) -> Head | None:
    """An output that a recurrent layer gives directly (through dropout or reshaping): its
    cell's activation (tanh by default) bounds it, as an activation of the head would."""
    graph = checked.graph
    node = graph.node(output_id)
    shape = checked.shapes.get(output_id)
    while not effective(node)[0].traits.recurrent:
        if len(node.inputs) != 1 or not is_transparent(node):
            return None
        node = graph.node(node.inputs[0])
    kind, args = effective(node)
    activation = wrapped_args(kind, args).get("activation")
    if shape is None or not isinstance(activation, str) or activation == "linear":
        return None
    return Head(graph.node(output_id), node, activation, shape[-1] if shape else None)


def _task_mismatch(end: Head, loss: Loss, shape: tuple) -> tuple[str, str] | None:
    """(message, help) when the output does not suit the classification the loss is for."""
    layer, activation, units = end.layer.name, end.activation, end.units
    wanted = loss.written
    if loss.name == "ctc" and len(shape) != 2:  # (time, classes) after the batch
        message = (
            f"the output of {layer} has shape {shape_text(shape)}, but {wanted} wants one vector "
            "of class scores per time step, (time, classes): Keras refuses it when it fits"
        )
        return (
            message,
            "give ctc a sequence output, such as dense(classes) after an rnn with return_sequences=true",
        )
    if loss.name == "cosine_similarity" and units == 1:
        message = (
            f"{layer} has one output unit, but {wanted} normalises the output over its last "
            "axis: one number normalises to its sign, the loss is -1 or 1 and its gradient 0"
        )
        return message, "compare vectors of several units, or use a regression loss for one number"
    if loss.name == "categorical_hinge" and units == 1:
        message = (
            f"{layer} has one output unit, but {wanted} compares the true class's score with "
            "the best other class's: with a single class there is nothing to compare"
        )
        return (
            message,
            "for a yes/no output use hinge with labels -1 and 1, or sigmoid with binary_crossentropy",
        )
    if loss.name in _CATEGORICAL and units == 1:
        message = (
            f"{layer} has one output unit, but {wanted} needs one unit per class: with a "
            "single class there is nothing to learn"
        )
        return message, "for a yes/no output use sigmoid with binary_crossentropy"
    if loss.name in _BINARY and activation == "softmax":
        if units == 1:
            message = (
                f"{layer} applies softmax to one unit, which is always 1.0, but {wanted} "
                "wants the probability of the positive class from a sigmoid"
            )
            return message, "use dense(1, sigmoid) with binary_crossentropy"
        message = (
            f"{layer} applies softmax over {units} units, but {wanted} scores each unit "
            "as its own yes/no: the units compete when they should not"
        )
        help = "one label per example: categorical_crossentropy; several labels: sigmoid outputs"
        return message, help
    if loss.name in _OVERLAP and activation not in _PROBABILITIES + _DISTRIBUTIONS:
        what = f"applies {activation}" if activation else "outputs raw scores"
        message = (
            f"{layer} {what}, but {wanted} measures the overlap of probabilities with the "
            "target mask: outputs outside [0, 1] make the loss unbounded"
        )
        return message, f"give {layer} sigmoid (or softmax over the classes)"
    if loss.name in _DISTRIBUTION and activation is None:
        # KLDivergence takes no from_logits: it clips what it is given into [1e-7, 1].
        message = (
            f"{layer} outputs raw scores, but {wanted} compares probability distributions "
            "and takes no from_logits: it clips the scores into [1e-7, 1]"
        )
        return message, f"give {layer} softmax"
    if activation is None or loss.from_logits:
        return None  # raw scores, or squashing twice: NS301's
    distribution = loss.name in _CATEGORICAL + _DISTRIBUTION
    if distribution and activation == "sigmoid":
        message = (
            f"{layer} applies sigmoid, but {wanted} expects a softmax over the classes: "
            "sigmoid outputs do not sum to 1"
        )
        return message, "use softmax, or binary_crossentropy for several labels per example"
    if distribution and activation not in _DISTRIBUTIONS:
        message = (
            f"{layer} applies {activation}, whose outputs are no distribution over the "
            f"classes, but {wanted} expects a softmax"
        )
        return message, f"give {layer} softmax, or keep it linear with from_logits=true"
    if loss.name in _BINARY and activation not in _PROBABILITIES:
        message = (
            f"{layer} applies {activation}, whose outputs are no probabilities, but {wanted} "
            "expects them from a sigmoid: it clips the outputs into [0, 1], where the clipped "
            "ones get no gradient"
        )
        return message, f"give {layer} sigmoid, or keep it linear with from_logits=true"
    if loss.name in _HINGE and activation in _SQUASHING:
        message = (
            f"{layer} applies {activation}, whose outputs lie in (0, 1), but {wanted} wants "
            "scores that reach the margin of 1 on each side (labels -1 and 1)"
        )
        return message, f"keep {layer} linear or give it tanh, or use binary_crossentropy"
    if loss.name == "categorical_hinge" and activation in _SQUASHING:
        message = (
            f"{layer} applies {activation}, whose outputs lie in (0, 1), but {wanted} wants the "
            "true class's score to beat every other by a margin of 1, which they never reach"
        )
        return message, f"keep {layer} linear, or use softmax with categorical_crossentropy"
    return None


@rule("NS303", "regression-head", Severity.WARNING)
def regression_head(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A bounded output (softmax, sigmoid, tanh, relu, ...) is trained with a regression loss.

    A regression loss (mse, mae, huber, log_cosh) measures distances to real-valued targets, but
    a squashing output cannot reach every target: a sigmoid bounds the outputs to (0, 1), a
    softmax also makes them sum to 1, tanh and softsign bound them to (-1, 1), hard_sigmoid to
    [0, 1], relu6 to [0, 6]. Targets outside the range cannot be reached, and the flat ends of
    the squashing stall the gradients (DeepDiagnosis' output range check). relu cannot go
    negative, and an output it cuts to 0 gets no gradient at all: once an example's prediction is
    pushed below 0 it stays at 0, so even for targets that are never negative (prices, counts) a
    relu output can die; softplus (smooth, positive) or a linear output serve better. Regression
    wants a linear output; probabilities want a cross-entropy loss. Loss aliases count (`mse`,
    `MeanSquaredError`), and so do mape and msle. Smooth activations that are unbounded above
    (softplus, exponential, elu) are deliberate choices for positive targets and are not
    reported. The poisson loss is the other way round: it takes the logarithm of the output as
    a rate, so it wants a positive output (softplus, exponential) and a linear or tanh output,
    which can go negative, is reported. A recurrent layer that gives the output itself counts
    with its cell's activation: `lstm(1)` under mse gives values in (-1, 1) through its tanh.

    Bad:

    ```netspec
    model price {
        input [8]
        dense(16, relu)
        dense(1, tanh)
        compile(loss=mse, optimizer=adam)
    }
    ```

    Good:

    ```netspec
    model price {
        input [8]
        dense(16, relu)
        dense(1)
        compile(loss=mse, optimizer=adam)
    }
    ```
    """
    for end, loss in _heads_and_losses(checked, recurrent=True):
        bound = _REGRESSION_BOUNDS.get(end.activation or "")
        cap = end.layer.args.get("max_value") if end.layer.kind is RELU else None
        if isinstance(cap, (int, float)):
            bound = f"bounds its outputs to [0, {cap:g}] and gives no gradient below 0"
        if loss.name in _REGRESSION and bound is not None:
            message = (
                f"{end.layer.name} applies {end.activation}, which {bound}, but the loss "
                f"{loss.written} is a regression loss"
            )
            help = "use a linear output for regression, or a cross-entropy loss for probabilities"
            yield _finding(end, loss, message, help)
        elif loss.name == "poisson" and (end.activation is None or end.activation in _SIGNED):
            what = end.activation or "no activation"
            message = (
                f"{end.layer.name} ({what}) can give negative outputs, but the loss "
                f"{loss.written} takes their logarithm as a rate: a negative rate has none"
            )
            help = "give the output a positive activation: softplus or exponential"
            yield _finding(end, loss, message, help)


@rule("NS304", "losses-per-output", Severity.WARNING)
def losses_per_output(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """compile gives a list of losses whose length is not the number of the model's outputs.

    A list of losses pairs one loss with each output, in the order `output` names them. Keras 3
    takes a shorter list without a word and leaves the outputs past its end without a loss:
    their layers never train (a two-output model compiled with `loss=[categorical_crossentropy]`
    fits, and its second head keeps its initial weights). A longer list has losses with no
    output to score, which Keras either ignores or refuses with a KeyError when it fits. None
    of the losses can then be judged against its head. One loss (not a list) serves every
    output.

    Bad:

    ```netspec
    model two_heads {
        x = input [16]
        h = x -> dense(32, relu)
        kind = h -> dense(3, softmax)
        price = h -> dense(1)
        output kind, price
        compile(loss=[categorical_crossentropy], optimizer=adam)
    }
    ```

    Good:

    ```netspec
    model two_heads {
        x = input [16]
        h = x -> dense(32, relu)
        kind = h -> dense(3, softmax)
        price = h -> dense(1)
        output kind, price
        compile(loss=[categorical_crossentropy, mse], optimizer=adam)
    }
    ```
    """
    graph = checked.graph
    if graph.compile is None or not isinstance(graph.compile.loss, tuple):
        return
    outputs = list(dict.fromkeys(graph.outputs))
    losses = len(graph.compile.loss)
    if losses != len(outputs):
        span = graph.compile.arg_spans.get("loss", graph.compile.span)
        names = ", ".join(graph.node(i).name for i in outputs)
        if losses < len(outputs):
            left = ", ".join(graph.node(i).name for i in outputs[losses:])
            one = len(outputs) - losses == 1
            what = f"{left} {'gets' if one else 'get'} no loss and never {'trains' if one else 'train'}"
        else:
            extra = losses - len(outputs)
            what = f"{extra} of the losses {'scores' if extra == 1 else 'score'} no output"
        message = (
            f"compile gives {losses} loss{'' if losses == 1 else 'es'} for "
            f"{len(outputs)} output{'' if len(outputs) == 1 else 's'} ({names}): {what}"
        )
        help = "give one loss per output, in the order of `output`, or one loss for all"
        yield Finding(None, message, help=help, span=span)
