"""Lowering a call's arguments: evaluation, binding to a kind or a block, layer names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from netspec import codes
from netspec.diagnostics import Span
from netspec.language import syntax as S
from netspec.language.evaluate import (
    Several,
    TensorHooks,
    TensorRef,
    Unknown,
    ValueError_,
    evaluate,
)
from netspec.language.lower_graph import GraphBuilder
from netspec.language.names import name_problem
from netspec.language.scope import Frame
from netspec.language.values import shown
from netspec.layers import catalog
from netspec.layers.catalog import LayerKind, LayerSpec, ValueKind
from netspec.layers.core import INPUT
from netspec.layers.resolve import INVALID, ArgumentProblem, bind_arguments, suggestion

# Keyword arguments that are not layer arguments: the layer's name and Keras' input forms.
RESERVED_KEYWORDS = ("name", "input_shape", "input_dim", "batch_size", "batch_input_shape")


@dataclass(frozen=True)
class BoundCall:
    """A call's arguments bound to a kind: the values, which were given, the layer's name,
    whether all are usable, and where each argument stands (by its name)."""

    args: dict[str, Any]
    explicit: frozenset[str]
    name: str
    valid: bool
    spans: dict[str, Span]


class ArgumentBinder:
    """Binds the calls of one model to layer kinds and blocks, and names its layers as Keras
    does (a counter per class prefix; names unique in the model)."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.error = builder.error
        # What evaluation asks about tensors in a frame (`input.shape`): set by the lowering.
        self.tensors: Callable[[Frame], TensorHooks] | None = None
        self.counters: dict[str, int] = {}
        self.names: dict[str, Span] = {}

    def split_arguments(
        self,
        arguments: tuple[S.Argument, ...],
        frame: Frame,
        skip: int = 0,
        kind: LayerKind | None = None,
        *,
        takes_values: bool = False,
    ) -> tuple[list, list, dict[int, Span], dict[str, Span], bool]:
        """Evaluate a call's arguments: (positional, keywords, their spans, ok). Values
        (tensors) are arguments of blocks only (`takes_values`)."""
        positional: list[Any] = []
        keywords: list[tuple[str, Any]] = []
        position_spans: dict[int, Span] = {}
        keyword_spans: dict[str, Span] = {}
        ok = True
        hook = self.layer_value_hook(frame)
        tensors = self.tensors(frame) if self.tensors is not None and arguments else None
        for argument in arguments[skip:]:
            node = argument.value
            if kind is not None:
                node = _bare_layer(kind, argument, len(positional), node, frame)
            try:
                value = evaluate(node, frame.env, hook, tensors)
            except ValueError_ as exc:
                # Keep the argument's place so that no "missing argument" follows from it.
                self.error(exc.code, exc.message, exc.span, frame, help=exc.help)
                ok = False
                value = INVALID
            except Unknown:
                ok = False
                value = INVALID
            if not takes_values and _holds_tensor(value):
                self.error(
                    codes.WRONG_TYPE,
                    "a value (a tensor) cannot be a layer's argument; pass values along a chain "
                    "(`x -> dense(4)`) or to a merge (`add(a, b)`)",
                    argument.value.span,
                    frame,
                )
                ok = False
                value = INVALID
            if argument.name is None:
                if keywords:
                    self.error(
                        codes.WRONG_TYPE,
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
            if kind is None or kind.is_merge or kind is INPUT:
                return None
            bound = self.bind(kind, call, frame)
            if not bound.valid:
                raise ValueError_(codes.WRONG_TYPE, f"invalid arguments for {kind.name}", call.span)
            return LayerSpec(kind.name, bound.args, bound.name, bound.explicit, kind)

        return hook

    def bind(self, kind: LayerKind, call: S.Value, frame: Frame, *, skip: int = 0) -> BoundCall:
        """Bind a call's arguments to `kind`, reporting what does not fit."""
        arguments = call.arguments if isinstance(call, S.Call) else ()
        positional, keywords, pspans, kspans, ok = self.split_arguments(
            arguments, frame, skip, kind
        )
        explicit_name: str | None = None
        rest: list[tuple[str, Any]] = []
        for key, value in keywords:
            if key == "name":
                if value is INVALID:
                    ok = False
                elif not isinstance(value, str):
                    self.error(
                        codes.WRONG_TYPE,
                        f"a layer name is a word or a string, got {shown(value)}",
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
        spans = {
            **{kind.args[i].name: span for i, span in pspans.items() if i < len(kind.args)},
            **kspans,
        }
        # An unknown or repeated keyword leaves every argument bound: shapes can still be checked.
        unusable = [
            p for p in problems if p.code not in (codes.UNKNOWN_ARGUMENT, codes.DUPLICATE_ARGUMENT)
        ]
        return BoundCall(args, explicit, name, ok and not unusable, spans)

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
            if problem.code not in (
                codes.UNKNOWN_ARGUMENT,
                codes.DUPLICATE_ARGUMENT,
            ) and isinstance(call, S.Call):
                span = _argument_value_span(call, problem.keyword) or span
        elif problem.position is not None and problem.position in pspans:
            span = pspans[problem.position]
        if problem.inner is not None and isinstance(call, S.Call):
            span = _inner_argument_span(call, problem, len(call.arguments) - len(pspans)) or span
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
        for inner in kind.inner_auto_names:
            self.counters[inner] = self.counters.get(inner, 0) + 1
        where = name_span or span
        problem = name_problem(name) if explicit is not None else None
        if problem is not None:
            self.error(
                codes.UNUSABLE_NAME, f"layer name {name!r} cannot be used: {problem}", where, frame
            )
        if name in self.names:
            first = self.names[name]
            self.error(
                codes.DUPLICATE_LAYER_NAME,
                f"two layers are named `{name}` (the first at line {first.line}); layer names must be unique",
                where,
                frame,
            )
        else:
            self.names[name] = where
        return name

    def operation_name(self, kind: LayerKind, span: Span, frame: Frame) -> str:
        """The name of an operation on values (`x * 0.5` is `multiply_op`, then
        `multiply_op_1`): counted apart from the layers, so that Keras' layer names stay as if it
        were not there, and distinct from every layer name given so far."""
        prefix = kind.auto_name + "_op"
        while True:
            count = self.counters.get(prefix, 0)
            self.counters[prefix] = count + 1
            name = prefix if count == 0 else f"{prefix}_{count}"
            if name not in self.names:
                self.names[name] = span
                return name

    def use_name(self, model: str, span: Span, frame: Frame) -> str:
        """The name of a second or later use of a nested model (`encoder_use2`): not a Keras
        layer (every use is the one layer named `encoder`), but a distinct value to generate."""
        prefix = model + "_use"
        while True:
            count = self.counters.get(prefix, 2)
            self.counters[prefix] = count + 1
            name = f"{prefix}{count}"
            if name not in self.names:
                self.names[name] = span
                return name

    def block_env(self, block: S.Block, term, arguments, frame: Frame) -> dict[str, Any] | None:
        positional, keywords, pspans, kspans, ok = self.split_arguments(
            arguments, frame, takes_values=True
        )
        params = block.params
        if len(positional) > len(params):
            self.error(
                codes.BLOCK_ARGUMENT_COUNT,
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
                    codes.UNKNOWN_ARGUMENT,
                    f"block {block.name} has no parameter `{key}`" + suggestion(key, list(names)),
                    kspans[key],
                    frame,
                )
                ok = False
            elif key in env:
                self.error(
                    codes.DUPLICATE_ARGUMENT,
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
                    codes.BLOCK_ARGUMENT_COUNT,
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


def _bare_layer(
    kind: LayerKind, argument: S.Argument, position: int, node: S.Value, frame: Frame
) -> S.Value:
    """A bare kind where a layer is taken (`time_distributed(flatten)`) is that kind with its
    defaults, as `flatten()` is; a block parameter holding a kind's name counts too."""
    if not isinstance(node, S.Word):
        return node
    if argument.name is not None:
        target = kind.arg(argument.name)
    else:
        target = kind.args[position] if position < len(kind.args) else None
    if target is None or target.kind is not ValueKind.LAYER:
        return node
    name = frame.env.get(node.name, node.name)
    if not isinstance(name, str):
        return node
    inner = catalog.lookup(name)
    if inner is None or inner.is_merge or inner is INPUT:
        return node
    return S.Call(node.span, name, (), node.span)


def _holds_tensor(value: Any, depth: int = 0) -> bool:
    """A tensor in a value, looked for in tuples as short as a merge's values (so that a long
    tuple of numbers, passed again at every pass of a loop, is not read every time)."""
    if isinstance(value, (TensorRef, Several)):
        return True
    if not isinstance(value, tuple) or len(value) > _SHORT_TUPLE or depth > 4:
        return False
    return any(_holds_tensor(item, depth + 1) for item in value)


_SHORT_TUPLE = 64


def _argument_value_span(call: S.Call, keyword: str) -> Span | None:
    for argument in call.arguments:
        if argument.name == keyword:
            return argument.value.span
    return None


def _inner_argument_span(call: S.Call, problem: ArgumentProblem, skipped: int) -> Span | None:
    """Where a call value's own argument at fault stands: `l2("x")` points at `"x"`, and an
    unknown keyword of `random_normal(bogus=1)` at `bogus`. `skipped` counts what comes before
    the bound arguments (a merge's tensors)."""
    outer: S.Argument | None = None
    if problem.keyword is not None:
        outer = next((a for a in call.arguments if a.name == problem.keyword), None)
    elif problem.position is not None:
        positional = [a for a in call.arguments if a.name is None][max(skipped, 0) :]
        outer = positional[problem.position] if problem.position < len(positional) else None
    if outer is None or problem.inner is None:
        return None
    naming = problem.code in (codes.UNKNOWN_ARGUMENT, codes.DUPLICATE_ARGUMENT)
    return call_argument_span(outer.value, problem.inner, naming)


def call_argument_span(node: S.Value, inner: int | str, naming: bool = False) -> Span | None:
    """Where a call value's own argument stands in the text (`huber(delta=-1)`: at `-1`, or at
    `delta` when `naming`); None when the value is not written as a call there."""
    if not isinstance(node, S.Call):
        return None
    if isinstance(inner, int):
        positional = [a for a in node.arguments if a.name is None]
        argument = positional[inner] if inner < len(positional) else None
    else:
        argument = next((a for a in node.arguments if a.name == inner), None)
    if argument is None:
        return None
    return (argument.name_span or argument.span) if naming else argument.value.span
