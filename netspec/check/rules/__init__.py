"""The rule registry: every design rule, listed explicitly, run over a checked graph."""

from __future__ import annotations

from collections.abc import Iterable

from netspec.check.rules import (
    activation,
    data,
    initializers,
    layout,
    linear,
    output,
    reference,
    regularization,
    windows,
)
from netspec.check.rules.base import Finding, Rule, RuleConfig
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import DiagnosticSink, Note, Span
from netspec.language.scope import block_notes

__all__ = [
    "REGISTRY",
    "Finding",
    "Rule",
    "RuleConfig",
    "by_code",
    "render_rules_markdown",
    "run_rules",
]

# In code order; a new rule is added here by hand, so the list is the whole rule set.
REGISTRY: tuple[Rule, ...] = (
    linear.linear_collapse,
    linear.hidden_without_activation,
    activation.double_activation,
    activation.layer_after_softmax,
    activation.softmax_on_one_unit,
    layout.dense_on_feature_map,
    regularization.dropout_at_output,
    regularization.dropout_before_batch_norm,
    layout.parameter_blow_up,
    initializers.constant_initializer,
    layout.bottleneck,
    activation.nonlinear_logits,
    data.float_into_embedding,
    data.mask_ignored,
    data.unscaled_integer_image,
    windows.stride_larger_than_window,
    regularization.double_dropout,
    regularization.batch_norm_at_output,
    regularization.bias_before_batch_norm,
    regularization.high_dropout_rate,
    regularization.dropout_before_pooling,
    initializers.initializer_activation_mismatch,
    layout.widening_toward_output,
    layout.no_normalization,
    activation.saturating_activations,
    windows.even_kernel_same_padding,
    data.embedding_wider_than_vocabulary,
    output.output_vs_loss_logits,
    output.head_vs_task,
    output.regression_head,
    output.losses_per_output,
)


def by_code(code: str) -> Rule | None:
    """The rule with this code (`NS201`) or name (`linear-collapse`), if any."""
    for item in REGISTRY:
        if code in (item.code, item.name):
            return item
    return None


def render_rules_markdown() -> str:
    """docs/rules.md without its generated-file note (netspec.app.docs adds that)."""
    return reference.render_rules_markdown(REGISTRY)


def run_rules(
    checked: CheckedGraph, sink: DiagnosticSink, config: RuleConfig | None = None
) -> None:
    """Run every rule over one checked graph and report what they find into `sink`."""
    config = config or RuleConfig()
    if not checked.graph.complete:
        return  # lowering stopped early with an error: the graph is a fragment, not the model
    for item in REGISTRY:
        for span, findings in _by_place(checked, item.check(checked, config)).items():
            _report(sink, item, span, findings)


def _by_place(checked: CheckedGraph, findings: Iterable[Finding]) -> dict[Span, list[Finding]]:
    """The findings worth reporting, grouped by where they stand.

    A node of unknown shape sits downstream of an error, which says all there is to say. A
    block used N times makes N layers from one line: their findings share a place.
    """
    places: dict[Span, list[Finding]] = {}
    for finding in findings:
        node = finding.node
        if node is not None and checked.shapes.get(node.id) is None:
            continue
        span = finding.span or (node.span if node is not None else checked.graph.name_span)
        places.setdefault(span, []).append(finding)
    return places


def _report(sink: DiagnosticSink, item: Rule, span: Span, findings: list[Finding]) -> None:
    first = findings[0]
    notes = first.notes + (block_notes(first.node.origin) if first.node is not None else ())
    named = first.node.name if first.node is not None else None
    others = list(dict.fromkeys(f.node.name for f in findings[1:] if f.node is not None))
    others = [name for name in others if name != named]
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        layers = "layer" if len(others) == 1 else "layers"
        notes += (Note(f"the same holds for {len(others)} more {layers} from this line: {shown}"),)
    sink.add(item.code, item.severity, first.message, span, notes=notes, help=first.help)
