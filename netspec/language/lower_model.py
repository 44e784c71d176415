"""The statements of one model and of the blocks it uses: chains, bindings, destructuring,
output, compile, repeat, for and if; expressions of values; layers through LayerLowering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netspec import codes
from netspec.diagnostics import DiagnosticSink, LimitExceeded, Span
from netspec.language import syntax as S
from netspec.language.evaluate import Several, TensorRef, Unknown, ValueError_, evaluate
from netspec.language.functions import FUNCTIONS
from netspec.language.ir import Graph
from netspec.language.lower_arguments import ArgumentBinder
from netspec.language.lower_compile import CompileLowering
from netspec.language.lower_graph import ExpansionBudget, GraphBuilder
from netspec.language.lower_layers import LayerLowering
from netspec.language.nesting import ModelLibrary
from netspec.language.scope import Frame, Names, Scope, bound_in_every_branch, bound_names
from netspec.language.values import NO_CURRENT, UNKNOWN, BranchOnly, is_number, shown
from netspec.layers import catalog, ops
from netspec.layers.resolve import suggestion

MAX_REPEAT = 10_000
DISCARD = "_"

# What a statement or a chain leaves: a tensor, several values of a block, or (in a binding) a
# number, a string, a tuple or None.
Result = Any


def keyword_span(span: Span, keyword: str) -> Span:
    """The place of the keyword that starts a statement, for a diagnostic about the whole of it."""
    end = span.column + len(keyword)
    return Span(
        span.line, span.column, span.line, end, span.start_pos, span.start_pos + len(keyword)
    )


class _Tensors:
    """The tensors that evaluation asks for, in one frame: `input`, `.shape`, arithmetic."""

    def __init__(self, lowering: ModelLowering, frame: Frame) -> None:
        self.lowering = lowering
        self.frame = frame

    def input(self, node: S.InputExpr) -> TensorRef:
        ref = self.lowering.layers.input_term(node, self.frame)
        if ref.node is None:
            raise Unknown
        return ref

    def shape(self, ref: TensorRef, span: Span) -> tuple:
        self.lowering.builder.mark_used(ref)
        shape = self.lowering.builder.shape_of(ref.node) if ref.node is not None else None
        if shape is None:
            raise Unknown
        return (None, *shape)

    def arithmetic(self, node: S.Value, op: str, operands: tuple[Any, ...]) -> TensorRef:
        """`x * 0.5`, `a - b`, `-x`: an operation on values in the graph."""
        if op == "neg":
            return self.operation("negative", node, operands, {})
        name = ops.OPERATORS[op]
        if all(isinstance(o, TensorRef) for o in operands):
            return self.operation(name, node, operands, {})
        return self.with_number(name, node, operands)

    def with_number(self, name: str, node: S.Value, operands: tuple[Any, ...]) -> TensorRef:
        reverse = not isinstance(operands[0], TensorRef)
        tensor, number = (operands[1], operands[0]) if reverse else operands
        args = {"operand": number, "reverse": reverse}
        return self.operation(name + "_number", node, (tensor,), args)

    def ops(self, node: S.MethodCall, env: Mapping[str, Any]) -> TensorRef:
        """`ops.sqrt(x)`, `ops.maximum(a, 1e-7)`, `ops.sum(x, axis=1, keepdims=true)`."""
        known = (*ops.UNARY, *ops.BINARY, *ops.REDUCTIONS)
        if node.name not in known:
            raise ValueError_(
                codes.UNKNOWN_NAME,
                f"unknown function ops.{node.name}" + suggestion(node.name, known),
                node.name_span,
            )
        lowering = self.lowering
        hook = lowering.arguments.layer_value_hook(self.frame)
        positional = [evaluate(a.value, env, hook, self) for a in node.arguments if a.name is None]
        keywords = {
            a.name: (a, evaluate(a.value, env, hook, self)) for a in node.arguments if a.name
        }
        wanted = {"sum": ("x", "axis", "keepdims")}.get(node.name) or (
            ("x", "axis", "keepdims")
            if node.name in ops.REDUCTIONS
            else ("x1", "x2") if node.name in ops.BINARY else ("x",)
        )
        values: dict[str, Any] = dict(zip(wanted, positional))
        if len(positional) > len(wanted):
            raise ValueError_(
                codes.UNKNOWN_ARGUMENT,
                f"ops.{node.name} takes at most {len(wanted)} arguments",
                node.span,
            )
        for key, (argument, value) in keywords.items():
            if key not in wanted or key in values:
                raise ValueError_(
                    codes.UNKNOWN_ARGUMENT if key not in wanted else codes.DUPLICATE_ARGUMENT,
                    (
                        f"ops.{node.name} has no argument `{key}`"
                        if key not in wanted
                        else f"`{key}` is given twice"
                    ),
                    argument.name_span or argument.span,
                )
            values[key] = value
        if node.name in ops.BINARY:
            operands = (values.get("x1"), values.get("x2"))
            if not any(isinstance(o, TensorRef) for o in operands):
                raise ValueError_(
                    codes.WRONG_TYPE, f"ops.{node.name} takes a value (a tensor)", node.span
                )
            if all(isinstance(o, TensorRef) for o in operands):
                return self.operation(node.name, node, operands, {})
            for operand in operands:
                if not isinstance(operand, TensorRef) and not is_number(operand):
                    raise ValueError_(
                        codes.WRONG_TYPE,
                        f"ops.{node.name} takes values and numbers, got {shown(operand)}",
                        node.span,
                    )
            return self.with_number(node.name, node, operands)
        tensor = values.get("x")
        if not isinstance(tensor, TensorRef):
            raise ValueError_(
                codes.WRONG_TYPE,
                f"ops.{node.name} takes a value (a tensor), got {shown(tensor)}",
                node.arguments[0].span if node.arguments else node.span,
            )
        args: dict[str, Any] = {}
        if node.name in ops.REDUCTIONS:
            if values.get("axis") is None:
                raise ValueError_(
                    codes.MISSING_ARGUMENT,
                    f"ops.{node.name} needs an axis here (the batch axis 0 is not reduced)",
                    node.span,
                )
            keepdims = values.get("keepdims", False)
            if not isinstance(keepdims, bool):
                raise ValueError_(
                    codes.WRONG_TYPE, f"keepdims is true or false, got {shown(keepdims)}", node.span
                )
            args = {"axis": values["axis"], "keepdims": keepdims}
        return self.operation(node.name, node, (tensor,), args)

    def applied(self, node: S.AppliedCall) -> TensorRef:
        """`dense(8)(x)` inside an expression or a merge: the layer applied to its values."""
        layers = self.lowering.layers
        ref = layers.applied(node, None, Scope(), self.frame, first_term=True)
        if ref is None or ref.node is None:
            raise Unknown
        return ref

    def operation(
        self, name: str, node: S.Value, inputs: tuple[Any, ...], args: dict[str, Any]
    ) -> TensorRef:
        if any(i.node is None for i in inputs):
            raise Unknown
        kind = ops.operation(name)
        builder = self.lowering.builder
        op_name = self.lowering.arguments.operation_name(kind, node.span, self.frame)
        created = builder.add_node(
            kind,
            args,
            tuple(i.node for i in inputs),
            node.span,
            self.frame,
            op_name,
            frozenset(args),
        )
        return TensorRef(created.id)


class ModelLowering:
    """One model's statements; layers are applied by its LayerLowering."""

    def __init__(
        self,
        model: S.Model,
        blocks: dict[str, S.Block],
        sink: DiagnosticSink,
        path: str,
        budget: ExpansionBudget,
        library: ModelLibrary | None = None,
    ):
        self.model = model
        self.blocks = blocks
        self.sink = sink
        self.builder = GraphBuilder(model, sink, path, budget)
        self.graph = self.builder.graph
        self.arguments = ArgumentBinder(self.builder)
        self.arguments.tensors = lambda frame: _Tensors(self, frame)
        self.layers = LayerLowering(self.builder, self.arguments, blocks, self.body, library)
        self.compiling = CompileLowering(self.builder)
        self.error = self.builder.error
        self.early_uses = self.builder.early_uses
        self.destructured: S.Destructure | None = None  # the last `a, b = ...`, if any

    # ---- driver ---------------------------------------------------------------------------

    def run(self) -> Graph:
        scope = Scope(later=bound_names(self.model.body))
        frame = Frame(Names(scope, {}), (), None, ())
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
        if not self.graph.outputs and isinstance(last, TensorRef) and last.node is not None:
            self.graph.outputs = [last.node]
        elif not self.graph.outputs and last is NO_CURRENT and self.destructured is not None:
            self.sink.error(
                codes.WRONG_TYPE,
                f"model {self.model.name} ends with `a, b = ...`, which leaves no value: "
                "list its outputs with `output`",
                self.destructured.span,
            )
        self.builder.report_unused()
        return self.graph

    def body(
        self,
        statements: tuple[S.Statement, ...],
        scope: Scope,
        frame: Frame,
        current: Result,
        *,
        is_model: bool = False,
    ) -> Result:
        for statement in statements:
            current = self.statement(statement, scope, frame, current, is_model)
        return current

    def statement(
        self, statement: S.Statement, scope: Scope, frame: Frame, current: Result, is_model: bool
    ) -> Result:
        if isinstance(statement, S.ChainStatement):
            return self.chain_statement(statement, scope, frame, current)
        if isinstance(statement, S.Binding):
            return self.binding(statement, scope, frame, current)
        if isinstance(statement, S.Destructure):
            return self.destructure(statement, scope, frame, current)
        if isinstance(statement, S.Output):
            return self.output(statement, scope, frame, current, is_model)
        if isinstance(statement, S.Compile):
            self.compiling.compile(statement, frame, is_model)
            return current
        if isinstance(statement, S.Repeat):
            return self.repeat(statement, scope, frame, current)
        if isinstance(statement, S.For):
            return self.loop(statement, scope, frame, current)
        if isinstance(statement, S.If):
            return self.branch(statement, scope, frame, current)
        raise AssertionError(f"unknown statement {type(statement).__name__}")  # pragma: no cover

    # ---- statements -----------------------------------------------------------------------

    def chain_statement(
        self, stmt: S.ChainStatement, scope: Scope, frame: Frame, current: Result
    ) -> Result:
        value = self.chain(stmt.chain, scope, frame, current)
        if isinstance(value, Several):
            self.error(
                codes.VALUE_COUNT,
                f"this gives {len(value.values)} values; bind them to as many names: "
                + ", ".join(f"v{i + 1}" for i in range(len(value.values)))
                + " = ...",
                stmt.span,
                frame,
            )
            return TensorRef(None)
        if value is UNKNOWN:
            return TensorRef(None)
        if not isinstance(value, TensorRef):
            self.error(
                codes.WRONG_TYPE,
                f"{shown(value)} is not a layer or a value (a tensor); bind it to a name: "
                "`c = ...`",
                stmt.span,
                frame,
            )
            return current
        return value

    def binding(self, stmt: S.Binding, scope: Scope, frame: Frame, current: Result) -> Result:
        value = self.chain(stmt.chain, scope, frame, current, input_name=stmt.name)
        if isinstance(value, Several):
            self.error(
                codes.VALUE_COUNT,
                f"this gives {len(value.values)} values and `{stmt.name}` is one name; "
                f"bind them to {len(value.values)} names: `a, b = ...`",
                stmt.chain.span,
                frame,
            )
            value = TensorRef(None)
        self.bind(stmt.name, stmt.name_span, value, scope)
        return value if isinstance(value, TensorRef) else current

    def bind(self, name: str, span: Span, value: Result, scope: Scope) -> None:
        """Bind `name` (a later binding replaces an earlier one); `_` discards the value."""
        if name == DISCARD:
            self.builder.mark_used(value if isinstance(value, TensorRef) else None)
            return
        scope.bind(name, value, span)
        if not isinstance(value, TensorRef):
            return
        if name in self.early_uses:
            self.builder.mark_used(value)
        if value.node is not None:
            node = self.graph.nodes[value.node]
            if node.binding is None:
                node.binding = name

    def destructure(
        self, stmt: S.Destructure, scope: Scope, frame: Frame, current: Result
    ) -> Result:
        value = self.chain(stmt.chain, scope, frame, current)
        seen: dict[str, Span] = {}
        for word in stmt.names:
            if word.name in seen and word.name != DISCARD:
                self.error(
                    codes.NAME_BOUND_TWICE,
                    f"`{word.name}` is listed twice in one binding",
                    word.span,
                    frame,
                )
            seen.setdefault(word.name, word.span)
        count = len(stmt.names)
        if isinstance(value, Several) and len(value.values) == count:
            values = value.values
        else:
            if not (isinstance(value, TensorRef) and value.node is None):
                given = len(value.values) if isinstance(value, Several) else 1
                self.error(
                    codes.VALUE_COUNT,
                    f"{count} names for {given} value{'s' if given != 1 else ''}: "
                    + (
                        "a block gives several values with `output a, b`"
                        if given == 1
                        else f"write {given} names"
                    ),
                    stmt.chain.span,
                    frame,
                )
            values = (TensorRef(None),) * count
        for word, item in zip(stmt.names, values):
            self.bind(word.name, word.span, item, scope)
        # After `a, b = ...` there is no one current value: the next line starts from a name.
        self.destructured = stmt
        return NO_CURRENT

    def output(
        self, stmt: S.Output, scope: Scope, frame: Frame, current: Result, is_model: bool
    ) -> Result:
        values = [self.value(item, scope, frame) for item in stmt.values]
        refs: list[TensorRef] = []
        for item, value in zip(stmt.values, values):
            if isinstance(value, TensorRef):
                refs.append(value)
            elif value is UNKNOWN:
                refs.append(TensorRef(None))
            elif value is not None:
                self.error(
                    codes.WRONG_TYPE,
                    f"`output` lists values (tensors), got {shown(value)}",
                    item.span,
                    frame,
                )
                refs.append(TensorRef(None))
        if is_model:
            if self.graph.outputs:
                self.error(
                    codes.MISPLACED_STATEMENT,
                    "a model has one `output` statement",
                    stmt.span,
                    frame,
                )
            self.graph.outputs = [r.node for r in refs if r.node is not None]
            return refs[-1] if refs else current
        if len(refs) != len(values):
            return TensorRef(None)
        return refs[0] if len(refs) == 1 else Several(tuple(refs))

    def repeat(self, stmt: S.Repeat, scope: Scope, frame: Frame, current: Result) -> Result:
        count = self.evaluate(stmt.count, frame)
        if count is _FAILED:
            return current
        if not isinstance(count, int) or isinstance(count, bool):
            self.error(
                codes.WRONG_TYPE,
                f"repeat needs an integer count, got {shown(count)}",
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
        self.builder.enter(keyword_span(stmt.span, "repeat"))
        try:
            for _ in range(count):
                self.builder.charge(stmt.span)
                current = self.body(stmt.body, scope, frame, current)
        finally:
            self.builder.leave()
        return current

    def loop(self, stmt: S.For, scope: Scope, frame: Frame, current: Result) -> Result:
        values = self.evaluate(stmt.values, frame)
        if values is _FAILED:
            return current
        if not isinstance(values, tuple):
            self.error(
                codes.WRONG_TYPE,
                "`for` needs a tuple of values: for f in (64, 128) { ... }, or range(n)",
                stmt.values.span,
                frame,
            )
            return current
        if len(values) > MAX_REPEAT:
            raise LimitExceeded(
                f"`for` over {len(values):,} values exceeds {MAX_REPEAT:,}", stmt.values.span
            )
        self.builder.enter(keyword_span(stmt.span, "for"))
        try:
            for item in values:
                self.builder.charge(stmt.span)
                scope.bind(stmt.var, item, stmt.var_span)
                current = self.body(stmt.body, scope, frame, current)
        finally:
            self.builder.leave()
        return current

    def branch(self, stmt: S.If, scope: Scope, frame: Frame, current: Result) -> Result:
        """`if` chooses its statements as the model is expanded."""
        condition = self.evaluate(stmt.condition, frame)
        if not isinstance(condition, bool):
            # The value it would have taken is not reported as unused on top of this.
            self.builder.mark_used(current if isinstance(current, TensorRef) else None)
        if condition is _FAILED:
            return TensorRef(None)
        if not isinstance(condition, bool):
            self.error(
                codes.WRONG_TYPE,
                f"an `if` condition is true or false, got {shown(condition)}",
                stmt.condition.span,
                frame,
                help="compare it: `if n > 0 { ... }`, `if p == None { ... }`",
            )
            return TensorRef(None)
        chosen = stmt.body if condition else stmt.orelse
        if chosen is None:
            return current
        before = {n for n, (v, _) in scope.names.items() if not isinstance(v, BranchOnly)}
        result = self.body(chosen, scope, frame, current)
        surely = bound_in_every_branch((stmt,))
        for name in set(scope.names) - before - surely:
            # First bound here but not in every branch: its uses after the `if` are errors,
            # whatever the condition chose this time.
            value, span = scope.names[name]
            self.builder.mark_used(value if isinstance(value, TensorRef) else None)
            scope.bind(name, BranchOnly(name, stmt.span.line), span)
        return result

    # ---- chains and values ----------------------------------------------------------------

    def chain(
        self,
        chain: S.Chain,
        scope: Scope,
        frame: Frame,
        current: Result,
        input_name: str | None = None,
    ) -> Result:
        first, rest = chain.terms[0], chain.terms[1:]
        if isinstance(first, (S.Repeat, S.For, S.If)):
            # `m = repeat 2 { ... }`: the body applies to the current value.
            if isinstance(first, S.If) and first.orelse is None:
                self.error(
                    codes.WRONG_TYPE,
                    "an `if` without `else` has no value when its condition is false; "
                    "add `else { ... }`",
                    keyword_span(first.span, "if"),
                    frame,
                )
                return TensorRef(None)
            value = self.statement(first, scope, frame, current, False)
        elif (
            isinstance(first, S.InputExpr) and first.shape is not None and frame.block_input is None
        ):
            # `tokens = input [200] int32`: the input takes its binding's name, unless the name
            # is bound to the end of a longer chain.
            value = self.layers.make_input(first, None if rest else input_name, frame)
        else:
            value = self.source(first, scope, frame, current)
        for term in rest:
            if value is UNKNOWN:
                return TensorRef(None)
            if not isinstance(value, TensorRef):
                self.error(
                    codes.WRONG_TYPE,
                    f"`->` passes a value (a tensor) on, got {shown(value)}",
                    term.span,
                    frame,
                )
                return TensorRef(None)
            if isinstance(term, S.Repeat):
                value = self.repeat(term, scope, frame, value)
            elif isinstance(term, S.For):
                value = self.loop(term, scope, frame, value)
            elif isinstance(term, S.If):
                value = self.branch(term, scope, frame, value)
            elif isinstance(term, S.InputExpr) or (
                isinstance(term, S.Word)
                and term.name in frame.env
                and not isinstance(frame.env[term.name], str)
            ):
                self.error(
                    codes.WRONG_TYPE,
                    "only a layer or a block can follow `->`; to combine values use a merge "
                    "such as add(a, b)",
                    term.span,
                    frame,
                )
            else:
                value = self.layers.apply(term, value, scope, frame, first_term=False)
        return value

    def source(self, term: S.Value, scope: Scope, frame: Frame, current: Result) -> Result:
        """The first term of a chain: an input, a name's value, a layer applied to `current`,
        or an expression (arithmetic, a function, `input.shape[-1]`)."""
        if isinstance(term, S.InputExpr):
            return self.layers.input_term(term, frame)
        if isinstance(term, S.Word):
            if term.name in frame.env:
                value = frame.env[term.name]
                if isinstance(value, BranchOnly):
                    value = self.evaluate(term, frame)  # reports it
                    return UNKNOWN if value is _FAILED else value
                if not isinstance(value, str):
                    return value
            elif scope.bound_later(term.name):
                self.builder.used_before_bound(term.name, term.span, frame)
                return TensorRef(None)
        elif isinstance(term, S.AppliedCall):
            pass  # `dense(8)(x)`: a layer applied to the values it names
        elif not isinstance(term, S.Call) or (
            term.name in FUNCTIONS and term.name not in self.blocks
        ):
            value = self.evaluate(term, frame)
            return UNKNOWN if value is _FAILED else value
        if current is NO_CURRENT and self.takes_current(term):
            self.error(
                codes.WRONG_TYPE,
                "after `a, b = ...` there is no current value: start the chain from a name "
                "(`a -> dense(4)`)",
                term.span,
                frame,
            )
            return TensorRef(None)
        if not isinstance(current, TensorRef) and current is not None:
            current = None
        return self.layers.apply(term, current, scope, frame, first_term=True)

    def takes_current(self, term: S.Value) -> bool:
        """A layer or block that a bare line applies to the current value (not a merge)."""
        name = term.name if isinstance(term, (S.Word, S.Call)) else None
        if name is None or name in self.blocks or name in self.layers.models:
            return name is not None
        kind = catalog.lookup(name)
        return kind is not None and not kind.is_merge

    def value(self, term: S.Value, scope: Scope, frame: Frame) -> Result:
        """A value that names what it is (in `output`): a bound name, `input`, an expression."""
        if isinstance(term, S.Word):
            if term.name not in frame.env:
                self.builder.unbound(term, scope, frame)
                return None
            if not isinstance(frame.env[term.name], BranchOnly):
                return frame.env[term.name]
        if isinstance(term, S.InputExpr):
            return self.layers.input_term(term, frame)
        if isinstance(term, S.Call) and term.name not in FUNCTIONS:
            return self.source(term, scope, frame, None)  # a merge: `output add(a, b), a`
        value = self.evaluate(term, frame)
        return UNKNOWN if value is _FAILED else value

    def evaluate(self, term: S.Value, frame: Frame) -> Any:
        """The value of an expression, or _FAILED once its problem is reported."""
        try:
            return evaluate(
                term, frame.env, self.arguments.layer_value_hook(frame), _Tensors(self, frame)
            )
        except ValueError_ as exc:
            self.error(exc.code, exc.message, exc.span, frame, help=exc.help)
        except Unknown:
            pass
        return _FAILED


_FAILED = object()
