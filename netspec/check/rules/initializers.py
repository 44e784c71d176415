"""Rules about weight initialisation: constant kernels (NS210), initializers that misfit the activation (NS223)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from netspec.check.rules.base import Finding, RuleConfig, rule
from netspec.check.rules.graphs import (
    activation_of,
    effective,
    head_layers,
    initializer_name,
    is_learning,
    is_map,
    known_nodes,
    learning_before,
    next_activation,
)
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Severity, Span
from netspec.language.ir import Node
from netspec.layers.base import CallValue
from netspec.layers.catalog import LayerSpec
from netspec.layers.core import PRELU
from netspec.layers.traits import Wrapper

_CONSTANT = ("zeros", "ones", "constant")
_KERNELS = ("kernel_initializer", "depthwise_initializer", "pointwise_initializer")

# The initializer family each activation wants, and why.
_RELU_LIKE = (
    "relu", "relu6", "leaky_relu", "elu", "celu", "gelu", "silu", "swish", "mish", "hard_silu",
    "hard_swish",
    PRELU.traits.activation,  # the PReLU layer's: a leaky relu whose slope it learns
)  # fmt: skip
_SATURATING = ("tanh", "sigmoid", "hard_sigmoid", "softsign", "hard_tanh")
_WHY = {
    "he": "He initialisation suits it, doubling the variance for the half of the signal it zeroes",
    "glorot": "He's larger weights push it into saturation; Glorot initialisation suits it",
    "lecun": "selu keeps its output normalised only from lecun_normal weights",
}


def _kernel_initializers(node: Node) -> Iterator[tuple[str, Any, Span]]:
    """(argument, value, span) of each kernel initializer of a node and of the layers it wraps."""
    for key in _KERNELS:
        if key in node.args:
            yield key, node.args[key], node.arg_spans.get(key, node.span)
    for inner in node.inner_layers():
        for key in _KERNELS:
            if key in inner.args:
                yield key, inner.args[key], node.span


@rule("NS210", "constant-initializer", Severity.WARNING)
def constant_initializer(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A hidden dense or convolution layer starts its kernel at zeros, ones or a constant.

    With a constant kernel every unit of the layer computes the same value and starts from the
    same point; only the random layers after it can tell them apart, and with zeros and relu the
    units get no gradient at all (relu'(0) is 0), so the layer never learns. Random
    initializers (glorot_uniform, Keras' default, or he_normal for relu) break the symmetry.

    At the output layer each unit has its own target, which breaks the symmetry there, and
    zero-initialising the last layer alone is a known, deliberate technique (the model starts
    from a neutral prediction): it is left alone. The output layer is reported when the layer
    before it starts constant too (its features are then the same for every example, so the
    output kernel gets no gradient that tells examples apart: the whole model is stuck), and
    when it starts at ones or another non-zero constant (every output starts as the sum of its
    inputs, a large equal score that saturates a softmax or sigmoid). A model whose only
    learning layer is the output (a logistic regression) is a convex fit from any start.

    Bad:

    ```netspec
    model regression {
        input [8]
        dense(16, relu, kernel_initializer=zeros)
        dense(1)
    }
    ```

    Good:

    ```netspec
    model regression {
        input [8]
        dense(16, relu, kernel_initializer=he_normal)
        dense(1)
    }

    # Left alone: a zero-initialised output layer after random hidden layers.
    model zero_head {
        input [8]
        dense(16, relu, kernel_initializer=he_normal)
        dense(3, softmax, kernel_initializer=zeros)
    }
    ```
    """
    outputs = {layer.id for layer in head_layers(checked)}
    for node in known_nodes(checked):
        if not is_learning(node):
            continue
        for key, value, span in _kernel_initializers(node):
            name = initializer_name(value)
            if name not in _CONSTANT:
                continue
            weights = key.removesuffix("_initializer")
            help = "use a random initializer such as glorot_uniform or he_normal"
            if node.id not in outputs:
                message = (
                    f"{node.name} starts its {weights} weights at {name}: its units start "
                    "identical, which slows or stops learning"
                )
                yield Finding(node, message, help=help, span=span)
                continue
            reason = _output_reason(checked, node, value, name)
            if reason is not None:
                message = (
                    f"the output layer {node.name} starts its {weights} weights at {name}: {reason}"
                )
                yield Finding(node, message, help=help, span=span)


def _output_reason(checked: CheckedGraph, node: Node, value: Any, name: str) -> str | None:
    """Why a constant kernel hurts at the output, or None for a deliberate zero start."""
    before = learning_before(checked, node)
    if before is None:
        return None  # the model's only learning layer: a convex fit from any start
    zero = name == "zeros" or (name == "constant" and _constant_value(value) == 0)
    if zero:
        if not _starts_constant(before):
            return None  # zero-initialising the last layer alone is a known technique
        return (
            f"{before.name} before it starts constant too, so every example reaches it with the "
            "same features and its kernel gets no gradient that tells them apart"
        )
    return (
        "it sums its inputs with equal weights, so every output starts as the same large "
        "score, and a softmax or sigmoid on it starts saturated"
    )


def _constant_value(value: Any) -> Any:
    if isinstance(value, CallValue):
        kwargs = dict(value.kwargs)
        return kwargs.get("value", value.args[0] if value.args else 0.0)
    return 0.0  # `constant` alone is Keras' Constant(value=0.0)


def _starts_constant(node: Node) -> bool:
    return any(initializer_name(value) in _CONSTANT for _, value, _ in _kernel_initializers(node))


@rule("NS223", "initializer-activation-mismatch", Severity.INFO)
def initializer_activation_mismatch(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An explicitly chosen initializer does not suit the layer's activation.

    Initializers scale the random weights so the variance of the signal survives the layer: He
    (he_normal, he_uniform) for relu and its relatives, which zero half their input; Glorot for
    tanh and sigmoid, which saturate under larger weights; LeCun normal for selu, whose
    self-normalisation assumes it. Only an initializer written in the spec is judged (Keras'
    default glorot_uniform is a sane compromise), and only when the activation is the layer's
    own or an activation layer right after it; a batch norm between them makes the scale moot.

    Bad:

    ```netspec
    model regression {
        input [8]
        dense(16, tanh, kernel_initializer=he_normal)
        dense(1)
    }
    ```

    Good:

    ```netspec
    model regression {
        input [8]
        dense(16, tanh, kernel_initializer=glorot_normal)
        dense(1)
    }
    ```
    """
    consumers = checked.graph.consumers()
    for node in known_nodes(checked):
        args = effective(node)[1]
        if not is_map(node) or "kernel_initializer" not in _explicit(node):
            continue
        name = initializer_name(args.get("kernel_initializer"))
        activation = activation_of(node) or next_activation(checked, node, consumers)
        wanted = _wanted(activation)
        family = _family(name)
        if name is None or activation is None or wanted is None or family in (None, wanted):
            continue
        if wanted == "glorot" and family == "lecun":
            continue  # LeCun's scale was designed for tanh-like units: close enough
        better = "lecun_normal" if wanted == "lecun" else name.replace(family, wanted, 1)
        message = f"{node.name} uses {name} with {activation}: {_WHY[wanted]}"
        yield Finding(
            node, message, help=f"use {better}", span=node.arg_spans.get("kernel_initializer")
        )


def _explicit(node: Node) -> frozenset[str]:
    inner = node.args.get("layer") if node.kind.traits.wrapper is Wrapper.PER_STEP else None
    return inner.explicit if isinstance(inner, LayerSpec) else node.explicit


def _wanted(activation: str | None) -> str | None:
    if activation in _RELU_LIKE:
        return "he"
    if activation in _SATURATING:
        return "glorot"
    return "lecun" if activation == "selu" else None


def _family(name: str | None) -> str | None:
    for family in ("he", "glorot", "lecun"):
        if name is not None and name.startswith(family + "_"):
            return family
    return None
