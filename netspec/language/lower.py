"""AST to IR: expand blocks, repeats and loops, resolve names and arguments, name layers as Keras."""

from __future__ import annotations

from typing import Any

from netspec import codes
from netspec.diagnostics import DiagnosticSink, LimitExceeded, Span
from netspec.language import syntax as S
from netspec.language.evaluate import TensorRef, ValueError_, evaluate
from netspec.language.ir import CompileSpec, Graph, Program
from netspec.language.lower_arguments import ArgumentBinder, call_argument_span
from netspec.language.lower_graph import ExpansionBudget, GraphBuilder
from netspec.language.lower_layers import LayerLowering
from netspec.language.names import camel_case, class_problem
from netspec.language.scope import Frame, Scope, bound_names
from netspec.layers import catalog
from netspec.layers.calls import Family
from netspec.layers.resolve import ValueProblem, check_call_value, suggestion
from netspec.layers.training import LOSSES, METRICS, OPTIMIZERS, canonical_loss

MAX_REPEAT = 10_000

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


def lower(module: S.Module, sink: DiagnosticSink | None = None) -> Program:
    """Lower a parsed file into one IR graph per model, reporting problems to `sink`."""
    sink = sink or DiagnosticSink(module.path)
    blocks: dict[str, S.Block] = {}
    seen: dict[str, Span] = {}
    for definition in module.definitions:
        if definition.name in seen:
            sink.error(
                codes.DUPLICATE_DEFINITION,
                f"`{definition.name}` is defined twice (first at line {seen[definition.name].line})",
                definition.name_span,
            )
            continue
        seen[definition.name] = definition.name_span
        if isinstance(definition, S.Block):
            blocks[definition.name] = definition
            _check_block_params(definition, sink)
    classes: dict[str, str] = {}
    for model in module.models:
        cls = camel_case(model.name)
        problem = class_problem(model.name)
        if problem is not None:
            sink.error(
                codes.UNUSABLE_NAME,
                f"model `{model.name}` cannot be used: {problem}",
                model.name_span,
            )
        if cls in classes and classes[cls] != model.name:
            sink.error(
                codes.UNUSABLE_NAME,
                f"models `{classes[cls]}` and `{model.name}` would both generate class {cls}",
                model.name_span,
            )
        classes.setdefault(cls, model.name)
    budget = ExpansionBudget()  # one for the file: many models cannot multiply it
    graphs = [
        _ModelLowering(model, blocks, sink, module.path, budget).run() for model in module.models
    ]
    return Program(module.path, module.text, graphs, sink.items)


def _keyword(span: Span, keyword: str) -> Span:
    """The place of the keyword that starts a statement, for a diagnostic about the whole of it."""
    end = span.column + len(keyword)
    return Span(
        span.line, span.column, span.line, end, span.start_pos, span.start_pos + len(keyword)
    )


def _check_block_params(block: S.Block, sink: DiagnosticSink) -> None:
    names: set[str] = set()
    for param in block.params:
        if param.name in names:
            sink.error(
                codes.NAME_BOUND_TWICE,
                f"parameter `{param.name}` of block {block.name} is listed twice",
                param.span,
            )
        names.add(param.name)


class _ModelLowering:
    """The statements of one model (and of the blocks it uses): chains, bindings, output,
    compile, repeat and for; layers are applied by its LayerLowering."""

    def __init__(
        self,
        model: S.Model,
        blocks: dict[str, S.Block],
        sink: DiagnosticSink,
        path: str,
        budget: ExpansionBudget,
    ):
        self.model = model
        self.sink = sink
        self.builder = GraphBuilder(model, sink, path, budget)
        self.graph = self.builder.graph
        self.arguments = ArgumentBinder(self.builder)
        self.layers = LayerLowering(self.builder, self.arguments, blocks, self.body)
        self.error = self.builder.error
        self.early_uses = self.builder.early_uses

    # ---- driver ---------------------------------------------------------------------------

    def run(self) -> Graph:
        frame = Frame({}, (), None, ())
        scope = Scope(later=bound_names(self.model.body))
        try:
            last = self.body(self.model.body, scope, frame, None, is_model=True)
        except LimitExceeded as exc:
            self.sink.error(codes.LIMIT_EXCEEDED, exc.message, exc.span)
            self.graph.complete = False
            return self.graph
        if not self.graph.inputs and not self.builder.reported_no_input:
            self.sink.error(
                codes.MISSING_INPUT,
                f"model {self.model.name} has no input: nothing can be checked",
                self.model.name_span,
                help="start the model with `input [shape]`, e.g. `input [28, 28, 1]`",
            )
        if not self.graph.outputs and last is not None and last.node is not None:
            self.graph.outputs = [last.node]
        self.builder.report_unused()
        return self.graph

    def body(
        self,
        statements: tuple[S.Statement, ...],
        scope: Scope,
        frame: Frame,
        current: TensorRef | None,
        *,
        is_model: bool = False,
    ) -> TensorRef | None:
        for statement in statements:
            if isinstance(statement, S.ChainStatement):
                current = self.chain(statement.chain, scope, frame, current)
            elif isinstance(statement, S.Binding):
                current = self.binding(statement, scope, frame, current)
            elif isinstance(statement, S.Output):
                current = self.output(statement, scope, frame, is_model)
            elif isinstance(statement, S.Compile):
                self.compile(statement, frame, is_model)
            elif isinstance(statement, S.Repeat):
                current = self.repeat(statement, scope, frame, current)
            elif isinstance(statement, S.For):
                current = self.loop(statement, scope, frame, current)
        return current

    # ---- statements -----------------------------------------------------------------------

    def binding(self, stmt: S.Binding, scope: Scope, frame: Frame, current: TensorRef | None):
        value = self.chain(stmt.chain, scope, frame, current, input_name=stmt.name)
        if stmt.name in scope.names:
            first = scope.names[stmt.name][1]
            self.error(
                codes.NAME_BOUND_TWICE,
                f"`{stmt.name}` is already bound (line {first.line}); a name is bound once",
                stmt.name_span,
                frame,
            )
        elif stmt.name in frame.env:
            self.error(
                codes.NAME_BOUND_TWICE,
                f"`{stmt.name}` is a parameter of the block",
                stmt.name_span,
                frame,
            )
        if value is None:
            value = TensorRef(None)
        scope.names[stmt.name] = (value, stmt.name_span)
        if stmt.name in self.early_uses:
            self.builder.mark_used(value)
        if value.node is not None:
            node = self.graph.nodes[value.node]
            if node.binding is None:
                node.binding = stmt.name
        return value

    def output(self, stmt: S.Output, scope: Scope, frame: Frame, is_model: bool):
        refs = [self.reference(word, scope, frame) for word in stmt.names]
        if not is_model and len(refs) > 1:
            self.error(
                codes.MISPLACED_STATEMENT,
                "a block has one result; `output` takes one name here",
                stmt.span,
                frame,
            )
        if is_model:
            if self.graph.outputs:
                self.error(
                    codes.MISPLACED_STATEMENT,
                    "a model has one `output` statement",
                    stmt.span,
                    frame,
                )
            self.graph.outputs = [r.node for r in refs if r is not None and r.node is not None]
        return refs[-1] if refs else None

    def compile(self, stmt: S.Compile, frame: Frame, is_model: bool) -> None:
        if not is_model:
            # A block body is lowered with its input in the frame; a repeat or for body of the
            # model itself has none.
            where = "a block" if frame.block_input is not None else "a repeat or for body"
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

    def repeat(self, stmt: S.Repeat, scope: Scope, frame: Frame, current: TensorRef | None):
        try:
            count = evaluate(stmt.count, frame.env)
        except ValueError_ as exc:
            self.error(exc.code, exc.message, exc.span, frame)
            return current
        if not isinstance(count, int) or isinstance(count, bool):
            self.error(
                codes.WRONG_TYPE,
                f"repeat needs an integer count, got {count!r}",
                stmt.count.span,
                frame,
            )
            return current
        if count < 0:
            self.error(
                codes.VALUE_OUT_OF_RANGE,
                f"repeat count must be >= 0, got {count}",
                stmt.count.span,
                frame,
            )
            return current
        if count > MAX_REPEAT:
            raise LimitExceeded(
                f"repeat count {count:,} exceeds the limit of {MAX_REPEAT:,}", stmt.count.span
            )
        later = bound_names(stmt.body)
        self.builder.enter(_keyword(stmt.span, "repeat"))
        try:
            for _ in range(count):
                self.builder.charge(stmt.span)
                current = self.body(stmt.body, Scope(parent=scope, later=later), frame, current)
        finally:
            self.builder.leave()
        return current

    def loop(self, stmt: S.For, scope: Scope, frame: Frame, current: TensorRef | None):
        try:
            values = evaluate(stmt.values, frame.env, self.arguments.layer_value_hook(frame))
        except ValueError_ as exc:
            self.error(exc.code, exc.message, exc.span, frame)
            return current
        if not isinstance(values, tuple):
            self.error(
                codes.WRONG_TYPE,
                "`for` needs a tuple of values: for f in (64, 128) { ... }",
                stmt.values.span,
                frame,
            )
            return current
        if len(values) > MAX_REPEAT:
            raise LimitExceeded(
                f"`for` over {len(values):,} values exceeds {MAX_REPEAT:,}", stmt.values.span
            )
        later = bound_names(stmt.body)
        self.builder.enter(_keyword(stmt.span, "for"))
        try:
            for item in values:
                self.builder.charge(stmt.span)
                env = {**frame.env, stmt.var: item}
                inner = Frame(env, frame.origin, frame.block_input, frame.stack)
                current = self.body(stmt.body, Scope(parent=scope, later=later), inner, current)
        finally:
            self.builder.leave()
        return current

    # ---- chains ---------------------------------------------------------------------------

    def chain(
        self,
        chain: S.Chain,
        scope: Scope,
        frame: Frame,
        current: TensorRef | None,
        input_name: str | None = None,
    ):
        first, rest = chain.terms[0], chain.terms[1:]
        if isinstance(first, S.InputExpr) and first.shape is not None and frame.block_input is None:
            # `tokens = input [200] int32`: the input takes its binding's name, unless the name
            # is bound to the end of a longer chain.
            value = self.layers.make_input(first, None if rest else input_name, frame)
        else:
            value = self.source(first, scope, frame, current)
        for term in rest:
            if isinstance(term, S.InputExpr) or (
                isinstance(term, S.Word) and scope.find(term.name) is not None
            ):
                self.error(
                    codes.WRONG_TYPE,
                    "only a layer or a block can follow `->`; to combine values use a merge such as add(a, b)",
                    term.span,
                    frame,
                )
                continue
            value = self.layers.apply(term, value, scope, frame, first_term=False)
        return value

    def source(self, term: S.Value, scope: Scope, frame: Frame, current: TensorRef | None):
        """The first term of a chain: an input, a bound name, or a layer applied to `current`."""
        if isinstance(term, S.InputExpr):
            return self.layers.input_term(term, frame)
        if isinstance(term, S.Word):
            ref = scope.find(term.name)
            if ref is not None:
                return ref
            if term.name not in frame.env and scope.bound_later(term.name):
                self.builder.used_before_bound(term.name, term.span, frame)
                return TensorRef(None)
        return self.layers.apply(term, current, scope, frame, first_term=True)

    def reference(self, word: S.Word, scope: Scope, frame: Frame) -> TensorRef | None:
        ref = scope.find(word.name)
        if ref is not None:
            return ref
        self.builder.unbound(word, scope, frame)
        return None
