"""The rule registry: every design rule, listed explicitly, run over a checked graph."""

from __future__ import annotations

from netspec.diagnostics import DiagnosticSink


def run_rules(checked, sink: DiagnosticSink) -> None:
    """Placeholder until the rule set lands: no design rules run yet."""
    return None
