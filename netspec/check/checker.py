"""Checking one graph: shapes and weights first, then the design rules on what they found."""

from __future__ import annotations

from netspec.check.rules import run_rules
from netspec.check.rules.base import RuleConfig
from netspec.check.shapes import CheckedGraph, infer_shapes
from netspec.diagnostics import DiagnosticSink
from netspec.language.ir import Graph


def check_graph(graph: Graph, config: RuleConfig | None = None) -> CheckedGraph:
    """Shapes, weights and the rules (with `config`'s thresholds) for one graph."""
    sink = DiagnosticSink(graph.path)
    checked = infer_shapes(graph, sink)
    run_rules(checked, sink, config)
    checked.diagnostics = sink.items
    return checked
