"""Lowering `compile(...)`: the loss, optimizer and metrics checked against Keras' own."""

from __future__ import annotations

from typing import Any

from netspec import codes
from netspec.diagnostics import Span
from netspec.language import syntax as S
from netspec.language.evaluate import ValueError_, evaluate
from netspec.language.ir import CompileSpec
from netspec.language.lower_arguments import call_argument_span
from netspec.language.lower_graph import GraphBuilder
from netspec.language.scope import Frame
from netspec.layers import catalog
from netspec.layers.calls import Family
from netspec.layers.resolve import ValueProblem, check_call_value, suggestion
from netspec.layers.training import LOSSES, METRICS, OPTIMIZERS, canonical_loss

# Keras 3's Model.compile arguments.
COMPILE_ARGUMENTS = (
    "optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
    "steps_per_execution", "jit_compile", "auto_scale_loss",
)  # fmt: skip
_METRIC_LISTS = ("metrics", "weighted_metrics")
_TRAINING_FAMILIES = {
    "loss": Family.LOSS,
    "optimizer": Family.OPTIMIZER,
    "metrics": Family.METRIC,
    "weighted_metrics": Family.METRIC,
}


class CompileLowering:
    """The `compile` statement of one model."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.graph = builder.graph
        self.error = builder.error

    def compile(self, stmt: S.Compile, frame: Frame, is_model: bool) -> None:
        """Check `compile(...)` and record it on the graph."""
        if not is_model:
            # A block body is lowered with its input in the frame; a repeat or for body of the
            # model itself has none.
            where = "a block" if frame.block_input is not None else "a repeat, for or if body"
            self.error(
                codes.MISPLACED_STATEMENT,
                f"`compile` belongs in a model's own body, not in {where}",
                stmt.span,
                frame,
            )
            return
        if self.graph.compile is not None:
            self.error(
                codes.MISPLACED_STATEMENT, "a model has at most one `compile`", stmt.span, frame
            )
            return
        args: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for argument in stmt.arguments:
            if argument.name is None:
                self.error(
                    codes.WRONG_TYPE,
                    "compile takes keyword arguments: loss=..., optimizer=..., metrics=[...]",
                    argument.span,
                    frame,
                )
                continue
            if argument.name in args:
                self.error(
                    codes.DUPLICATE_ARGUMENT,
                    f"`{argument.name}` is given twice",
                    argument.span,
                    frame,
                )
                continue
            if argument.name not in COMPILE_ARGUMENTS:
                self.error(
                    codes.UNKNOWN_ARGUMENT,
                    f"compile has no argument `{argument.name}`"
                    + suggestion(argument.name, COMPILE_ARGUMENTS),
                    argument.name_span or argument.span,
                    frame,
                )
                continue
            try:
                value = evaluate(argument.value, frame.env)
            except ValueError_ as exc:
                self.error(exc.code, exc.message, exc.span, frame)
                continue
            args[argument.name] = value
            spans[argument.name] = argument.value.span
            self.check_training_name(argument.name, value, argument.value, frame)
        self.graph.compile = CompileSpec(args, stmt.span, spans)

    def check_training_name(self, key: str, value: Any, node: S.Value, frame: Frame) -> None:
        """A loss, optimizer or metric name known to Keras; a call's arguments against its
        Keras constructor. Each metric of a list is pointed at by itself."""
        known = {
            "loss": LOSSES,
            "optimizer": OPTIMIZERS,
            "metrics": METRICS,
            "weighted_metrics": METRICS,
        }.get(key)
        if known is None:
            return
        listed = key in _METRIC_LISTS and isinstance(value, tuple)
        values = value if listed else (value,)
        items = node.items if listed and isinstance(node, S.TupleValue) else ()
        for index, item in enumerate(values):
            place = items[index] if len(items) == len(values) else node
            name = item.name if isinstance(item, catalog.CallValue) else item
            if not isinstance(name, str):
                continue
            canonical = canonical_loss(name) if key != "optimizer" else name.lower()
            if canonical in known or name in known:
                if isinstance(item, catalog.CallValue):
                    self.check_training_call(key, item, place, frame)
                continue
            self.error(
                codes.UNKNOWN_NAME,
                f"unknown {'metric' if key in _METRIC_LISTS else key} `{name}`"
                + suggestion(name, known),
                place.span,
                frame,
            )

    def check_training_call(
        self, key: str, value: catalog.CallValue, node: S.Value, frame: Frame
    ) -> None:
        """`huber(delta=-1)`, `sgd(momentum=2)`, `mae(x=1)`: a loss's, optimizer's or metric's
        arguments against its Keras constructor, pointed at the argument at fault where the
        call is written in place."""
        family = _TRAINING_FAMILIES[key]
        try:
            check_call_value(family, value, f"`{key}` of compile")
        except ValueProblem as exc:
            naming = exc.code in (codes.UNKNOWN_ARGUMENT, codes.DUPLICATE_ARGUMENT)
            span = call_argument_span(node, exc.inner, naming) if exc.inner is not None else None
            self.error(exc.code, exc.message, span or node.span, frame, help=exc.help)
