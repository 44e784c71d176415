"""Text to AST: the cached lark LALR parser, its post-lexer, the AST builder and NS001 messages."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from pathlib import Path

from lark import Lark, Token, v_args
from lark.visitors import Transformer_NonRecursive
from lark.exceptions import VisitError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from netspec import syntax as S
from netspec.diagnostics import Diagnostic, LimitExceeded, Severity, Span

MAX_BRACKET_DEPTH = 64  # ( [ nesting
MAX_BRACE_DEPTH = 32  # { } nesting: repeat inside repeat inside block ...
MAX_EXPRESSION_DEPTH = 64  # operators and nested values within one value
MAX_SOURCE_CHARS = 4 * 1024 * 1024
MAX_INT_DIGITS = 40

_OPENERS = {"LPAR", "LSQB"}
_CLOSERS = {"RPAR", "RSQB"}
_WORD_LITERALS = {"true": True, "True": True, "false": False, "False": False}


def grammar_path() -> Path:
    """The grammar file: inside the installed package, or at the root of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / "netspec.lark", here.parent / "grammar" / "netspec.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("netspec.lark not found next to the netspec package")


class _PostLexer:
    """Drops statement separators inside brackets and bounds the nesting depth.

    It never looks ahead: the contextual lexer lexes each token in the parser's current state.
    """

    always_accept = ("_SEP",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        brackets = 0
        braces = 0
        for token in stream:
            kind = token.type
            if kind == "_SEP":
                if brackets:
                    continue
            elif kind in _OPENERS:
                brackets += 1
                if brackets > MAX_BRACKET_DEPTH:
                    raise LimitExceeded(
                        f"brackets nested more than {MAX_BRACKET_DEPTH} deep", _token_span(token)
                    )
            elif kind in _CLOSERS:
                brackets = max(brackets - 1, 0)
            elif kind == "LBRACE":
                braces += 1
                if braces > MAX_BRACE_DEPTH:
                    raise LimitExceeded(
                        f"bodies `{{ }}` nested more than {MAX_BRACE_DEPTH} deep", _token_span(token)
                    )
            elif kind == "RBRACE":
                braces = max(braces - 1, 0)
            yield token


def _token_span(token: Token) -> Span:
    return Span(
        token.line or 1,
        token.column or 1,
        token.end_line or token.line or 1,
        token.end_column or (token.column or 1) + 1,
        token.start_pos or 0,
        token.end_pos or 0,
    )


def _meta_span(meta) -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)


def _depth(value: object) -> int:
    return getattr(value, "depth", 0)


@v_args(meta=True, inline=True)
class _ASTBuilder(Transformer_NonRecursive):
    """Turns each reduction into a typed node. No logic beyond that."""

    # definitions
    def start(self, meta, *definitions):
        return tuple(definitions)

    def model(self, meta, name, body):
        return S.Model(_meta_span(meta), str(name), _token_span(name), body)

    def block(self, meta, name, params, body):
        return S.Block(_meta_span(meta), str(name), _token_span(name), params or (), body)

    def params(self, meta, *params):
        return tuple(p for p in params if p is not None)

    def param(self, meta, name, default):
        return S.Param(_meta_span(meta), str(name), default)

    def body(self, meta, *statements):
        return tuple(s for s in statements if s is not None)

    # statements
    def binding(self, meta, name, chain):
        return S.Binding(_meta_span(meta), str(name), _token_span(name), chain)

    def chain_stmt(self, meta, chain):
        return S.ChainStatement(_meta_span(meta), chain)

    def output_stmt(self, meta, *names):
        return S.Output(_meta_span(meta), tuple(S.Word(_token_span(n), str(n)) for n in names))

    def compile_stmt(self, meta, arguments):
        return S.Compile(_meta_span(meta), arguments or ())

    def repeat_stmt(self, meta, count, body):
        return S.Repeat(_meta_span(meta), count, body)

    def for_stmt(self, meta, var, values, body):
        return S.For(_meta_span(meta), str(var), _token_span(var), values, body)

    # chains
    def chain(self, meta, *items):
        terms = tuple(item for item in items if not isinstance(item, Token))
        return S.Chain(_meta_span(meta), terms)

    def ref(self, meta, name):
        return S.Word(_token_span(name), str(name))

    def input_expr(self, meta, keyword, shape, dtype):
        span = _meta_span(meta)
        dtype_span = _token_span(dtype) if dtype is not None else None
        return S.InputExpr(span, shape, str(dtype) if dtype is not None else None, dtype_span)

    def call(self, meta, name, arguments):
        return _checked(S.Call(_meta_span(meta), str(name), arguments or (), _token_span(name)))

    def arguments(self, meta, *arguments):
        return tuple(
            a if isinstance(a, S.Argument) else S.Argument(a.span, None, a)
            for a in arguments
            if a is not None
        )

    def keyword_argument(self, meta, name, value):
        return S.Argument(_meta_span(meta), str(name), value, _token_span(name))

    # values
    def binary(self, meta, left, op, right):
        return _checked(S.BinaryOp(_meta_span(meta), str(op), left, right))

    def negate(self, meta, minus, operand):
        return _checked(S.Negate(_meta_span(meta), operand))

    def positive(self, meta, plus, operand):
        return operand

    def int_value(self, meta, token):
        digits = token.value.replace("_", "")
        if len(digits) > MAX_INT_DIGITS:
            raise LimitExceeded(
                f"integer literal of {len(digits)} digits is out of range", _token_span(token)
            )
        return S.Int(_token_span(token), int(digits))

    def float_value(self, meta, token):
        value = float(token.value.replace("_", ""))
        if math.isinf(value):
            raise LimitExceeded(f"number {token.value} is out of range", _token_span(token))
        return S.Float(_token_span(token), value)

    def string_value(self, meta, token):
        return S.Str(_token_span(token), _unescape(token.value[1:-1]))

    def word(self, meta, token):
        span = _token_span(token)
        if token.value in _WORD_LITERALS:
            return S.Bool(span, _WORD_LITERALS[token.value])
        if token.value == "None":
            return S.NoneValue(span)
        return S.Word(span, str(token.value))

    def list_value(self, meta, *items):
        return _checked(S.TupleValue(_meta_span(meta), tuple(i for i in items if i is not None), "["))

    def tuple_value(self, meta, *items):
        return _checked(S.TupleValue(_meta_span(meta), tuple(i for i in items if i is not None), "("))


def _children(node: object) -> tuple:
    if isinstance(node, S.BinaryOp):
        return (node.left, node.right)
    if isinstance(node, S.Negate):
        return (node.operand,)
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
        raise LimitExceeded(
            f"expression nested more than {MAX_EXPRESSION_DEPTH} deep", node.span
        )
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


@functools.cache
def _parser() -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_PostLexer(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # lark keeps the built LALR tables in a temp file: later processes skip the build
    )


class ParseError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse(text: str, path: str = "<stdin>") -> S.Module:
    """Parse netspec source into a Module. Raises ParseError carrying one NS001 diagnostic."""
    if len(text) > MAX_SOURCE_CHARS:
        raise ParseError(
            _ns001(
                path,
                f"file has {len(text):,} characters; netspec reads specs of up to "
                f"{MAX_SOURCE_CHARS:,}",
                Span(1, 1, 1, 2),
            )
        )
    try:
        definitions = _ASTBuilder().transform(_parser().parse(text))
    except VisitError as exc:
        if isinstance(exc.orig_exc, LimitExceeded):
            raise ParseError(_ns001(path, exc.orig_exc.message, exc.orig_exc.span)) from None
        raise
    except LimitExceeded as exc:
        raise ParseError(_ns001(path, exc.message, exc.span)) from None
    except UnexpectedInput as exc:
        raise ParseError(_syntax_diagnostic(text, path, exc)) from None
    except RecursionError:  # pragma: no cover - the depth limits above should prevent it
        raise ParseError(_ns001(path, "spec nested too deeply", Span(1, 1, 1, 2))) from None
    return S.Module(path, text, definitions or ())


def _ns001(path: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    return Diagnostic("NS001", Severity.ERROR, message, span, (), help, path)


# ---- friendly syntax errors ----------------------------------------------------------------

_TOKEN_NAMES = {
    "_SEP": "a new line",
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a string",
    "$END": "the end of the file",
    "ARROW": "`->`",
}

_EXAMPLES: dict[str, list[str]] = {
    "stray-comma": [
        "model m { dense(4,, relu) }",
        "model m { dense(, 4) }",
        "model m { input [2,, 3] }",
        "model m { x = add(,a) }",
        "block b(, f) { dense(f) }",
        "block b(f,,) { dense(f) }",
    ],
    "equals-for-arrow": [
        "model m { x = input [2] = dense(4) }",
        "model m { dense(4) = relu }",
        "model m { x = y = dense(4) }",
        "model m { input [2] = dense(4) }",
    ],
}


def _describe_expected(expected: set[str]) -> str:
    parser = _parser()
    names: list[str] = []
    for name in sorted(expected):
        if name in _TOKEN_NAMES:
            names.append(_TOKEN_NAMES[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            names.append(name)
            continue
        names.append(f"`{pattern.value}`" if pattern.type == "str" else name.lower())
    names = sorted(set(names))
    if len(names) > 6:
        names = names[:6] + ["..."]
    return ", ".join(names)


def _token_text(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "_SEP":
        return "the end of the line" if "\n" in token.value else "`;`"
    value = token.value if len(token.value) <= 30 else token.value[:27] + "..."
    return f"`{value}`"


def _syntax_diagnostic(text: str, path: str, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        span = Span(
            exc.line, exc.column, exc.line, exc.column + 1, exc.pos_in_stream, exc.pos_in_stream + 1
        )
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return _ns001(path, f"unexpected character {shown}", span)
    if not isinstance(exc, UnexpectedToken):  # pragma: no cover - LALR raises the two above
        return _ns001(path, "unexpected end of file", _end_span(text))
    token = exc.token
    at_end = token.type == "$END"
    span = _end_span(text) if at_end else _token_span(token)
    offset = len(text) if at_end else token.start_pos
    open_brackets = _open_brackets(text, offset)

    previous = exc.token_history[-1] if exc.token_history else None
    opener = _culprit_bracket(open_brackets, token, previous, span)
    if opener is not None:
        char, where = opener
        if char == "{":
            return _ns001(
                path,
                f"missing `}}`: the `{{` at line {where.line}, column {where.column} is never closed",
                where,
                help="add `}` where the body ends",
            )
        closer = ")" if char == "(" else "]"
        return _ns001(
            path,
            f"unclosed `{char}`: the `{char}` at line {where.line}, column {where.column} is never "
            f"closed, so {_token_text(token)} is read as part of it",
            where,
            help=f"add `{closer}` where the group ends",
        )
    label = _match_example(exc)
    if label == "stray-comma":
        return _ns001(path, "stray `,`", span, help="remove the extra comma")
    if label == "equals-for-arrow" or token.type == "EQUAL":
        return _ns001(
            path,
            "unexpected `=`: `=` binds a name at the start of a line",
            span,
            help="use `->` to pass a value on to the next layer",
        )
    expected = _describe_expected(set(exc.accepts or exc.expected))
    return _ns001(path, f"unexpected {_token_text(token)}; expected {expected}", span)


@functools.cache
def _example_errors() -> tuple[tuple[str, int, str], ...]:
    """(label, LALR state, token type) of each example of a common mistake."""
    found = []
    for label, examples in _EXAMPLES.items():
        for example in examples:
            try:
                _parser().parse(example)
            except UnexpectedToken as exc:
                found.append((label, exc.state.position, exc.token.type))
    return tuple(found)


def _match_example(exc: UnexpectedToken) -> str | None:
    """The label of the example that fails in the same LALR state on the same kind of token.

    lark's `match_examples` also compares the depth of the parser stack, which differs between a
    one-line example and the same mistake deep in a file; the state number alone identifies the
    context.
    """
    for label, state, token_type in _example_errors():
        if state == exc.state.position and token_type == exc.token.type:
            return label
    return None


def _culprit_bracket(
    open_brackets: list[tuple[str, Span]], token: Token, previous: Token | None, span: Span
) -> tuple[str, Span] | None:
    """The bracket whose missing closer best explains a syntax error, if one does."""
    if not open_brackets:
        return None
    if token.type == "$END":
        return open_brackets[-1]
    # A `(` or `[` left open on an earlier line swallows the newlines after it.
    for char, where in reversed(open_brackets):
        if char in "([" and where.line < span.line:
            return char, where
    # A new definition starting inside a body means the body before it was not closed.
    if any(t is not None and t.type == "NAME" and t.value in ("model", "block") for t in (token, previous)):
        braces = [b for b in open_brackets if b[0] == "{"]
        if braces:
            return braces[-1]
    return None


def _end_span(text: str) -> Span:
    lines = text.split("\n")
    line, column = len(lines), len(lines[-1]) + 1
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            line, column = index + 1, len(lines[index]) + 1
            break
    return Span(line, column, line, column + 1, len(text), len(text))


def _open_brackets(text: str, upto: int) -> list[tuple[str, Span]]:
    """The brackets still open at offset `upto`, outermost first; strings and comments skipped."""
    stack: list[tuple[str, Span]] = []
    line, line_start, index = 1, 0, 0
    limit = min(upto, len(text))
    while index < limit:
        ch = text[index]
        if ch == "\n":
            line, line_start = line + 1, index + 1
        elif ch == "#":
            newline = text.find("\n", index, limit)
            index = limit if newline < 0 else newline
            continue
        elif ch == '"':
            index = _string_end(text, index, limit)
            continue
        elif ch in "([{":
            column = index - line_start + 1
            stack.append((ch, Span(line, column, line, column + 1, index, index + 1)))
        elif ch in ")]}" and stack:
            stack.pop()
        index += 1
    return stack


def _string_end(text: str, start: int, limit: int) -> int:
    index = start + 1
    while index < limit:
        ch = text[index]
        if ch == "\\":
            index += 2
            continue
        if ch in '"\n':
            return index + 1 if ch == '"' else index
        index += 1
    return limit
