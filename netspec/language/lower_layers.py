"""Lowering layers, merges, inputs and block uses into IR nodes."""

from __future__ import annotations

from collections.abc import Callable

from netspec import codes
from netspec.diagnostics import LimitExceeded, Span
from netspec.language import syntax as S
from netspec.language.evaluate import TensorRef, Unknown, ValueError_, evaluate
from netspec.language.ir import BlockUse
from netspec.language.lower_arguments import ArgumentBinder
from netspec.language.lower_graph import GraphBuilder
from netspec.language.nesting import ModelLibrary, nested_kind
from netspec.language.scope import Frame, Names, Scope, bound_names, scopes
from netspec.language.values import BranchOnly
from netspec.layers import catalog
from netspec.layers.catalog import LayerKind
from netspec.layers.common import DTYPES, UNUSABLE_ACTIVATIONS
from netspec.layers.core import INPUT
from netspec.layers.resolve import did_you_mean, suggestion

MAX_BLOCK_DEPTH = 32
NESTED_NAME_KIND = INPUT  # any kind: a nested model's layer name is always given
MAX_DIMENSION = 2**63 - 1


# The statements' lowering of a body: (statements, scope, frame, current value) -> its value.
BodyLowering = Callable[[tuple[S.Statement, ...], Scope, Frame, TensorRef | None], TensorRef | None]


class LayerLowering:
    """Applies layers, merges and blocks to values: one model's nodes, through its builder.
    A block's body is lowered by `body`, the statements' own lowering."""

    def __init__(
        self,
        builder: GraphBuilder,
        arguments: ArgumentBinder,
        blocks: dict[str, S.Block],
        body: BodyLowering,
        library: ModelLibrary | None = None,
    ) -> None:
        self.builder = builder
        self.models = library if library is not None else ModelLibrary([], _no_model)
        self.nested_uses: dict[str, int] = {}  # model name -> the node of its first use
        self.arguments = arguments
        self.blocks = blocks
        self.body = body
        self.error = builder.error
        self.mark_used = builder.mark_used
        self.no_input = builder.no_input
        self.add_node = builder.add_node
        self.bound: dict[str, frozenset[str]] = {}  # the names each block's body binds

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
        if result is None or (isinstance(result, TensorRef) and result.node is None):
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
        if isinstance(term, S.AppliedCall):
            return self.applied(term, value, scope, frame, first_term=first_term)
        if isinstance(term, S.Word):
            name, arguments, name_span = term.name, (), term.span
        elif isinstance(term, S.Call):
            name, arguments, name_span = term.name, term.arguments, term.name_span
        else:
            self.error(
                codes.WRONG_TYPE, "expected a layer, a block or a bound name here", term.span, frame
            )
            return TensorRef(None)
        if name in frame.env and isinstance(frame.env[name], str) and not arguments:
            # A block parameter whose value names a layer kind: `block b(act=relu) { act }`.
            name = frame.env[name]
        if name in self.blocks:
            return self.expand_block(self.blocks[name], term, arguments, value, scope, frame)
        kind = catalog.lookup(name)
        if kind is None and name in self.models:
            # A layer kind keeps its meaning: a model named `dense` is not nested by `dense(4)`.
            return self.nest(name, term, arguments, [value], frame)
        if kind is None:
            self.unknown_kind(name, name_span, scope, frame)
            # Names passed to an unknown merge still count as used: report the cause only.
            for argument in arguments:
                if isinstance(argument.value, S.Word):
                    found = frame.env.get(argument.value.name)
                    self.mark_used(found if isinstance(found, TensorRef) else None)
            return TensorRef(None)
        if kind.is_merge:
            return self.merge(kind, term, arguments, value, scope, frame, first_term)
        if kind is INPUT:
            self.error(codes.WRONG_TYPE, "write an input as `input [shape]`", term.span, frame)
            return TensorRef(None)
        return self.layer(kind, term, arguments, value, frame)

    def applied(
        self,
        term: S.AppliedCall,
        value: TensorRef | None,
        scope: Scope,
        frame: Frame,
        *,
        first_term,
    ) -> TensorRef | None:
        """`kind(args)(v1, v2, ...)`: the layer or block applied to the values given, as Keras
        calls a layer; it starts a chain, since the values it takes are all written out."""
        call = term.call
        if not first_term:
            self.error(
                codes.WRONG_TYPE,
                f"`{call.name}(...)(...)` is applied to the values in its second parentheses; "
                f"it cannot also follow `->` (write `-> {call.name}(...)` instead)",
                term.span,
                frame,
            )
            return TensorRef(None)
        inputs: list[TensorRef] = []
        for argument in term.values:
            tensor = None
            if argument.name is None:
                tensor = self.tensor_argument(argument.value, scope, frame)
            if tensor is None:
                self.error(
                    codes.WRONG_TYPE,
                    f"`{call.name}(...)` is applied to values (bound names or `input`); "
                    "put its own arguments in the first parentheses",
                    argument.span,
                    frame,
                )
                return TensorRef(None)
            inputs.append(tensor)
        name = call.name
        if name in frame.env and isinstance(frame.env[name], str) and not call.arguments:
            name = frame.env[name]
        block = self.blocks.get(name)
        if block is None and name in self.models and catalog.lookup(name) is None:
            return self.nest(name, call, call.arguments, inputs, frame)
        kind = None if block is not None else catalog.lookup(name)
        if block is None and kind is None:
            self.unknown_kind(name, call.name_span, scope, frame)
            return self.refused(inputs)
        if block is not None or not kind.is_merge:
            if len(inputs) != 1:
                what = f"block {name}" if block is not None else name
                self.error(
                    codes.MERGE_ARITY,
                    f"{what} is applied to one value, got {len(inputs)}",
                    term.values_span,
                    frame,
                )
                return self.refused(inputs)
            return self.apply_term(call, inputs[0], scope, frame, first_term=False)
        return self.merge_inputs(kind, call, call.arguments, inputs, frame, skip=0)

    def refused(self, inputs: list[TensorRef | None]) -> TensorRef:
        """The unknown value of a use refused with its diagnostic: the values it was given
        count as used, so the failure is reported once, not again as unused values."""
        for tensor in inputs:
            self.mark_used(tensor)
        return TensorRef(None)

    def nest(
        self, name: str, term: S.Value, arguments, inputs: list[TensorRef | None], frame: Frame
    ) -> TensorRef:
        """A model used as a layer: one node whose shape and weights are the model's; every use
        after the first shares the first one's weights."""
        span = term.name_span if isinstance(term, S.Call) else term.span
        if arguments:
            self.error(
                codes.WRONG_TYPE,
                f"model {name} is used as a layer and takes no arguments; "
                f"write `{name}` or `{name}()(x)`",
                term.span,
                frame,
            )
            return self.refused(inputs)
        cycle = self.models.cycle(name)
        if cycle is not None:
            self.error(
                codes.RECURSIVE_BLOCK,
                f"model {name} contains itself ({' -> '.join(cycle)}); a model cannot be a "
                "layer of itself",
                span,
                frame,
            )
            return self.refused(inputs)
        graph = self.models.graph(name)
        if len(graph.outputs) > 1:
            self.error(
                codes.VALUE_COUNT,
                f"model {name} gives {len(graph.outputs)} values; a model used as a layer "
                "gives one here (a block can give several with `output a, b`)",
                span,
                frame,
            )
            return self.refused(inputs)
        if any(tensor is None for tensor in inputs):
            self.no_input(term.span, frame)
            return TensorRef(None)
        if len(inputs) != len(graph.inputs):
            self.error(
                codes.MERGE_ARITY,
                f"model {name} takes {len(graph.inputs)} values, got {len(inputs)}",
                term.span,
                frame,
            )
            return self.refused(inputs)
        if any(tensor.node is None for tensor in inputs if tensor is not None):
            return TensorRef(None)
        first = self.nested_uses.get(name)
        if first is None:
            # Keras names the nested model's layer by the model's name.
            layer_name = self.arguments.layer_name(NESTED_NAME_KIND, name, span, span, frame)
        else:
            layer_name = self.arguments.use_name(name, span, frame)
        node = self.add_node(
            nested_kind(graph, first_use=first is None),
            {},
            tuple(t.node for t in inputs if t is not None and t.node is not None),
            term.span,
            frame,
            layer_name,
            frozenset({"name"}),
        )
        node.submodel = graph
        node.shares = first
        if first is None:
            self.nested_uses[name] = node.id
        return TensorRef(node.id)

    def unknown_kind(self, name: str, span: Span, scope: Scope, frame: Frame) -> None:
        if scope.bound_later(name):
            self.builder.used_before_bound(name, span, frame)
            return
        if name in UNUSABLE_ACTIVATIONS:
            reason = UNUSABLE_ACTIVATIONS[name]
            self.error(
                codes.UNKNOWN_NAME, f"activation `{name}` cannot be used: {reason}", span, frame
            )
            return
        close = did_you_mean(name, [*catalog.known_names(), *self.blocks, *self.models.names])
        if close:
            hint = f"; did you mean `{close}`?"
        else:
            hint = suggestion(name, [n for s in scopes(scope) for n in s.names])
        self.error(codes.UNKNOWN_NAME, f"unknown layer kind `{name}`{hint}", span, frame)

    def layer(
        self, kind: LayerKind, term: S.Value, arguments, value: TensorRef | None, frame: Frame
    ) -> TensorRef:
        keyword_values = {a.name: a for a in arguments if a.name}
        shape_argument = keyword_values.get("input_shape")
        if shape_argument is None and kind.arg("input_dim") is None:
            shape_argument = keyword_values.get("input_dim")
        if shape_argument is not None:
            value = self.keras_input(shape_argument, value, frame)
        bound = self.arguments.bind(kind, term, frame)
        args = bound.args
        if kind.fixed_activation:
            args = {**args, "activation": kind.fixed_activation}
        if value is None:
            self.no_input(term.span, frame)
            return TensorRef(None)
        if value.node is None:
            return TensorRef(None)
        node = self.add_node(
            kind, args, (value.node,), term.span, frame, bound.name, bound.explicit, bound.valid
        )
        node.arg_spans = bound.spans
        return TensorRef(node.id)

    def keras_input(
        self, argument: S.Argument, value: TensorRef | None, frame: Frame
    ) -> TensorRef | None:
        """`dense(4, input_shape=[2])`: the Keras form of `input [2]` before the first layer."""
        if value is not None:
            self.error(
                codes.MISPLACED_STATEMENT,
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
                codes.WRONG_TYPE,
                f"`{argument.name}` takes a shape such as [28, 28, 1]",
                shape.span,
                frame,
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
        return self.merge_inputs(kind, term, arguments, inputs, frame, skip)

    def merge_inputs(self, kind, term, arguments, inputs, frame, skip):
        """A layer of several inputs applied to `inputs`, its own arguments after `skip`."""
        bound = self.arguments.bind(kind, term, frame, skip=skip)
        count = len(inputs)
        if count < kind.min_inputs or count > kind.max_inputs:
            if kind.min_inputs == kind.max_inputs:
                wanted = f"exactly {kind.min_inputs}"
            elif count > kind.max_inputs:
                wanted = f"at most {kind.max_inputs}"
            else:
                wanted = f"at least {kind.min_inputs}"
            self.error(
                codes.MERGE_ARITY,
                f"{kind.name} merges {wanted} values, got {count}",
                term.span,
                frame,
            )
            return TensorRef(None)
        if any(i is None or i.node is None for i in inputs):
            return TensorRef(None)
        node = self.add_node(
            kind,
            bound.args,
            tuple(i.node for i in inputs),
            term.span,
            frame,
            bound.name,
            bound.explicit,
            bound.valid,
        )
        node.arg_spans = bound.spans
        return TensorRef(node.id)

    def tensor_argument(self, value: S.Value, scope: Scope, frame: Frame) -> TensorRef | None:
        """A merge's positional argument as a tensor: a bound name, `input`, or a chain value."""
        if isinstance(value, S.InputExpr):
            return self.input_term(value, frame)
        if isinstance(value, S.Word):
            if value.name in frame.env:
                found = frame.env[value.name]
                if isinstance(found, BranchOnly):
                    self.error(
                        codes.USED_BEFORE_BOUND,
                        f"`{value.name}` is bound in only some branches of the `if` at line "
                        f"{found.line}",
                        value.span,
                        frame,
                        help="bind it in every branch, or before the `if`",
                    )
                    return TensorRef(None)
                return found if isinstance(found, TensorRef) else None
            known_kind = catalog.lookup(value.name) is not None or value.name in self.blocks
            if scope.bound_later(value.name) or not known_kind:
                self.builder.unbound(value, scope, frame)
                return TensorRef(None)
        if (
            isinstance(value, (S.BinaryOp, S.Negate, S.MethodCall, S.AppliedCall))
            and self.arguments.tensors
        ):
            # `add(x, y * 0.5)`, `concat(d, ops.abs(d))`: an expression of values.
            try:
                found = evaluate(
                    value,
                    frame.env,
                    self.arguments.layer_value_hook(frame),
                    self.arguments.tensors(frame),
                )
            except ValueError_ as exc:
                self.error(exc.code, exc.message, exc.span, frame, help=exc.help)
                return TensorRef(None)
            except Unknown:
                return TensorRef(None)
            return found if isinstance(found, TensorRef) else None
        return None

    def expand_block(
        self, block: S.Block, term, arguments, value, scope, frame
    ) -> TensorRef | None:
        if block.name in frame.stack:
            cycle = " -> ".join((*frame.stack[frame.stack.index(block.name) :], block.name))
            self.error(
                codes.RECURSIVE_BLOCK, f"block {block.name} uses itself ({cycle})", term.span, frame
            )
            return TensorRef(None)
        if len(frame.stack) >= MAX_BLOCK_DEPTH:
            raise LimitExceeded(f"blocks nested more than {MAX_BLOCK_DEPTH} deep", term.span)
        env = self.arguments.block_env(block, term, arguments, frame)
        if env is None:
            return TensorRef(None)
        if value is None:
            self.no_input(term.span, frame)
            return TensorRef(None)
        use = BlockUse(block.name, term.span)
        later = self.bound.get(block.name)
        if later is None:
            later = self.bound[block.name] = bound_names(block.body)
        block_scope = Scope(later=later)
        inner = Frame(
            Names(block_scope, env), (*frame.origin, use), value, (*frame.stack, block.name)
        )
        self.builder.enter(term.span)
        try:
            self.builder.charge(block.span)
            result = self.body(block.body, block_scope, inner, value)
        finally:
            self.builder.leave()
        return result if result is not None else value

    def input_term(self, term: S.InputExpr, frame: Frame) -> TensorRef:
        if term.shape is None:
            if frame.block_input is not None:
                return frame.block_input
            self.error(
                codes.WRONG_TYPE,
                "`input` needs a shape in a model: `input [28, 28, 1]`",
                term.span,
                frame,
            )
            return TensorRef(None)
        if frame.block_input is not None:
            self.error(
                codes.MISPLACED_STATEMENT,
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
                    codes.WRONG_TYPE,
                    f"an input dimension is an integer or None, got {dim!r}",
                    item.span,
                    frame,
                )
                valid = False
            elif dim <= 0:
                self.error(
                    codes.VALUE_OUT_OF_RANGE,
                    f"an input dimension must be >= 1, got {dim}",
                    item.span,
                    frame,
                )
                valid = False
            elif dim > MAX_DIMENSION:
                digits = len(str(dim))
                self.error(
                    codes.VALUE_OUT_OF_RANGE,
                    f"an input dimension of {digits} digits is out of range",
                    item.span,
                    frame,
                )
                valid = False
        dtype = term.dtype or "float32"
        if dtype not in DTYPES:
            self.error(
                codes.UNKNOWN_NAME,
                f"unknown dtype `{dtype}`" + suggestion(dtype, DTYPES),
                term.dtype_span or term.span,
                frame,
            )
            valid = False
        layer_name = self.arguments.layer_name(INPUT, name, None, term.span, frame)
        explicit = frozenset({"shape", "name"} if name else {"shape"})
        node = self.add_node(
            INPUT,
            {"shape": tuple(shape), "dtype": dtype},
            (),
            term.span,
            frame,
            layer_name,
            explicit,
            valid,
        )
        self.builder.graph.inputs.append(node.id)
        return TensorRef(node.id)


def _no_model(name: str):
    raise AssertionError(f"no model library: {name}")  # pragma: no cover
