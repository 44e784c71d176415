"""What the language server knows about one document, without any protocol: positions, the
layers and block uses at each place, hover text, inlay hints and definitions.

Everything here counts as netspec does: 1-based lines, 1-based columns in code points. The
server (netspec.app.lsp) converts to and from the protocol's 0-based positions with `LineIndex`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from netspec.api import lint_document, normalize_newlines
from netspec.check.code_table import lookup
from netspec.check.shapes import CheckedGraph, describe_shape
from netspec.config.settings import Settings
from netspec.diagnostics import Diagnostic, Span
from netspec.language import syntax as S
from netspec.language.ir import BlockUse, Graph, Node
from netspec.layers import catalog

logger = logging.getLogger(__name__)

Point = tuple[int, int]  # (line, column), 1-based, columns in code points

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
# At most this many shapes in one inlay hint, and this many uses listed in one hover.
MAX_HINT_SHAPES = 3
MAX_HOVER_USES = 40


# --- positions -----------------------------------------------------------------------------


def _units(text: str, encoding: str) -> int:
    """The length of `text` in the code units of the negotiated position encoding."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _char_units(char: str, encoding: str) -> int:
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1


class LineIndex:
    """Converts between netspec's places (1-based line and code-point column) and the
    protocol's (0-based line, 0-based character in UTF-16 units, or UTF-8/UTF-32 when the
    client and server agreed on that). Lines end at `\\n`; the text is newline-normalized
    first (a lone CR is a line end, one character for one, as in the protocol)."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.lines = normalize_newlines(text).split("\n")
        self.encoding = encoding if encoding in (UTF8, UTF32) else UTF16

    def _line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def to_client(self, line: int, column: int) -> tuple[int, int]:
        """netspec's (line, column) as the protocol's (line, character), clamped to the text."""
        index = line - 1
        if index >= len(self.lines):
            return self.end()
        index = max(index, 0)
        text = self._line(index)
        return index, _units(text[: max(column - 1, 0)], self.encoding)

    def span_to_client(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        start = self.to_client(span.line, span.column)
        end = self.to_client(span.end_line, span.end_column)
        return start, max(start, end)

    def from_client(self, line: int, character: int) -> Point:
        """The protocol's (line, character) as netspec's (line, column); a character inside a
        surrogate pair or a UTF-8 sequence stands for the code point it is part of."""
        text = self._line(line)
        seen = 0
        for index, char in enumerate(text):
            width = _char_units(char, self.encoding)
            if seen + width > character:
                return line + 1, index + 1
            seen += width
        return line + 1, len(text) + 1

    def end(self) -> tuple[int, int]:
        """The position after the last character of the text."""
        last = len(self.lines) - 1
        return last, _units(self.lines[last], self.encoding)


def _start(span: Span) -> Point:
    return span.line, span.column


def _end(span: Span) -> Point:
    return span.end_line, span.end_column


def contains(span: Span, point: Point, *, end_inclusive: bool = False) -> bool:
    if _start(span) > point:
        return False
    return point <= _end(span) if end_inclusive else point < _end(span)


def _size(span: Span) -> tuple[int, int]:
    return span.end_line - span.line, span.end_column - span.column


def _key(span: Span) -> tuple[int, int, int, int]:
    return span.line, span.column, span.end_line, span.end_column


def name_span(span: Span, name: str) -> Span:
    """The span of a name at the start of `span` (a block parameter `kernel=3` -> `kernel`)."""
    return Span(
        span.line,
        span.column,
        span.line,
        span.column + len(name),
        span.start_pos,
        span.start_pos + len(name),
    )


# --- the model of a document ---------------------------------------------------------------


@dataclass
class Instance:
    """One time a layer or a block use made values: the nodes it made and the one it gave."""

    graph: int  # index into Analysis.checked
    nodes: list[int]
    result: int
    context: tuple[BlockUse, ...]  # the block uses around it, outermost first


@dataclass
class Element:
    """A layer call or a block use in the text, with every instance of it the models made."""

    span: Span
    kind: str  # "layer" or "block"
    name: str  # the layer kind or the block's name
    instances: list[Instance] = field(default_factory=list)


@dataclass(frozen=True)
class Reference:
    """A name in the text and what it stands for."""

    span: Span
    target: Span
    kind: str  # "block", "model", "binding", "parameter" or "loop"
    name: str
    owner: str = ""  # the block or model it belongs to
    binding: S.Binding | None = None


@dataclass
class Analysis:
    """A document linted and understood (nothing but diagnostics when it does not parse)."""

    text: str
    path: str
    diagnostics: list[Diagnostic]
    checked: list[CheckedGraph] = field(default_factory=list)
    elements: dict[tuple, Element] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)


def analyze(text: str, path: str = "<stdin>", settings: Settings | None = None) -> Analysis:
    """Lint `text` and build what hover, hints and definitions need. A document that does not
    parse gets its diagnostics and nothing else."""
    # One pass through the pipeline serves the diagnostics and every feature.
    linted = lint_document(text, path, settings=settings)
    analysis = Analysis(linted.text, path, linted.diagnostics)
    module = linted.module
    if module is None:
        return analysis
    try:
        checked = linted.checked
        elements: dict[tuple, Element] = {}
        for index, one in enumerate(checked):
            _collect_elements(elements, index, one.graph)
        references = list(_References(module).collect())
    except Exception:  # noqa: BLE001 - a fault here must not cost the document its diagnostics
        logger.exception("netspec lsp: cannot analyze %s", path)
        return analysis
    analysis.checked, analysis.elements, analysis.references = checked, elements, references
    return analysis


def _collect_elements(elements: dict[tuple, Element], index: int, graph: Graph) -> None:
    """Each node is an instance of its layer call; the nodes one expansion of a block use made
    are an instance of that use. Lowering makes a new BlockUse for every expansion (each pass
    of a repeat too), so expansions are told apart by the identity of their BlockUse objects."""

    def element(span: Span, kind: str, name: str) -> Element:
        key = (_key(span), kind)
        if key not in elements:
            elements[key] = Element(span, kind, name)
        return elements[key]

    runs: dict[tuple[int, ...], tuple[tuple[BlockUse, ...], list[int]]] = {}
    for node in graph.nodes:
        instance = Instance(index, [node.id], node.id, node.origin)
        element(node.span, "layer", node.kind.name).instances.append(instance)
        for depth in range(len(node.origin)):
            prefix = node.origin[: depth + 1]
            runs.setdefault(tuple(map(id, prefix)), (prefix, []))[1].append(node.id)
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    for prefix, ids in runs.values():
        members = set(ids)
        escaping = [
            i for i in ids if i in outputs or any(c not in members for c in consumers.get(i, []))
        ]
        result = escaping[-1] if escaping else ids[-1]
        use = prefix[-1]
        instance = Instance(index, ids, result, prefix[:-1])
        element(use.span, "block", use.block).instances.append(instance)


class _References:
    """Walks the syntax tree and resolves every name that stands for a block, a binding, a block
    parameter or a loop variable; bindings resolve in their body, then the enclosing ones."""

    def __init__(self, module: S.Module) -> None:
        self.blocks: dict[str, S.Block] = {}
        for block in module.blocks:
            self.blocks.setdefault(block.name, block)
        self.models: dict[str, S.Model] = {}
        for model in module.models:
            self.models.setdefault(model.name, model)
        self.module = module

    def collect(self) -> Iterator[Reference]:
        for definition in self.module.definitions:
            scope: dict[str, Reference] = {}
            if isinstance(definition, S.Block):
                for param in definition.params:
                    # A default may use the parameters before it.
                    if param.default is not None:
                        yield from self._value(param.default, scope, definition.name)
                    target = name_span(param.span, param.name)
                    ref = Reference(target, target, "parameter", param.name, definition.name)
                    scope[param.name] = ref
                    yield ref
            yield from self._body(definition.body, scope, definition.name)

    def _body(
        self, body: tuple[S.Statement, ...], outer: dict[str, Reference], owner: str
    ) -> Iterator[Reference]:
        scope = dict(outer)
        local: set[str] = set()
        for statement in body:
            if isinstance(statement, S.Binding):
                ref = Reference(
                    statement.name_span,
                    statement.name_span,
                    "binding",
                    statement.name,
                    owner,
                    statement,
                )
                # Before any binding, a use refers to the first (it is NS009 anyway).
                if statement.name not in local:
                    local.add(statement.name)
                    scope[statement.name] = ref
                yield ref
        for statement in body:
            yield from self._statement(statement, scope, owner)
            if isinstance(statement, S.Binding):
                # A name bound again: each use below refers to the latest binding above it.
                scope[statement.name] = Reference(
                    statement.name_span,
                    statement.name_span,
                    "binding",
                    statement.name,
                    owner,
                    statement,
                )

    def _statement(
        self, statement: S.Statement, scope: dict[str, Reference], owner: str
    ) -> Iterator[Reference]:
        if isinstance(statement, S.Destructure):
            for word in statement.names:
                yield Reference(word.span, word.span, "binding", word.name, owner)
        if isinstance(statement, (S.Binding, S.ChainStatement, S.Destructure)):
            for term in statement.chain.terms:
                if isinstance(term, (S.Repeat, S.For, S.If)):
                    yield from self._statement(term, scope, owner)
                else:
                    yield from self._value(term, scope, owner)
        elif isinstance(statement, S.Output):
            for value in statement.values:
                yield from self._value(value, scope, owner)
        elif isinstance(statement, S.Compile):
            for argument in statement.arguments:
                yield from self._value(argument.value, scope, owner)
        elif isinstance(statement, S.Repeat):
            yield from self._value(statement.count, scope, owner)
            yield from self._body(statement.body, scope, owner)
        elif isinstance(statement, S.For):
            yield from self._value(statement.values, scope, owner)
            var = Reference(statement.var_span, statement.var_span, "loop", statement.var, owner)
            yield var
            yield from self._body(statement.body, {**scope, statement.var: var}, owner)
        elif isinstance(statement, S.If):
            yield from self._value(statement.condition, scope, owner)
            yield from self._body(statement.body, scope, owner)
            if statement.orelse is not None:
                yield from self._body(statement.orelse, scope, owner)

    def _value(
        self, value: S.Value | None, scope: dict[str, Reference], owner: str
    ) -> Iterator[Reference]:
        if isinstance(value, S.Word):
            yield from self._name(value.name, value.span, scope, owner)
        elif isinstance(value, S.Call):
            yield from self._name(value.name, value.name_span, scope, owner, call=True)
            for argument in value.arguments:
                yield from self._value(argument.value, scope, owner)
        elif isinstance(value, S.AppliedCall):
            yield from self._value(value.call, scope, owner)
            for argument in value.values:
                yield from self._value(argument.value, scope, owner)
        elif isinstance(value, S.TupleValue):
            for item in value.items:
                yield from self._value(item, scope, owner)
        elif isinstance(value, S.BinaryOp):
            yield from self._value(value.left, scope, owner)
            yield from self._value(value.right, scope, owner)
        elif isinstance(value, (S.Negate, S.Not)):
            yield from self._value(value.operand, scope, owner)
        elif isinstance(value, S.Attribute):
            yield from self._value(value.value, scope, owner)
        elif isinstance(value, S.Index):
            yield from self._value(value.value, scope, owner)
            yield from self._value(value.index, scope, owner)
        elif isinstance(value, S.MethodCall):
            yield from self._value(value.receiver, scope, owner)
            for argument in value.arguments:
                yield from self._value(argument.value, scope, owner)
        elif isinstance(value, S.InputExpr) and value.shape is not None:
            yield from self._value(value.shape, scope, owner)

    def _name(
        self,
        name: str,
        span: Span,
        scope: dict[str, Reference],
        owner: str,
        *,
        call: bool = False,
    ) -> Iterator[Reference]:
        found = scope.get(name)
        # A call is a layer or a block; only a parameter (a word standing for a layer) or a
        # block can be what its name means.
        if found is not None and (not call or found.kind == "parameter"):
            yield Reference(span, found.target, found.kind, name, found.owner, found.binding)
        elif name in self.blocks:
            block = self.blocks[name]
            yield Reference(span, block.name_span, "block", name, name)
        elif name in self.models and catalog.lookup(name) is None:
            # A model used as a layer in another model.
            model = self.models[name]
            yield Reference(span, model.name_span, "model", name, name)


# --- queries -------------------------------------------------------------------------------


def reference_at(analysis: Analysis, point: Point) -> Reference | None:
    """The innermost name at `point` (its end counts: the cursor may stand after a word)."""
    found = [r for r in analysis.references if contains(r.span, point, end_inclusive=True)]
    return min(found, key=lambda r: _size(r.span), default=None)


def definition(analysis: Analysis, point: Point) -> Span | None:
    """Where the block, binding, parameter or loop variable named at `point` is defined; None
    on the definition itself and where no name stands."""
    reference = reference_at(analysis, point)
    if reference is None or reference.span == reference.target:
        return None
    return reference.target


def element_at(analysis: Analysis, point: Point) -> Element | None:
    """The innermost layer call or block use at `point`."""
    found = [e for e in analysis.elements.values() if contains(e.span, point)]
    return min(found, key=lambda e: (_size(e.span), e.kind != "layer"), default=None)


# --- text ----------------------------------------------------------------------------------


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}" + ("" if number == 1 else "s")


def _node(analysis: Analysis, instance: Instance) -> tuple[CheckedGraph, Node]:
    checked = analysis.checked[instance.graph]
    return checked, checked.graph.nodes[instance.result]


def _params(checked: CheckedGraph, node_ids: Iterable[int]) -> str:
    ids = list(node_ids)
    if any(checked.shapes.get(i) is None for i in ids):
        return "? params"
    return _count(sum(checked.params(i) for i in ids), "param")


def _via(context: tuple[BlockUse, ...]) -> str:
    return " › ".join(f"{use.block} at line {use.span.line}" for use in context)


def layer_line(analysis: Analysis, instance: Instance) -> str:
    """`dense_1: Dense -> (None, 3), 15 params`."""
    checked, node = _node(analysis, instance)
    shape = describe_shape(checked.shapes.get(node.id))
    if node.shares is not None:  # a nested model used again: its one layer, its weights
        first = checked.graph.nodes[node.shares]
        return (
            f"{first.name}: {node.kind.keras_class} -> {shape}, the weights of its use at line "
            f"{first.span.line}"
        )
    return f"{node.name}: {node.kind.keras_class} -> {shape}, {_params(checked, [node.id])}"


def block_line(analysis: Analysis, instance: Instance, name: str) -> str:
    """`conv_bn -> (None, 32, 32, 32), 4,832 params in 3 layers`."""
    checked, node = _node(analysis, instance)
    shape = describe_shape(checked.shapes.get(node.id))
    layers = _count(len(instance.nodes), "layer")
    return f"{name} -> {shape}, {_params(checked, instance.nodes)} in {layers}"


def _details(analysis: Analysis, instance: Instance) -> list[str]:
    """The inputs and weights of one layer."""
    checked, node = _node(analysis, instance)
    lines = []
    inputs = [describe_shape(s) for s in checked.input_shapes(node)]
    if inputs:
        lines.append("input: " + ", ".join(inputs))
    weights = checked.weights.get(node.id, [])
    if weights:
        shown = []
        for weight in weights:
            dims = ", ".join(map(str, weight.shape)) + ("," if len(weight.shape) == 1 else "")
            frozen = "" if weight.trainable else " (non-trainable)"
            shown.append(f"{weight.name} ({dims}){frozen}")
        lines.append("weights: " + ", ".join(shown))
    return lines


def element_hover(analysis: Analysis, element: Element) -> str:
    """Markdown for a layer call or a block use: one line per instance, with the block uses
    that led to it when there are several."""
    instances = element.instances
    if not instances:
        return ""
    if element.kind == "layer":
        lines = [layer_line(analysis, i) for i in instances]
    else:
        lines = [block_line(analysis, i, element.name) for i in instances]
    if len(instances) == 1:
        body = lines
        if element.kind == "layer":
            body = body + _details(analysis, instances[0])
        return _fence(body)
    where = {_via(i.context) for i in instances}
    if where != {""}:
        lines = [f"{line}   ({_via(i.context) or 'model'})" for line, i in zip(lines, instances)]
    shown = lines[:MAX_HOVER_USES]
    if len(lines) > MAX_HOVER_USES:
        shown.append(f"… and {len(lines) - MAX_HOVER_USES} more")
    if element.kind == "layer":
        title = f"`{element.name}`: {len(instances):,} layers made here"
    else:
        title = f"block `{element.name}`: expanded {len(instances):,} times here"
    return f"{title}\n\n" + _fence(shown)


def reference_hover(analysis: Analysis, reference: Reference) -> str:
    """Markdown for a name: a bound value's shape, a parameter or loop variable, a block."""
    if reference.kind == "binding" and reference.binding is not None:
        shapes = _binding_shapes(analysis, reference.binding)
        if not shapes:
            return ""
        return _fence([f"{reference.name}: {shape}" for shape in shapes[:MAX_HOVER_USES]])
    if reference.kind == "parameter":
        return f"`{reference.name}`: a parameter of block `{reference.owner}`"
    if reference.kind == "loop":
        return f"`{reference.name}`: a loop variable"
    if reference.kind == "model":
        return f"`{reference.name}`: a model used as a layer"
    return ""


def _binding_shapes(analysis: Analysis, binding: S.Binding) -> list[str]:
    shapes: list[str] = []
    for checked in analysis.checked:
        for node in checked.graph.nodes:
            if node.binding == binding.name and contains(binding.span, _start(node.span)):
                shape = describe_shape(checked.shapes.get(node.id))
                if shape not in shapes:
                    shapes.append(shape)
    return shapes


def rule_text(code: str) -> str:
    """Markdown for a rule: its code, name and severity, summary and documentation."""
    info = lookup(code)
    if info is None:
        return f"**{code}**"
    body = info.markdown or "\n\n".join(t for t in (info.full_description, info.help) if t)
    return f"**{info.code}** {info.name} ({info.severity.value})\n\n{info.summary}\n\n{body}"


def diagnostic_hover(diagnostic: Diagnostic) -> str:
    parts = [f"**{diagnostic.code}**: {diagnostic.message}"]
    if diagnostic.help:
        parts.append(f"help: {diagnostic.help}")
    parts.append(rule_text(diagnostic.code))
    return "\n\n".join(parts)


def hover(analysis: Analysis, point: Point) -> str | None:
    """Markdown for `point`: the layer, block use or name there, then the rule of each
    diagnostic whose range holds it."""
    sections: list[str] = []
    element = element_at(analysis, point)
    reference = reference_at(analysis, point)
    if reference is not None and (element is None or _size(reference.span) <= _size(element.span)):
        if reference.kind == "block" and element is not None and element.kind == "block":
            sections.append(element_hover(analysis, element))
        elif reference.kind == "model" and element is not None and element.kind == "layer":
            sections.append(element_hover(analysis, element))  # the nested model's use
        else:
            sections.append(reference_hover(analysis, reference))
    elif element is not None:
        sections.append(element_hover(analysis, element))
    seen: set[str] = set()
    for diagnostic in analysis.diagnostics:
        span = diagnostic.span
        hit = contains(span, point) or (_start(span) == _end(span) == point)
        if hit and diagnostic.code + diagnostic.message not in seen:
            seen.add(diagnostic.code + diagnostic.message)
            sections.append(diagnostic_hover(diagnostic))
    sections = [s for s in sections if s]
    return "\n\n---\n\n".join(sections) if sections else None


def _fence(lines: list[str]) -> str:
    return "```text\n" + "\n".join(lines) + "\n```"


# --- inlay hints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """An inlay hint: at the end of the last layer or block use of a line, its output shape."""

    line: int
    column: int
    label: str


def inlay_hints(
    analysis: Analysis, first_line: int = 1, last_line: int | None = None
) -> list[Hint]:
    """One hint per line that ends a layer call or a block use (inputs aside, their shape is
    written there): `-> (None, 32, 32, 64)`, or each distinct shape when the line runs more
    than once (a block used several times, a repeat)."""
    last_on_line: dict[int, Element] = {}
    for element in analysis.elements.values():
        line = element.span.end_line
        if line < first_line or (last_line is not None and line > last_line):
            continue
        current = last_on_line.get(line)
        if current is None or _end(element.span) > _end(current.span):
            last_on_line[line] = element
        elif _end(element.span) == _end(current.span) and element.kind == "block":
            last_on_line[line] = element  # `b` alone: the block use, not its only layer
    hints = []
    for line, element in sorted(last_on_line.items()):
        shapes: list[str] = []
        for instance in element.instances:
            checked, node = _node(analysis, instance)
            if node.is_input:
                continue
            shape = checked.shapes.get(node.id)
            if shape is None:
                continue
            text = describe_shape(shape)
            if text not in shapes:
                shapes.append(text)
        if not shapes:
            continue
        shown = shapes[:MAX_HINT_SHAPES] + (["…"] if len(shapes) > MAX_HINT_SHAPES else [])
        hints.append(Hint(line, element.span.end_column, "-> " + " | ".join(shown)))
    return hints
