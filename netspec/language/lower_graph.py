"""One model's IR graph as lowering builds it, with the bookkeeping of its diagnostics: which
values are used, which names were used before their binding, whether the missing input was said."""

from __future__ import annotations

from typing import Any

from netspec import codes
from netspec.diagnostics import DiagnosticSink, LimitExceeded, Span
from netspec.language import syntax as S
from netspec.language.evaluate import TensorRef
from netspec.language.ir import Graph, Node
from netspec.language.scope import Frame, Scope, block_notes, scopes
from netspec.layers.catalog import LayerKind, Shape, ShapeError
from netspec.layers.resolve import suggestion

MAX_NODES = 20_000  # per model
MAX_FILE_NODES = 2 * MAX_NODES  # per file: two models of the largest size
# Passes of repeat and for bodies plus block expansions, per file (all its models together),
# counted together so that neither nesting nor many models multiply the per-statement limits
# (10,000 passes, 32 blocks deep) past it.
MAX_EXPANSIONS = 100_000
# The text of those bodies, counted once per pass: a short repeat of a long body (a list of
# thousands of values evaluated at every pass) is as costly as many passes. A file may expand to
# as much text as a file may hold.
MAX_EXPANDED_CHARS = 4 * 1024 * 1024


class ExpansionBudget:
    """What lowering one file may spend, shared by all its models: body passes and block
    expansions, the text they expand, and layers."""

    def __init__(self) -> None:
        self.expansions = 0
        self.expanded_chars = 0
        self.nodes = 0


class GraphBuilder:
    """The graph of one model and everything lowering reports about it."""

    def __init__(
        self, model: S.Model, sink: DiagnosticSink, path: str, budget: ExpansionBudget
    ) -> None:
        self.model = model
        self.budget = budget
        self.sink = sink
        self.graph = Graph(model.name, path, model.span, model.name_span)
        self.reported_no_input = False
        self.used: set[int] = set()
        # Names used before their binding (NS009): the binding then counts as used.
        self.early_uses: set[str] = set()
        # The repeats, loops and block uses being expanded, outermost first: the budget's
        # diagnostic points at the outermost, the statement that has to change.
        self.expanding: list[Span] = []
        # (code, place, message) already reported: a body expanded many times reports once.
        self.reported: set[tuple[str, Span, str]] = set()
        # The shapes of the first nodes, inferred as `VALUE.shape` asks for them.
        self.shapes: list[Shape | None] = []

    def shape_of(self, node_id: int) -> Shape | None:
        """A node's shape (without the batch) as the checker will infer it; None when it cannot
        be inferred (the checker reports why). Nodes are inferred once, in order."""
        nodes = self.graph.nodes
        for node in nodes[len(self.shapes) : node_id + 1]:
            inputs = [self.shapes[i] for i in node.inputs]
            shape: Shape | None = None
            if node.valid and all(s is not None for s in inputs):
                try:
                    shape = node.kind.infer([s for s in inputs if s is not None], node.args)
                except ShapeError:
                    shape = None
            self.shapes.append(shape)
        return self.shapes[node_id]

    def mark_used(self, ref: TensorRef | None) -> None:
        if ref is not None and ref.node is not None:
            self.used.add(ref.node)

    def report_unused(self) -> None:
        """NS010: a value that no layer takes and that is not an output (a dangling branch)."""
        consumers = self.graph.consumers()
        outputs = set(self.graph.outputs)
        for node in self.graph.nodes:
            if consumers[node.id] or node.id in outputs or node.id in self.used:
                continue
            what = f"`{node.binding}`" if node.binding else f"the value of {node.name}"
            self.sink.error(
                codes.UNUSED_VALUE,
                f"{what} is never used: it feeds no layer and is not an output",
                node.span,
                notes=block_notes(node.origin),
                help="use it, list it in `output`, or remove it",
            )

    def used_before_bound(self, name: str, span: Span, frame: Frame) -> None:
        self.error(codes.USED_BEFORE_BOUND, f"`{name}` is used before it is bound", span, frame)
        self.early_uses.add(name)  # its binding then counts as used: one report, not two

    def unbound(self, word: S.Word, scope: Scope, frame: Frame) -> None:
        """Report a name that stands for no value: bound further down (NS009) or nowhere (NS002)."""
        if scope.bound_later(word.name):
            self.used_before_bound(word.name, word.span, frame)
            return
        known = [n for s in scopes(scope) for n in s.names]
        message = f"unknown name `{word.name}`" + suggestion(word.name, known)
        self.error(codes.UNKNOWN_NAME, message, word.span, frame)

    def enter(self, span: Span) -> None:
        """A repeat, loop or block use at `span` starts expanding; `leave` when it is done.
        (Plain calls, not a context manager: they run once per expansion, 100,000 times.)"""
        self.expanding.append(span)

    def leave(self) -> None:
        self.expanding.pop()

    def charge(self, body: Span) -> None:
        """One pass of a body or one block expansion against the file's budget."""
        budget = self.budget
        budget.expansions += 1
        budget.expanded_chars += max(body.end_pos - body.start_pos, 1)
        if budget.expansions > MAX_EXPANSIONS:
            what = f"more than {MAX_EXPANSIONS:,} times"
        elif budget.expanded_chars > MAX_EXPANDED_CHARS:
            what = f"into more than {MAX_EXPANDED_CHARS:,} characters of statements"
        else:
            return
        raise LimitExceeded(
            f"repeat and for bodies and blocks expand {what} in this file (here, in model "
            f"{self.model.name}; the limit counts all models of a file together)",
            self.expanding[0],
        )

    def add_node(
        self,
        kind: LayerKind,
        args: dict[str, Any],
        inputs: tuple[int, ...],
        span: Span,
        frame: Frame,
        name: str,
        explicit: frozenset[str] = frozenset(),
        valid: bool = True,
    ) -> Node:
        if len(self.graph.nodes) >= MAX_NODES:
            raise LimitExceeded(f"model {self.model.name} has more than {MAX_NODES:,} layers", span)
        self.budget.nodes += 1
        if self.budget.nodes > MAX_FILE_NODES:
            raise LimitExceeded(
                f"the models of this file have more than {MAX_FILE_NODES:,} layers together "
                f"(model {self.model.name} passes the limit here)",
                span,
            )
        node = Node(
            id=len(self.graph.nodes),
            name=name,
            kind=kind,
            args=args,
            inputs=inputs,
            span=span,
            origin=frame.origin,
            explicit=explicit,
            auto_named="name" not in explicit,
            valid=valid,
        )
        self.graph.nodes.append(node)
        return node

    def no_input(self, span: Span, frame: Frame) -> None:
        if self.reported_no_input:
            return
        self.reported_no_input = True
        self.error(
            codes.MISSING_INPUT,
            f"no input before this layer: model {self.model.name} has no input shape",
            span,
            frame,
            help="start the model with `input [shape]`, or give the first layer input_shape=[...]",
        )

    def error(
        self, code: str, message: str, span: Span, frame: Frame, help: str | None = None
    ) -> None:
        key = (code, span, message)
        if key in self.reported:
            return
        self.reported.add(key)
        self.sink.error(code, message, span, notes=block_notes(frame.origin), help=help)
