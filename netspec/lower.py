"""AST to IR: expand blocks, repeats and loops, resolve names and arguments, name layers as Keras."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netspec import catalog
from netspec import syntax as S
from netspec.catalog import LayerKind, LayerSpec
from netspec.catalog.common import DTYPES
from netspec.catalog.resolve import (
    INVALID,
    ArgumentProblem,
    bind_arguments,
    did_you_mean,
    suggestion,
)
from netspec.catalog.training import LOSSES, METRICS, OPTIMIZERS, canonical_loss
from netspec.diagnostics import DiagnosticSink, LimitExceeded, Note, Span
from netspec.evaluate import TensorRef, ValueError_, evaluate
from netspec.ir import BlockUse, CompileSpec, Graph, Node, Program
from netspec.names import camel_case, name_problem

MAX_NODES = 20_000  # per model
MAX_REPEAT = 10_000
MAX_BLOCK_DEPTH = 32

# Keras 3's Model.compile arguments.
COMPILE_ARGUMENTS = (
    "optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
    "steps_per_execution", "jit_compile", "auto_scale_loss",
)  # fmt: skip
RESERVED_KEYWORDS = ("name", "input_shape", "input_dim", "batch_size", "batch_input_shape")


class _Stop(Exception):
    """Ends the lowering of one model after a fatal problem (already reported)."""


@dataclass
class Scope:
    """Names bound in one body. Repeat and loop bodies get a child scope per iteration."""

    names: dict[str, tuple[TensorRef, Span]] = field(default_factory=dict)
    parent: Scope | None = None
    later: frozenset[str] = frozenset()  # names bound further down the body (for NS009)

    def find(self, name: str) -> TensorRef | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name][0]
            scope = scope.parent
        return None

    def bound_later(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.later:
                return True
            scope = scope.parent
        return False


@dataclass
class Frame:
    """The context of a body being lowered: its parameters and where it sits in block uses."""

    env: Mapping[str, Any]
    origin: tuple[BlockUse, ...]
    block_input: TensorRef | None  # what `input` means inside a block body
    stack: tuple[str, ...]  # the blocks being expanded, for recursion


def lower(module: S.Module, sink: DiagnosticSink | None = None) -> Program:
    """Lower a parsed file into one IR graph per model, reporting problems to `sink`."""
    sink = sink or DiagnosticSink(module.path)
    blocks: dict[str, S.Block] = {}
    seen: dict[str, Span] = {}
    for definition in module.definitions:
        if definition.name in seen:
            sink.error(
                "NS015",
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
        if cls in classes and classes[cls] != model.name:
            sink.error(
                "NS020",
                f"models `{classes[cls]}` and `{model.name}` would both generate class {cls}",
                model.name_span,
            )
        classes.setdefault(cls, model.name)
    graphs = [_ModelLowering(model, blocks, sink, module.path).run() for model in module.models]
    return Program(module.path, module.text, graphs, sink.items, tuple(blocks))


def _check_block_params(block: S.Block, sink: DiagnosticSink) -> None:
    names: set[str] = set()
    for param in block.params:
        if param.name in names:
            sink.error(
                "NS008",
                f"parameter `{param.name}` of block {block.name} is listed twice",
                param.span,
            )
        names.add(param.name)


def _bound_names(body: tuple[S.Statement, ...]) -> frozenset[str]:
    return frozenset(s.name for s in body if isinstance(s, S.Binding))


class _ModelLowering:
    def __init__(self, model: S.Model, blocks: dict[str, S.Block], sink: DiagnosticSink, path: str):
        self.model = model
        self.blocks = blocks
        self.sink = sink
        self.graph = Graph(model.name, path, model.span, model.name_span)
        self.counters: dict[str, int] = {}
        self.names: dict[str, Span] = {}
        self.reported_no_input = False
        self.last_arg_spans: dict[str, Span] = {}
        self.used: set[int] = set()  # referenced by name where the reference itself failed

    # ---- driver ---------------------------------------------------------------------------

    def run(self) -> Graph:
        frame = Frame({}, (), None, ())
        scope = Scope(later=_bound_names(self.model.body))
        try:
            last = self.body(self.model.body, scope, frame, None, is_model=True)
        except _Stop:
            self.graph.complete = False
            return self.graph
        except LimitExceeded as exc:
            self.sink.error("NS016", exc.message, exc.span)
            self.graph.complete = False
            return self.graph
        if not self.graph.inputs and not self.reported_no_input:
            self.sink.error(
                "NS013",
                f"model {self.model.name} has no input: nothing can be checked",
                self.model.name_span,
                help="start the model with `input [shape]`, e.g. `input [28, 28, 1]`",
            )
        if not self.graph.outputs and last is not None and last.node is not None:
            self.graph.outputs = [last.node]
        self.report_unused()
        return self.graph

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
                "NS010",
                f"{what} is never used: it feeds no layer and is not an output",
                node.span,
                notes=block_notes(node.origin),
                help="use it, list it in `output`, or remove it",
            )

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
                "NS008",
                f"`{stmt.name}` is already bound (line {first.line}); a name is bound once",
                stmt.name_span,
                frame,
            )
        elif stmt.name in frame.env:
            self.error("NS008", f"`{stmt.name}` is a parameter of the block", stmt.name_span, frame)
        if value is None:
            value = TensorRef(None)
        scope.names[stmt.name] = (value, stmt.name_span)
        if value.node is not None:
            node = self.graph.nodes[value.node]
            if node.binding is None:
                node.binding = stmt.name
        return value

    def output(self, stmt: S.Output, scope: Scope, frame: Frame, is_model: bool):
        refs = [self.reference(word, scope, frame) for word in stmt.names]
        if not is_model and len(refs) > 1:
            self.error(
                "NS018", "a block has one result; `output` takes one name here", stmt.span, frame
            )
        if is_model:
            if self.graph.outputs:
                self.error("NS018", "a model has one `output` statement", stmt.span, frame)
            self.graph.outputs = [r.node for r in refs if r is not None and r.node is not None]
        return refs[-1] if refs else None

    def compile(self, stmt: S.Compile, frame: Frame, is_model: bool) -> None:
        if not is_model:
            self.error("NS018", "`compile` belongs in a model, not in a block", stmt.span, frame)
            return
        if self.graph.compile is not None:
            self.error("NS018", "a model has at most one `compile`", stmt.span, frame)
            return
        args: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for argument in stmt.arguments:
            if argument.name is None:
                self.error(
                    "NS006",
                    "compile takes keyword arguments: loss=..., optimizer=..., metrics=[...]",
                    argument.span,
                    frame,
                )
                continue
            if argument.name in args:
                self.error("NS004", f"`{argument.name}` is given twice", argument.span, frame)
                continue
            if argument.name not in COMPILE_ARGUMENTS:
                self.error(
                    "NS003",
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
            self.check_training_name(argument.name, value, argument.value.span, frame)
        self.graph.compile = CompileSpec(args, stmt.span, spans)

    def check_training_name(self, key: str, value: Any, span: Span, frame: Frame) -> None:
        known = {"loss": LOSSES, "optimizer": OPTIMIZERS, "metrics": METRICS}.get(key)
        if known is None:
            return
        values = value if key == "metrics" and isinstance(value, tuple) else (value,)
        for item in values:
            name = item.name if isinstance(item, catalog.CallValue) else item
            if not isinstance(name, str):
                continue
            canonical = canonical_loss(name) if key in ("loss", "metrics") else name.lower()
            if canonical in known or name in known:
                continue
            self.error(
                "NS002",
                f"unknown {'metric' if key == 'metrics' else key} `{name}`"
                + suggestion(name, known),
                span,
                frame,
            )

    def repeat(self, stmt: S.Repeat, scope: Scope, frame: Frame, current: TensorRef | None):
        try:
            count = evaluate(stmt.count, frame.env)
        except ValueError_ as exc:
            self.error(exc.code, exc.message, exc.span, frame)
            return current
        if not isinstance(count, int) or isinstance(count, bool):
            self.error(
                "NS006", f"repeat needs an integer count, got {count!r}", stmt.count.span, frame
            )
            return current
        if count < 0:
            self.error("NS007", f"repeat count must be >= 0, got {count}", stmt.count.span, frame)
            return current
        if count > MAX_REPEAT:
            raise LimitExceeded(
                f"repeat count {count:,} exceeds the limit of {MAX_REPEAT:,}", stmt.count.span
            )
        later = _bound_names(stmt.body)
        for _ in range(count):
            current = self.body(stmt.body, Scope(parent=scope, later=later), frame, current)
        return current

    def loop(self, stmt: S.For, scope: Scope, frame: Frame, current: TensorRef | None):
        try:
            values = evaluate(stmt.values, frame.env, self.layer_value_hook(frame))
        except ValueError_ as exc:
            self.error(exc.code, exc.message, exc.span, frame)
            return current
        if not isinstance(values, tuple):
            self.error(
                "NS006",
                "`for` needs a tuple of values: for f in (64, 128) { ... }",
                stmt.values.span,
                frame,
            )
            return current
        if len(values) > MAX_REPEAT:
            raise LimitExceeded(
                f"`for` over {len(values):,} values exceeds {MAX_REPEAT:,}", stmt.values.span
            )
        later = _bound_names(stmt.body)
        for item in values:
            env = {**frame.env, stmt.var: item}
            inner = Frame(env, frame.origin, frame.block_input, frame.stack)
            current = self.body(stmt.body, Scope(parent=scope, later=later), inner, current)
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
            # `tokens = input [200] int32`: the input takes its binding's name.
            value = self.make_input(first, input_name, frame)
        else:
            value = self.source(first, scope, frame, current)
        for term in rest:
            if isinstance(term, S.InputExpr) or (
                isinstance(term, S.Word) and scope.find(term.name) is not None
            ):
                self.error(
                    "NS006",
                    "only a layer or a block can follow `->`; to combine values use a merge such as add(a, b)",
                    term.span,
                    frame,
                )
                continue
            value = self.apply(term, value, scope, frame, first_term=False)
        return value

    def source(self, term: S.Value, scope: Scope, frame: Frame, current: TensorRef | None):
        """The first term of a chain: an input, a bound name, or a layer applied to `current`."""
        if isinstance(term, S.InputExpr):
            return self.input_term(term, frame)
        if isinstance(term, S.Word):
            ref = scope.find(term.name)
            if ref is not None:
                return ref
            if term.name not in frame.env and scope.bound_later(term.name):
                self.error("NS009", f"`{term.name}` is used before it is bound", term.span, frame)
                return TensorRef(None)
        return self.apply(term, current, scope, frame, first_term=True)

    def input_term(self, term: S.InputExpr, frame: Frame) -> TensorRef:
        if term.shape is None:
            if frame.block_input is not None:
                return frame.block_input
            self.error(
                "NS006",
                "`input` needs a shape in a model: `input [28, 28, 1]`",
                term.span,
                frame,
            )
            return TensorRef(None)
        if frame.block_input is not None:
            self.error(
                "NS018",
                "a block takes its input from where it is used; write `input` without a shape",
                term.span,
                frame,
            )
            return frame.block_input
        return self.make_input(term, None, frame)

    def make_input(self, term: S.InputExpr, name: str | None, frame: Frame) -> TensorRef:
        try:
            shape = evaluate(term.shape, frame.env)
        except ValueError_ as exc:
            self.error(exc.code, exc.message, exc.span, frame)
            return TensorRef(None)
        valid = True
        for dim, item in zip(shape, term.shape.items):
            if dim is None:
                continue
            if not isinstance(dim, int) or isinstance(dim, bool):
                self.error(
                    "NS006",
                    f"an input dimension is an integer or None, got {dim!r}",
                    item.span,
                    frame,
                )
                valid = False
            elif dim <= 0:
                self.error("NS007", f"an input dimension must be >= 1, got {dim}", item.span, frame)
                valid = False
        dtype = term.dtype or "float32"
        if dtype not in DTYPES:
            self.error(
                "NS002",
                f"unknown dtype `{dtype}`" + suggestion(dtype, DTYPES),
                term.dtype_span or term.span,
                frame,
            )
            valid = False
        kind = catalog.lookup("input")
        assert kind is not None
        layer_name = self.layer_name(kind, name, None, term.span, frame)
        explicit = frozenset({"shape", "name"} if name else {"shape"})
        node = self.add_node(
            kind,
            {"shape": tuple(shape), "dtype": dtype},
            (),
            term.span,
            frame,
            layer_name,
            explicit,
            valid,
        )
        self.graph.inputs.append(node.id)
        return TensorRef(node.id)

    def reference(self, word: S.Word, scope: Scope, frame: Frame) -> TensorRef | None:
        ref = scope.find(word.name)
        if ref is not None:
            return ref
        self.unbound(word, scope, frame)
        return None

    def unbound(self, word: S.Word, scope: Scope, frame: Frame) -> None:
        """Report a name that stands for no value: bound further down (NS009) or nowhere (NS002)."""
        if scope.bound_later(word.name):
            self.error("NS009", f"`{word.name}` is used before it is bound", word.span, frame)
            return
        known = [n for s in _scopes(scope) for n in s.names]
        message = f"unknown name `{word.name}`" + suggestion(word.name, known)
        self.error("NS002", message, word.span, frame)

    # ---- layers and blocks ----------------------------------------------------------------

    def apply(
        self,
        term: S.Value,
        value: TensorRef | None,
        scope: Scope,
        frame: Frame,
        *,
        first_term: bool,
    ) -> TensorRef | None:
        result = self.apply_term(term, value, scope, frame, first_term=first_term)
        if result is None or result.node is None:
            # The value was passed on; a failure here is reported once, not again as unused.
            self.mark_used(value)
        return result

    def apply_term(
        self,
        term: S.Value,
        value: TensorRef | None,
        scope: Scope,
        frame: Frame,
        *,
        first_term: bool,
    ) -> TensorRef | None:
        if isinstance(term, S.Word):
            name, arguments, name_span = term.name, (), term.span
        elif isinstance(term, S.Call):
            name, arguments, name_span = term.name, term.arguments, term.name_span
        else:
            self.error("NS006", "expected a layer, a block or a bound name here", term.span, frame)
            return TensorRef(None)
        if name in frame.env and isinstance(frame.env[name], str) and not arguments:
            # A block parameter whose value names a layer kind: `block b(act=relu) { act }`.
            name = frame.env[name]
        if name in self.blocks:
            return self.expand_block(self.blocks[name], term, arguments, value, scope, frame)
        kind = catalog.lookup(name)
        if kind is None:
            self.unknown_kind(name, name_span, scope, frame)
            # Names passed to an unknown merge still count as used: report the cause only.
            for argument in arguments:
                if isinstance(argument.value, S.Word):
                    self.mark_used(scope.find(argument.value.name))
            return TensorRef(None)
        if kind.is_merge:
            return self.merge(kind, term, arguments, value, scope, frame, first_term)
        if kind.name == "input":
            self.error("NS006", "write an input as `input [shape]`", term.span, frame)
            return TensorRef(None)
        return self.layer(kind, term, arguments, value, frame)

    def unknown_kind(self, name: str, span: Span, scope: Scope, frame: Frame) -> None:
        if scope.bound_later(name):
            self.error("NS009", f"`{name}` is used before it is bound", span, frame)
            return
        close = did_you_mean(name, [*catalog.known_names(), *self.blocks])
        if close:
            hint = f"; did you mean `{close}`?"
        else:
            hint = suggestion(name, [n for s in _scopes(scope) for n in s.names])
        self.error("NS002", f"unknown layer kind `{name}`{hint}", span, frame)

    def split_arguments(
        self, arguments: tuple[S.Argument, ...], frame: Frame, skip: int = 0
    ) -> tuple[list, list, dict[int, Span], dict[str, Span], bool]:
        """Evaluate a call's arguments: (positional, keywords, their spans, ok)."""
        positional: list[Any] = []
        keywords: list[tuple[str, Any]] = []
        position_spans: dict[int, Span] = {}
        keyword_spans: dict[str, Span] = {}
        ok = True
        hook = self.layer_value_hook(frame)
        for argument in arguments[skip:]:
            try:
                value = evaluate(argument.value, frame.env, hook)
            except ValueError_ as exc:
                # Keep the argument's place so that no "missing argument" follows from it.
                self.error(exc.code, exc.message, exc.span, frame)
                ok = False
                value = INVALID
            if argument.name is None:
                if keywords:
                    self.error(
                        "NS006",
                        "a positional argument cannot follow a keyword argument",
                        argument.span,
                        frame,
                    )
                    ok = False
                    continue
                position_spans[len(positional)] = argument.span
                positional.append(value)
            else:
                keyword_spans.setdefault(argument.name, argument.name_span or argument.span)
                keywords.append((argument.name, value))
        return positional, keywords, position_spans, keyword_spans, ok

    def layer_value_hook(self, frame: Frame):
        """Turns `lstm(64)` inside an argument into a LayerSpec, named as Keras would."""

        def hook(call: S.Call, env: Mapping[str, Any]) -> LayerSpec | None:
            kind = catalog.lookup(call.name)
            if kind is None or kind.is_merge or kind.name == "input":
                return None
            args, explicit, name, valid = self.bind(kind, call, frame)
            if not valid:
                raise ValueError_("NS006", f"invalid arguments for {kind.name}", call.span)
            return LayerSpec(kind.name, args, name, explicit)

        return hook

    def bind(self, kind: LayerKind, call: S.Value, frame: Frame, *, skip: int = 0):
        """Bind a call's arguments to `kind`. Returns (args, explicit names, layer name, valid)."""
        arguments = call.arguments if isinstance(call, S.Call) else ()
        positional, keywords, pspans, kspans, ok = self.split_arguments(arguments, frame, skip)
        explicit_name: str | None = None
        rest: list[tuple[str, Any]] = []
        for key, value in keywords:
            if key == "name":
                if not isinstance(value, str):
                    self.error(
                        "NS006",
                        f"a layer name is a word or a string, got {value!r}",
                        kspans[key],
                        frame,
                    )
                    ok = False
                else:
                    explicit_name = value
            elif key in RESERVED_KEYWORDS and kind.arg(key) is None:
                continue  # input_shape and friends: handled by the caller
            else:
                rest.append((key, value))
        args, explicit, problems = bind_arguments(kind, positional, rest)
        if explicit_name is not None:
            explicit = explicit | {"name"}
        for problem in problems:
            self.report_argument(problem, call, pspans, kspans, frame)
        name = self.layer_name(kind, explicit_name, kspans.get("name"), call.span, frame)
        self.last_arg_spans = {
            **{kind.args[i].name: span for i, span in pspans.items() if i < len(kind.args)},
            **kspans,
        }
        return args, explicit, name, ok and not problems

    def report_argument(
        self,
        problem: ArgumentProblem,
        call: S.Value,
        pspans: dict[int, Span],
        kspans: dict[str, Span],
        frame: Frame,
    ) -> None:
        span = call.span
        if problem.keyword is not None and problem.keyword in kspans:
            span = kspans[problem.keyword]
            if problem.code not in ("NS003", "NS004") and isinstance(call, S.Call):
                span = _argument_value_span(call, problem.keyword) or span
        elif problem.position is not None and problem.position in pspans:
            span = pspans[problem.position]
        self.error(problem.code, problem.message, span, frame, help=problem.help)

    def layer_name(
        self,
        kind: LayerKind,
        explicit: str | None,
        name_span: Span | None,
        span: Span,
        frame: Frame,
    ) -> str:
        if explicit is None:
            prefix = kind.auto_name
            count = self.counters.get(prefix, 0)
            self.counters[prefix] = count + 1
            name = prefix if count == 0 else f"{prefix}_{count}"
        else:
            name = explicit
        where = name_span or span
        problem = name_problem(name) if explicit is not None else None
        if problem is not None:
            self.error("NS020", f"layer name {name!r} cannot be used: {problem}", where, frame)
        if name in self.names:
            first = self.names[name]
            self.error(
                "NS014",
                f"two layers are named `{name}` (the first at line {first.line}); layer names must be unique",
                where,
                frame,
            )
        else:
            self.names[name] = where
        return name

    def layer(
        self, kind: LayerKind, term: S.Value, arguments, value: TensorRef | None, frame: Frame
    ) -> TensorRef:
        keyword_values = {a.name: a for a in arguments if a.name}
        shape_argument = keyword_values.get("input_shape")
        if shape_argument is None and kind.arg("input_dim") is None:
            shape_argument = keyword_values.get("input_dim")
        if shape_argument is not None:
            value = self.keras_input(shape_argument, value, frame)
        args, explicit, name, valid = self.bind(kind, term, frame)
        if kind.fixed_activation:
            args = {**args, "activation": kind.fixed_activation}
        if value is None:
            self.no_input(term.span, frame)
            return TensorRef(None)
        if value.node is None:
            return TensorRef(None)
        node = self.add_node(kind, args, (value.node,), term.span, frame, name, explicit, valid)
        node.arg_spans = self.last_arg_spans
        return TensorRef(node.id)

    def keras_input(
        self, argument: S.Argument, value: TensorRef | None, frame: Frame
    ) -> TensorRef | None:
        """`dense(4, input_shape=[2])`: the Keras form of `input [2]` before the first layer."""
        if value is not None:
            self.error(
                "NS018",
                f"`{argument.name}` is only allowed on the first layer of a model",
                argument.span,
                frame,
            )
            return value
        shape = argument.value
        if argument.name == "input_dim":
            shape = S.TupleValue(shape.span, (shape,), "[")
        if not isinstance(shape, S.TupleValue):
            self.error(
                "NS006", f"`{argument.name}` takes a shape such as [28, 28, 1]", shape.span, frame
            )
            return TensorRef(None)
        return self.make_input(S.InputExpr(argument.span, shape, None), None, frame)

    def merge(self, kind, term, arguments, value, scope, frame, first_term):
        inputs: list[TensorRef | None] = []
        if not first_term and value is not None:
            inputs.append(value)
        skip = 0
        for argument in arguments:
            if argument.name is not None:
                break
            tensor = self.tensor_argument(argument.value, scope, frame)
            if tensor is None:
                break
            inputs.append(tensor)
            skip += 1
        args, explicit, name, valid = self.bind(kind, term, frame, skip=skip)
        count = len(inputs)
        if count < kind.min_inputs or count > kind.max_inputs:
            wanted = (
                f"exactly {kind.min_inputs}"
                if kind.min_inputs == kind.max_inputs
                else f"at least {kind.min_inputs}"
            )
            self.error(
                "NS110",
                f"{kind.name} merges {wanted} values, got {count}",
                term.span,
                frame,
            )
            return TensorRef(None)
        if any(i is None or i.node is None for i in inputs):
            return TensorRef(None)
        node = self.add_node(
            kind, args, tuple(i.node for i in inputs), term.span, frame, name, explicit, valid
        )
        node.arg_spans = self.last_arg_spans
        return TensorRef(node.id)

    def tensor_argument(self, value: S.Value, scope: Scope, frame: Frame) -> TensorRef | None:
        """A merge's positional argument as a tensor: a bound name, `input`, or a chain value."""
        if isinstance(value, S.InputExpr):
            return self.input_term(value, frame)
        if isinstance(value, S.Word):
            ref = scope.find(value.name)
            if ref is not None:
                return ref
            if value.name in frame.env:
                return None
            known_kind = catalog.lookup(value.name) is not None or value.name in self.blocks
            if scope.bound_later(value.name) or not known_kind:
                self.unbound(value, scope, frame)
                return TensorRef(None)
        return None

    def expand_block(
        self, block: S.Block, term, arguments, value, scope, frame
    ) -> TensorRef | None:
        if block.name in frame.stack:
            cycle = " -> ".join((*frame.stack[frame.stack.index(block.name) :], block.name))
            self.error("NS011", f"block {block.name} uses itself ({cycle})", term.span, frame)
            return TensorRef(None)
        if len(frame.stack) >= MAX_BLOCK_DEPTH:
            raise LimitExceeded(f"blocks nested more than {MAX_BLOCK_DEPTH} deep", term.span)
        env = self.block_env(block, term, arguments, frame)
        if env is None:
            return TensorRef(None)
        if value is None:
            self.no_input(term.span, frame)
            return TensorRef(None)
        use = BlockUse(block.name, term.span)
        inner = Frame(env, (*frame.origin, use), value, (*frame.stack, block.name))
        block_scope = Scope(later=_bound_names(block.body))
        result = self.body(block.body, block_scope, inner, value)
        return result if result is not None else value

    def block_env(self, block: S.Block, term, arguments, frame: Frame) -> dict[str, Any] | None:
        positional, keywords, pspans, kspans, ok = self.split_arguments(arguments, frame)
        params = block.params
        if len(positional) > len(params):
            self.error(
                "NS012",
                f"block {block.name} takes {len(params)} argument{'s' if len(params) != 1 else ''}, "
                f"got {len(positional)}",
                pspans.get(len(params), term.span),
                frame,
            )
            return None
        env: dict[str, Any] = {p.name: v for p, v in zip(params, positional)}
        names = {p.name for p in params}
        for key, item in keywords:
            if key not in names:
                self.error(
                    "NS003",
                    f"block {block.name} has no parameter `{key}`" + suggestion(key, list(names)),
                    kspans[key],
                    frame,
                )
                ok = False
            elif key in env:
                self.error(
                    "NS004",
                    f"parameter `{key}` of block {block.name} is given twice",
                    kspans[key],
                    frame,
                )
                ok = False
            else:
                env[key] = item
        for param in params:
            if param.name in env:
                continue
            if param.default is None:
                self.error(
                    "NS012",
                    f"block {block.name} needs the argument `{param.name}`",
                    term.span,
                    frame,
                )
                ok = False
                continue
            try:
                env[param.name] = evaluate(param.default, env, self.layer_value_hook(frame))
            except ValueError_ as exc:
                self.error(exc.code, exc.message, exc.span, frame)
                ok = False
        return env if ok else None

    # ---- nodes and diagnostics ------------------------------------------------------------

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
            "NS013",
            f"no input before this layer: model {self.model.name} has no input shape",
            span,
            frame,
            help="start the model with `input [shape]`, or give the first layer input_shape=[...]",
        )

    def error(
        self, code: str, message: str, span: Span, frame: Frame, help: str | None = None
    ) -> None:
        self.sink.error(code, message, span, notes=block_notes(frame.origin), help=help)


def block_notes(origin: tuple[BlockUse, ...]) -> tuple[Note, ...]:
    """ "in block conv_bn, used at line 12", innermost use first."""
    return tuple(
        Note(f"in block {use.block}, used at line {use.span.line}", use.span)
        for use in reversed(origin)
    )


def _scopes(scope: Scope):
    current: Scope | None = scope
    while current is not None:
        yield current
        current = current.parent


def _argument_value_span(call: S.Call, keyword: str) -> Span | None:
    for argument in call.arguments:
        if argument.name == keyword:
            return argument.value.span
    return None
