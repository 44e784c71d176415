"""NS001 messages: the first bad token, what was expected, and the common slips named."""

from __future__ import annotations

import functools

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from netspec import codes
from netspec.diagnostics import Diagnostic, Severity, Span
from netspec.language.grammar import lark_parser, token_span


def ns001(path: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    return Diagnostic(codes.SYNTAX_ERROR, Severity.ERROR, message, span, (), help, path)


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
    parser = lark_parser()
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
        return "end of file"
    if token.type == "_SEP":
        return "end of line" if "\n" in token.value else "`;`"
    value = token.value if len(token.value) <= 30 else token.value[:27] + "..."
    return f"`{value}`"


def syntax_diagnostic(text: str, path: str, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        span = Span(
            exc.line, exc.column, exc.line, exc.column + 1, exc.pos_in_stream, exc.pos_in_stream + 1
        )
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return ns001(path, f"unexpected character {shown}", span)
    if not isinstance(exc, UnexpectedToken):  # pragma: no cover - LALR raises the two above
        return ns001(path, "unexpected end of file", _end_span(text))
    token = exc.token
    at_end = token.type == "$END"
    span = _end_span(text) if at_end else token_span(token)
    offset = len(text) if at_end else token.start_pos
    open_brackets = _open_brackets(text, offset)

    previous = exc.token_history[-1] if exc.token_history else None
    opener = _culprit_bracket(open_brackets, token, previous, span)
    if opener is not None:
        char, where = opener
        if char == "{":
            return ns001(
                path,
                f"missing `}}`: the `{{` at line {where.line}, column {where.column} is never closed",
                where,
                help="add `}` where the body ends",
            )
        closer = ")" if char == "(" else "]"
        swallowed = "" if at_end else f", so {_token_text(token)} is read as part of it"
        return ns001(
            path,
            f"unclosed `{char}`: the `{char}` at line {where.line}, column {where.column} is never "
            f"closed{swallowed}",
            where,
            help=f"add `{closer}` where the group ends",
        )
    label = _match_example(exc)
    if label == "stray-comma":
        return ns001(path, "stray `,`", span, help="remove the extra comma")
    if label == "equals-for-arrow" or token.type == "EQUAL":
        return ns001(
            path,
            "unexpected `=`: `=` binds a name at the start of a line",
            span,
            help="use `->` to pass a value on to the next layer",
        )
    expected = _describe_expected(set(exc.accepts or exc.expected))
    return ns001(path, f"unexpected {_token_text(token)}; expected {expected}", span)


@functools.cache
def _example_errors() -> tuple[tuple[str, int, str], ...]:
    """(label, LALR state, token type) of each example of a common mistake."""
    found = []
    for label, examples in _EXAMPLES.items():
        for example in examples:
            try:
                lark_parser().parse(example)
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
    if any(
        t is not None and t.type == "NAME" and t.value in ("model", "block")
        for t in (token, previous)
    ):
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
