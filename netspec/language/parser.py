"""Text to AST: the cached lark LALR parser, its post-lexer and the AST builder."""

from __future__ import annotations

import gc

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from netspec import codes
from netspec.diagnostics import Diagnostic, LimitExceeded, Severity, Span
from netspec.language import syntax as S
from netspec.language.grammar import ReadingLimit, lark_parser, token_span
from netspec.language.precedence import fold
from netspec.language.source import MAX_SOURCE_CHARS
from netspec.language.syntax_errors import ns001, syntax_diagnostic

MAX_EXPRESSION_DEPTH = 64  # operators and nested values within one value
MAX_LINE_CHARS = 100_000  # the lexer's regular expressions slow down on longer lines
MAX_INT_DIGITS = 4000  # Python refuses to convert longer ones; shorter are NS007 later

_WORD_LITERALS = {"true": True, "True": True, "false": False, "False": False}


def _meta_span(meta) -> Span:
    return Span(
        meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos
    )


def _depth(value: object) -> int:
    return getattr(value, "depth", 0)


class _ASTBuilder:
    """Turns each reduction into a typed node. No logic beyond that.

    Each method is named for a rule (or its alias) and takes the rule's meta and its children,
    already built. `build` walks the tree without recursion (a chain of 20,000 layers is one
    long list, an expression may nest deeply), calling one method per rule: lark's
    Transformer_NonRecursive did the same but made a new wrapper for every call and looked up
    a method for every token, half the time of a large file.
    """

    def build(self, tree: Tree):
        postorder_reversed: list = []
        pending = [tree]
        while pending:
            item = pending.pop()
            postorder_reversed.append(item)
            if isinstance(item, Tree):
                pending += item.children
        methods: dict[str, object] = {}
        values: list = []
        for item in reversed(postorder_reversed):
            if not isinstance(item, Tree):
                values.append(item)
                continue
            size = len(item.children)
            children = values[len(values) - size :]
            del values[len(values) - size :]
            method = methods.get(item.data)
            if method is None:
                method = methods[item.data] = getattr(self, item.data)
            values.append(method(item.meta, *children))
        (result,) = values
        return result

    # definitions
    def start(self, meta, *definitions):
        return tuple(definitions)

    def model(self, meta, name, body):
        return S.Model(_meta_span(meta), str(name), token_span(name), body)

    def block(self, meta, name, params, body):
        return S.Block(_meta_span(meta), str(name), token_span(name), params or (), body)

    def params(self, meta, *params):
        return tuple(p for p in params if p is not None)

    def param(self, meta, name, default):
        return S.Param(_meta_span(meta), str(name), default)

    def body(self, meta, *statements):
        return tuple(s for s in statements if s is not None)

    # statements
    def binding(self, meta, name, chain):
        return S.Binding(_meta_span(meta), str(name), token_span(name), chain)

    def destructure(self, meta, *items):
        names = tuple(S.Word(token_span(n), str(n)) for n in items[:-1])
        return S.Destructure(_meta_span(meta), names, items[-1])

    def if_stmt(self, meta, condition, body, else_keyword, orelse):
        if isinstance(orelse, S.If):
            orelse = (orelse,)
        return S.If(_meta_span(meta), condition, body, orelse)

    def chain_stmt(self, meta, chain):
        return S.ChainStatement(_meta_span(meta), chain)

    def output_stmt(self, meta, *values):
        return S.Output(_meta_span(meta), values)

    def compile_stmt(self, meta, arguments):
        return S.Compile(_meta_span(meta), arguments or ())

    def repeat_stmt(self, meta, count, body):
        return S.Repeat(_meta_span(meta), count, body)

    def for_stmt(self, meta, var, values, body):
        return S.For(_meta_span(meta), str(var), token_span(var), values, body)

    # chains
    def chain(self, meta, *items):
        terms = tuple(item for item in items if not isinstance(item, Token))
        return S.Chain(_meta_span(meta), terms)

    def ref(self, meta, name):
        return S.Word(token_span(name), str(name))

    def input_expr(self, meta, keyword, shape, dtype):
        span = _meta_span(meta)
        dtype_span = token_span(dtype) if dtype is not None else None
        return S.InputExpr(span, shape, str(dtype) if dtype is not None else None, dtype_span)

    def call(self, meta, name, arguments):
        return _checked(S.Call(_meta_span(meta), str(name), arguments or (), token_span(name)))

    def applied_call(self, meta, call, values):
        span = _meta_span(meta)
        after = call.span
        values_span = Span(
            after.end_line,
            after.end_column,
            span.end_line,
            span.end_column,
            after.end_pos,
            span.end_pos,
        )
        return S.AppliedCall(span, call, values or (), values_span)

    def arguments(self, meta, *arguments):
        return tuple(
            a if isinstance(a, S.Argument) else S.Argument(a.span, None, a)
            for a in arguments
            if a is not None
        )

    def keyword_argument(self, meta, name, value):
        return S.Argument(_meta_span(meta), str(name), value, token_span(name))

    # values
    def binary(self, meta, left, op, right):
        return _checked(S.BinaryOp(_meta_span(meta), str(op), left, right))

    def negate(self, meta, minus, operand):
        return _checked(S.Negate(_meta_span(meta), operand))

    def positive(self, meta, plus, operand):
        return operand

    def expression(self, meta, *items):
        return fold(items, _checked)

    def attribute(self, meta, value, name):
        return _checked(S.Attribute(_meta_span(meta), value, str(name), token_span(name)))

    def index(self, meta, value, index):
        return _checked(S.Index(_meta_span(meta), value, index))

    def method_call(self, meta, receiver, name, arguments):
        return _checked(
            S.MethodCall(_meta_span(meta), receiver, str(name), arguments or (), token_span(name))
        )

    def int_value(self, meta, token):
        digits = token.value.replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            raise LimitExceeded(
                f"integer literal of {len(digits)} digits is out of range", token_span(token)
            )
        return S.Int(token_span(token), int(digits))

    def float_value(self, meta, token):
        # An overflow to inf is kept: the argument it reaches reports it as out of range.
        return S.Float(token_span(token), float(token.value.replace("_", "")))

    def string_value(self, meta, token):
        return S.Str(token_span(token), _unescape(token.value[1:-1]))

    def word(self, meta, token):
        span = token_span(token)
        if token.value in _WORD_LITERALS:
            return S.Bool(span, _WORD_LITERALS[token.value])
        if token.value == "None":
            return S.NoneValue(span)
        return S.Word(span, str(token.value))

    def list_value(self, meta, *items):
        return _checked(
            S.TupleValue(_meta_span(meta), tuple(i for i in items if i is not None), "[")
        )

    def tuple_value(self, meta, *items):
        return _checked(
            S.TupleValue(_meta_span(meta), tuple(i for i in items if i is not None), "(")
        )


def _children(node: object) -> tuple:
    if isinstance(node, S.BinaryOp):
        return (node.left, node.right)
    if isinstance(node, (S.Negate, S.Not)):
        return (node.operand,)
    if isinstance(node, S.Attribute):
        return (node.value,)
    if isinstance(node, S.Index):
        return (node.value, node.index)
    if isinstance(node, S.MethodCall):
        return (node.receiver, *(a.value for a in node.arguments))
    if isinstance(node, S.TupleValue):
        return node.items
    if isinstance(node, S.Call):
        return tuple(a.value for a in node.arguments)
    return ()


def _checked(node):
    """Record the nesting depth of a composite value and refuse one nested too deeply."""
    depth = 1 + max((_depth(c) for c in _children(node)), default=0)
    object.__setattr__(node, "depth", depth)
    if depth > MAX_EXPRESSION_DEPTH:
        raise LimitExceeded(f"expression nested more than {MAX_EXPRESSION_DEPTH} deep", node.span)
    return node


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "0": "\0"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
    return "".join(out)


class ParseError(Exception):
    """Bad syntax (NS001) or a text over a reading limit (NS016): carries the one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse(text: str, path: str = "<stdin>") -> S.Module:
    """Parse netspec source into a Module. Raises ParseError carrying one diagnostic: NS001 for
    bad syntax, NS016 for a line, statement count or token count over its limit."""
    if len(text) > MAX_SOURCE_CHARS:
        raise ParseError(
            ns001(
                path,
                f"file has {len(text):,} characters; netspec reads specs of up to "
                f"{MAX_SOURCE_CHARS:,}",
                Span(1, 1, 1, 2),
            )
        )
    try:
        _check_lines(text)
        definitions = _build_tree(text)
    except ReadingLimit as exc:
        raise ParseError(_limit_diagnostic(path, exc)) from None
    except LimitExceeded as exc:
        raise ParseError(ns001(path, exc.message, exc.span)) from None
    except UnexpectedInput as exc:
        raise ParseError(syntax_diagnostic(text, path, exc)) from None
    except RecursionError:  # pragma: no cover - the depth limits above should prevent it
        raise ParseError(ns001(path, "spec nested too deeply", Span(1, 1, 1, 2))) from None
    return S.Module(path, text, definitions or ())


def _build_tree(text: str) -> tuple:
    """The definitions of the text. The cyclic garbage collector is paused meanwhile: the parse
    makes hundreds of thousands of objects and no cycles, and the collections it would trigger
    over a growing heap took more than half the time of a large file."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _ASTBuilder().build(lark_parser().parse(text))
    finally:
        if collecting:
            gc.enable()


def _check_lines(text: str) -> None:
    """Refuse a line over MAX_LINE_CHARS before the lexer spends its time on it."""
    if len(text) <= MAX_LINE_CHARS:
        return
    lengths = [len(line) for line in text.split("\n")]
    if max(lengths) <= MAX_LINE_CHARS:
        return
    number = next(n for n, length in enumerate(lengths) if length > MAX_LINE_CHARS)
    start = sum(lengths[:number]) + number  # the newlines before it
    raise ReadingLimit(
        f"line {number + 1} has {lengths[number]:,} characters; netspec reads lines of up to "
        f"{MAX_LINE_CHARS:,}",
        Span(number + 1, 1, number + 1, 2, start, start + 1),
    )


def _limit_diagnostic(path: str, exc: LimitExceeded) -> Diagnostic:
    return Diagnostic(codes.LIMIT_EXCEEDED, Severity.ERROR, exc.message, exc.span, (), None, path)
