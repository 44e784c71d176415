"""`netspec fmt`: one canonical layout for .ns files, as black gives Python one.

    formatted = format_source(text)      # the text unchanged when it does not parse
    result = format_result(text, path)   # the same, with its NS001 when it does not parse

How it works: the text must first parse (netspec.language.parser). It is then cut into tokens with the
grammar's own terminals, comments kept: a comment after code on its line *trails* that code's
last token, a comment on a line of its own is an entry of its body, or *leads* the next token
when it stands inside brackets or before a `->` continuation line. Statements (with their
continuation lines and bodies) are laid out again from the tokens:

- 4 spaces per body; a `->` continuation line 4 more than its statement;
- one space after commas, around `->`, a binding's `=` and binary operators; none inside
  brackets, around a keyword argument's `=` or after a unary sign;
- a line over LINE_LENGTH characters (trailing comments not counted) is cut: first at `->`
  into continuation lines when every piece then fits, else black's way at the last bracket
  pair that leaves the head and the tail short, one element a line, each with a comma (a lone
  element needs none); brackets that span lines in the source but fit on one line are joined;
- a comment inside brackets keeps them split; a line with a `# noqa` written on one line is
  never cut, so the directive stays on the line of the code it silences;
- a `repeat`, `for` or `if` body written on one line (`repeat 2 { bottleneck(32) }`,
  `if a { b } else { c }`) stays on one line if it fits; a definition's body always gets lines
  of its own; `} else {` and a chain that goes on after a body (`} -> dense(4)`) stand on the
  closing brace's line;
- no space around `.` nor before an index's `[` (`input.shape[-1]`), but `input [2]` keeps its;
- blank lines between statements are kept, a run of them becomes one; definitions are set
  apart by BLANK_LINES_BETWEEN_DEFINITIONS.

The result is checked before it is returned: it must parse to the same syntax tree (spans
aside) and hold the same comments (in the same order, but in contrived layouts where a comment
is lifted above its line), or FormatError is raised (a bug in the formatter: nothing should be
written then).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netspec.diagnostics import Diagnostic

if TYPE_CHECKING:
    from netspec.language.syntax import Module

LINE_LENGTH = 100
INDENT = 4
BLANK_LINES_BETWEEN_DEFINITIONS = 1

_OPENERS = frozenset({"(", "["})
_CLOSERS = frozenset({")", "]"})
_LINE_END = re.compile(r"\r\n|\r|\n")
_NOQA = re.compile(r"#\s*(?:netspec\s*:\s*)?noqa(?![\w-])", re.IGNORECASE)


class FormatError(Exception):
    """The formatter could not lay the text out safely (a bug: the input is valid)."""


@dataclass(frozen=True)
class FormatResult:
    """One text formatted: `text` is the input unchanged when it does not parse (`diagnostic`)."""

    original: str
    text: str
    diagnostic: Diagnostic | None = None

    @property
    def changed(self) -> bool:
        return self.text != self.original


def format_source(text: str) -> str:
    """The canonical layout of a .ns text; the text unchanged when it does not parse."""
    return format_result(text).text


def format_result(text: str, path: str = "<stdin>") -> FormatResult:
    """Format `text`; a text that does not parse comes back unchanged with its NS001 diagnostic.

    Raises FormatError when the layout would not be equivalent to the input (never expected)."""
    from netspec.language.parser import ParseError, parse
    from netspec.language.source import normalize_newlines

    source = normalize_newlines(text)
    try:
        before = parse(source, path)
    except ParseError as exc:
        return FormatResult(text, text, exc.diagnostic)
    formatted = _layout(source)
    _verify(source, formatted, before, path)
    # Black's rule: the first line's end decides; CRLF is kept, anything else (a lone CR of old
    # Macs included) becomes "\n", so formatting twice changes nothing.
    first_end = _LINE_END.search(text)
    if first_end is not None and first_end.group() == "\r\n":
        formatted = formatted.replace("\n", "\r\n")
    return FormatResult(text, formatted)


# --- tokens ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Token:
    kind: str  # name, number, string, op, newline, semicolon, comment
    text: str
    line: int
    leading: list[str] = field(default_factory=list)  # own-line comments just before it
    trailing: str | None = None  # the comment after it on its line
    space: bool = False  # a space before it when it follows another token on a line
    keyword: bool = False  # `repeat` and `for ... in`: a value follows, not a call's `(`
    call: bool = False  # a call's or a parameter list's parenthesis (opening or closing)
    depth: int = 0  # brackets open around it within its statement
    unary: bool = False  # a sign, not a binary operator

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts


@functools.cache
def _token_pattern() -> re.Pattern[str]:
    """Tokens by the grammar's own terminals (names, numbers, strings), plus layout and comments."""
    from netspec.language.grammar import lark_parser

    terminals = {t.name: t.pattern.to_regexp() for t in lark_parser().terminals}
    return re.compile(
        r"(?P<space>[ \t\f\r]+)|(?P<newline>\n)|(?P<semicolon>;)|(?P<comment>#[^\n]*)"
        rf"|(?P<string>{terminals['STRING']})"
        rf"|(?P<number>(?:{terminals['FLOAT']})|(?:{terminals['INT']}))"
        rf"|(?P<name>{terminals['NAME']})"
        r"|(?P<op>->|//|\*\*|==|!=|<=|>=|[-+*/%<>.=,()\[\]{}])"
    )


@functools.cache
def _input_keyword() -> str:
    """`input`, whose `[` starts a shape, not an index."""
    from netspec.language.grammar import lark_parser

    return next(t.pattern.value for t in lark_parser().terminals if t.name == "INPUT")


def _tokenize(text: str) -> list[_Token]:
    pattern = _token_pattern()
    tokens: list[_Token] = []
    line, pos = 1, 0
    while pos < len(text):
        match = pattern.match(text, pos)
        if match is None:
            raise FormatError(f"line {line}: unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "newline":
            tokens.append(_Token("newline", "\n", line))
            line += 1
        elif kind == "comment":
            tokens.append(_Token("comment", value.rstrip(), line))
        elif kind != "space":
            tokens.append(_Token(kind, value, line))
        pos = match.end()
    return _attach_trailing_comments(tokens)


def _attach_trailing_comments(tokens: list[_Token]) -> list[_Token]:
    """A comment after code on its line trails that code's last token; others stay in the stream."""
    kept: list[_Token] = []
    last_code: _Token | None = None
    newline_since = True
    for token in tokens:
        if token.kind == "comment":
            if last_code is not None and not newline_since:
                last_code.trailing = token.text
                continue
        elif token.kind == "newline":
            newline_since = True
        elif token.kind != "semicolon":
            last_code, newline_since = token, False
        kept.append(token)
    return kept


# --- structure: bodies, statements, continuation segments -------------------------------------


@dataclass(eq=False)
class _Comment:
    text: str
    blank_before: int = 0


@dataclass(eq=False)
class _Body:
    open: _Token
    close: _Token
    entries: list[_Entry]


@dataclass(eq=False)
class _Statement:
    segments: list[list[_Token]]  # the first line, then each `->` continuation line
    body: _Body | None = None
    blank_before: int = 0
    # What goes on after the body's `}`: `else ...`, or `-> ...` when a chain goes on.
    tail: _Statement | None = None


_Entry = _Comment | _Statement


class _Reader:
    """Groups the tokens of a text that parses into bodies, statements and segments."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def entries(self, inside: bool) -> list[_Entry]:
        entries: list[_Entry] = []
        newlines = 0
        while True:
            token = self.peek()
            if token is None:
                if inside:
                    raise FormatError("a body is not closed")
                return entries
            if token.kind == "newline":
                newlines += 1
                self.pos += 1
                continue
            if token.kind == "semicolon":
                self.pos += 1
                continue
            if token.is_op("}"):
                if inside:
                    return entries
                raise FormatError(f"line {token.line}: `}}` closes nothing")
            blank = max(newlines - 1, 0)
            newlines = 0
            if token.kind == "comment":
                entries.append(_Comment(token.text, blank))
                self.pos += 1
                continue
            statement = self.statement()
            statement.blank_before = blank
            entries.append(statement)

    def statement(self) -> _Statement:
        segments: list[list[_Token]] = [[]]
        depth = 0
        leading: list[str] = []
        while True:
            token = self.peek()
            if token is None:
                break
            if depth > 0:
                # Inside brackets newlines and `;` mean nothing; comments lead the next token.
                if token.kind in ("newline", "semicolon"):
                    self.pos += 1
                    continue
                if token.kind == "comment":
                    leading.append(token.text)
                    self.pos += 1
                    continue
            elif token.kind == "newline":
                arrow = self._continuation()
                if arrow is None:
                    break
                segments.append([arrow])
                continue
            elif token.kind in ("semicolon", "comment") or token.is_op("}"):
                break
            if token.is_op(*_OPENERS):
                depth += 1
            elif token.is_op(*_CLOSERS):
                depth -= 1
            if leading:
                token.leading = leading + token.leading
                leading = []
            segments[-1].append(token)
            self.pos += 1
            if token.is_op("{") and depth == 0:
                entries = self.entries(inside=True)
                close = self.peek()
                assert close is not None
                self.pos += 1
                return _Statement(segments, _Body(token, close, entries), tail=self._tail())
        if leading:
            raise FormatError("comments inside an unclosed bracket")
        return _Statement(segments)

    def _tail(self) -> _Statement | None:
        """After a body's `}`: the `else` on its line, or a `->` that goes on with the chain."""
        token = self.peek()
        if token is not None and token.kind == "name" and token.text == "else":
            return self.statement()
        if token is not None and token.is_op("->"):
            return self.statement()
        if token is not None and token.kind == "newline":
            index = self.pos
            arrow = self._continuation()
            if arrow is not None:
                self.pos -= 1  # the statement starts at the `->`
                return self.statement()
            self.pos = index
        return None

    def _continuation(self) -> _Token | None:
        """At a newline: the `->` that continues the chain (its comments lead it), or None."""
        index, comments = self.pos, []
        while index < len(self.tokens) and self.tokens[index].kind in ("newline", "comment"):
            if self.tokens[index].kind == "comment":
                comments.append(self.tokens[index].text)
            index += 1
        if index < len(self.tokens) and self.tokens[index].is_op("->"):
            arrow = self.tokens[index]
            arrow.leading = comments + arrow.leading
            self.pos = index + 1
            return arrow
        return None


# --- normalizing a statement's tokens: trailing commas, comments on commas, spacing ---------------


# Words of the grammar after which a value follows, not a call's `(` (`if (a > 1) {`).
_KEYWORDS = frozenset({"repeat", "in", "if", "else", "not", "and", "or", "output"})


def _prepare(statement: _Statement) -> None:
    for segment in statement.segments:
        for index, token in enumerate(segment):
            if token.kind == "name" and token.text in _KEYWORDS:
                after = segment[index + 1] if index + 1 < len(segment) else None
                before = segment[index - 1] if index else None
                token.keyword = not (after is not None and after.is_op("=")) and not (
                    before is not None and before.is_op(".")
                )
    statement.segments = [_prepare_segment(segment) for segment in statement.segments]
    if statement.body is not None:
        for entry in statement.body.entries:
            if isinstance(entry, _Statement):
                _prepare(entry)
    if statement.tail is not None:
        _prepare(statement.tail)


@dataclass
class _Group:
    opener: _Token
    commas: int = 0
    filled: bool = False  # something after the last comma


def _prepare_segment(segment: list[_Token]) -> list[_Token]:
    out: list[_Token] = []
    groups: list[_Group] = []
    for token in segment:
        prev = out[-1] if out else None
        if token.is_op(*_CLOSERS):
            group = groups.pop() if groups else None
            # A call's `)`: a `(` right after it applies the layer to values (`dense(8)(x)`).
            token.call = group is not None and group.opener.call
            if group is not None and prev is not None and prev.is_op(","):
                items = group.commas + (1 if group.filled else 0)
                one_tuple = group.opener.text == "(" and not group.opener.call and items == 1
                if not one_tuple:
                    _drop_comma(out, token)
                    prev = out[-1] if out else None
            token.depth = len(groups)
        else:
            if groups:
                if token.is_op(","):
                    groups[-1].commas += 1
                    groups[-1].filled = False
                else:
                    groups[-1].filled = True
            token.depth = len(groups)
            if token.is_op(*_OPENERS):
                token.call = (
                    token.text == "("
                    and prev is not None
                    and (prev.kind == "name" or (prev.is_op(")") and prev.call))
                    and not prev.keyword
                )
                groups.append(_Group(token))
        token.unary = token.is_op("+", "-") and (
            prev is None or prev.keyword or (prev.kind == "op" and not prev.is_op(*_CLOSERS))
        )
        out.append(token)
    # Comments that lead a comma lead what follows it (unless the comma has a comment after it:
    # they then stay, to be printed above the comma's line, in their order).
    for index, token in enumerate(out):
        if token.is_op(",") and token.leading and token.trailing is None and index + 1 < len(out):
            out[index + 1].leading = token.leading + out[index + 1].leading
            token.leading = []
    for index, token in enumerate(out):
        token.space = index > 0 and _space_between(out[index - 1], token)
    return out


def _drop_comma(out: list[_Token], closer: _Token) -> None:
    """Remove the trailing comma before `closer`; its comments move to its neighbours."""
    comma = out.pop()
    before = out[-1]
    if comma.trailing is not None and not comma.leading and before.trailing is None:
        before.trailing = comma.trailing
    elif comma.trailing is not None:
        closer.leading = [*comma.leading, comma.trailing, *closer.leading]
    else:
        closer.leading = comma.leading + closer.leading


def _space_between(prev: _Token, token: _Token) -> bool:
    if token.is_op(",", ")", "]", ".") or prev.is_op("."):
        return False
    if prev.is_op("(", "["):
        return False
    if token.is_op("="):
        return token.depth == 0  # a binding's `=`, not a keyword argument's
    if prev.is_op("="):
        return prev.depth == 0
    if prev.unary:
        return False
    if token.is_op("["):
        # An index (`shape[-1]`, `sizes[i]`) sticks to its value; `input [2]` is a shape.
        indexed = prev.is_op(")", "]") or (
            prev.kind in ("name", "string") and not prev.keyword and prev.text != _input_keyword()
        )
        return not indexed
    if token.is_op("("):
        return not token.call
    return True


# --- layout ------------------------------------------------------------------------------------


def _flat(tokens: list[_Token]) -> str:
    parts: list[str] = []
    for index, token in enumerate(tokens):
        if index and token.space:
            parts.append(" ")
        parts.append(token.text)
    return "".join(parts)


def _width(tokens: list[_Token]) -> int:
    return sum(len(t.text) + (1 if i and t.space else 0) for i, t in enumerate(tokens))


def _trailing_comment(tokens: list[_Token]) -> str | None:
    for token in reversed(tokens):
        if token.trailing is not None:
            return token.trailing
    return None


def _comments_allow_one_line(tokens: list[_Token]) -> bool:
    """One line can hold leading comments on its first token (printed above it) and one trailing
    comment on its last token (or on the last before its closing commas)."""
    if any(t.leading for t in tokens[1:]):
        return False
    slot = len(tokens) - 1
    while slot > 0 and tokens[slot].is_op(","):
        slot -= 1
    trailing = [i for i, t in enumerate(tokens) if t.trailing is not None]
    return not trailing or (len(trailing) == 1 and trailing[0] >= slot)


def _pinned(tokens: list[_Token]) -> bool:
    """A `# noqa` line written on one line: never cut, so the directive keeps its code."""
    comment = _trailing_comment(tokens)
    return (
        comment is not None
        and _NOQA.search(comment) is not None
        and tokens[0].line == tokens[-1].line
    )


def _fits(tokens: list[_Token], indent: int) -> bool:
    if not _comments_allow_one_line(tokens):
        return False
    return indent + _width(tokens) <= LINE_LENGTH or _pinned(tokens)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, indent: int, text: str, comment: str | None = None) -> None:
        self.lines.append(" " * indent + text + (f"  {comment}" if comment else ""))

    def comment(self, indent: int, text: str) -> None:
        self.lines.append(" " * indent + text)

    def blank(self, count: int) -> None:
        if self.lines:
            self.lines.extend([""] * count)

    # ---- bodies and statements

    def entries(self, entries: list[_Entry], indent: int) -> None:
        for index, entry in enumerate(entries):
            if index:
                self.blank(min(entry.blank_before, 1))
            self.entry(entry, indent)

    def top_level(self, entries: list[_Entry]) -> None:
        """Definitions are set apart by one blank line, with the comments written just above
        them; other comments keep one blank line (at most) from what comes before."""
        attached = [False] * len(entries)
        for index in range(len(entries) - 1, -1, -1):
            entry = entries[index]
            if isinstance(entry, _Comment) and index + 1 < len(entries):
                following = entries[index + 1]
                if following.blank_before == 0 and (
                    isinstance(following, _Statement) or attached[index + 1]
                ):
                    attached[index] = True
        for index, entry in enumerate(entries):
            if index:
                previous = entries[index - 1]
                starts_definition = isinstance(entry, _Statement) or attached[index]
                if isinstance(previous, _Statement) or (
                    starts_definition and not attached[index - 1]
                ):
                    self.blank(BLANK_LINES_BETWEEN_DEFINITIONS)
                elif not attached[index - 1]:
                    self.blank(min(entry.blank_before, 1))
            self.entry(entry, 0)

    def entry(self, entry: _Entry, indent: int) -> None:
        if isinstance(entry, _Comment):
            self.comment(indent, entry.text)
        else:
            self.statement(entry, indent)

    def statement(self, statement: _Statement, indent: int, prefix: str = "") -> None:
        """A statement; `prefix` (`} `) goes before its first line, when it is the tail of a
        body (`} else {`, `} -> dense(4)`)."""
        body = statement.body
        if body is None:
            for index, segment in enumerate(statement.segments):
                self.segment(
                    segment,
                    indent if index == 0 else indent + INDENT,
                    indent + INDENT,
                    prefix if index == 0 else "",
                )
            return
        # A definition's body always gets lines of its own (unless empty); a `repeat`, `for` or
        # `if` body written on one line stays so when it fits.
        one_line = _one_line(statement) if indent or not body.entries else None
        if one_line is not None and indent + len(prefix) + len(one_line) <= LINE_LENGTH:
            self.line(indent, prefix + one_line, _last_close(statement).trailing)
            return
        for index, segment in enumerate(statement.segments):
            self.segment(
                segment,
                indent if index == 0 else indent + INDENT,
                indent + INDENT,
                prefix if index == 0 else "",
            )
        self.entries(body.entries, indent + INDENT)
        tail = statement.tail
        if tail is None:
            self.line(indent, "}", body.close.trailing)
        elif body.close.trailing is not None:
            # A comment after `}` cannot stay before `else` on its line: it goes above the `}`.
            self.comment(indent + INDENT, body.close.trailing)
            self.statement(tail, indent, "} ")
        else:
            self.statement(tail, indent, "} ")

    def segment(
        self, tokens: list[_Token], indent: int, continuation: int, prefix: str = ""
    ) -> None:
        """One line of a statement: as it is when it fits, else cut at `->`, else at brackets."""
        for text in tokens[0].leading:
            self.comment(indent, text)
        if prefix:
            # After `} `: kept whole on the line of the closing brace.
            self.line(indent, prefix + _flat(tokens), _trailing_comment(tokens))
            return
        if _fits(tokens, indent):
            self.line(indent, _flat(tokens), _trailing_comment(tokens))
            return
        pieces = _arrow_pieces(tokens)
        if pieces is not None:
            lines = _pack(pieces, indent, continuation, need_two=not tokens[0].is_op("->"))
            if lines is not None:
                for line_tokens, line_indent in lines:
                    self.line(line_indent, _flat(line_tokens), _trailing_comment(line_tokens))
                return
        self.split(tokens, indent, skip_leading=True)

    # ---- black's right-hand split

    def split(self, tokens: list[_Token], indent: int, skip_leading: bool = False) -> None:
        if not skip_leading:
            for text in tokens[0].leading:
                self.comment(indent, text)
        for text in _unplaceable_comments(tokens):
            self.comment(indent, text)
        if _fits(tokens, indent):
            self.line(indent, _flat(tokens), _trailing_comment(tokens))
            return
        pair = _choose_pair(tokens, indent)
        if pair is None:
            self.hoisted(tokens, indent)
            return
        opener_index, closer_index = pair
        closer = tokens[closer_index]
        self.split(tokens[: opener_index + 1], indent, skip_leading=True)
        elements = _elements(tokens[opener_index + 1 : closer_index])
        for index, element in enumerate(elements):
            # One element a line, each with its comma; a lone element needs none (a one-element
            # tuple has its own), and a parenthesized value must not get one.
            if index == len(elements) - 1 and len(elements) > 1 and not element[-1].is_op(","):
                element = [*element, _Token("op", ",", element[-1].line)]
            self.split(element, indent + INDENT)
        for text in closer.leading:
            self.comment(indent + INDENT, text)
        self.split(tokens[closer_index:], indent, skip_leading=True)

    def hoisted(self, tokens: list[_Token], indent: int) -> None:
        """A line that cannot be cut: comments it cannot hold go on lines of their own above it."""
        trailing = [t for t in tokens if t.trailing is not None]
        keep = trailing[-1].trailing if trailing else None
        for index, token in enumerate(tokens):
            if index:
                for text in token.leading:
                    self.comment(indent, text)
            if token.trailing is not None and token is not trailing[-1]:
                self.comment(indent, token.trailing)
        self.line(indent, _flat(tokens), keep)


def _unplaceable_comments(tokens: list[_Token]) -> list[str]:
    """Take off the comments that no way of cutting this line could leave in place (those outside
    its brackets, but for its first token's leading ones, a closing bracket's leading ones and a
    last trailing one), in order, to be printed on lines of their own above it."""
    pairs = _top_level_pairs(tokens)
    openers = {o for o, _ in pairs}
    closers = {c for _, c in pairs}
    inside = set()
    for opener, closer in pairs:
        inside.update(range(opener + 1, closer))
    slot = len(tokens) - 1
    while slot > 0 and tokens[slot].is_op(","):
        slot -= 1
    trailing = [
        i
        for i, t in enumerate(tokens)
        if i not in inside and i not in openers and t.trailing is not None
    ]
    keep = trailing[-1] if trailing and trailing[-1] >= slot else None
    taken: list[str] = []
    for index, token in enumerate(tokens):
        if index in inside:
            continue
        if index and index not in closers and token.leading:
            taken.extend(token.leading)
            token.leading = []
        if index in trailing and index != keep:
            taken.append(token.trailing)  # type: ignore[arg-type]
            token.trailing = None
    return taken


def _last_close(statement: _Statement) -> _Token:
    while statement.tail is not None and statement.tail.body is not None:
        statement = statement.tail
    assert statement.body is not None
    return statement.body.close


def _one_line(statement: _Statement) -> str | None:
    """A statement on one line, its body too (`repeat 2 { bottleneck(32) }`, `if a { b } else
    { c }`), when it was written so and holds no comment; None otherwise. An empty body is `{}`."""
    if statement.body is None:
        if len(statement.segments) != 1:
            return None
        tokens = statement.segments[0]
        if any(t.leading or t.trailing is not None for t in tokens):
            return None
        return _flat(tokens)
    if len(statement.segments) != 1:
        return None
    header, body = statement.segments[0], statement.body
    if any(t.trailing is not None for t in header) or any(t.leading for t in header[1:]):
        return None
    tail = ""
    if statement.tail is not None:
        if body.close.trailing is not None:
            return None
        rest = _one_line(statement.tail)
        if rest is None or statement.tail.segments[0][0].leading:
            return None
        tail = " " + rest
    if not body.entries:
        return _flat(header) + "}" + tail
    if body.open.line != body.close.line:
        return None
    parts = []
    for entry in body.entries:
        if isinstance(entry, _Comment):
            return None
        part = _one_line(entry)
        if part is None:
            return None
        parts.append(part)
    return f"{_flat(header)} {'; '.join(parts)} }}{tail}"


def _arrow_pieces(tokens: list[_Token]) -> list[list[_Token]] | None:
    """The segment cut before each `->` outside brackets; None when there is none to cut at."""
    pieces: list[list[_Token]] = [[]]
    for token in tokens:
        if token.is_op("->") and token.depth == 0 and pieces[-1]:
            pieces.append([])
        pieces[-1].append(token)
    return pieces if len(pieces) > 1 else None


def _pack(
    pieces: list[list[_Token]], indent: int, continuation: int, need_two: bool
) -> list[tuple[list[_Token], int]] | None:
    """`-> term` pieces packed greedily into continuation lines; None unless every line fits
    (and, on a statement's first line, the source keeps at least one `->` term with it)."""
    lines: list[tuple[list[_Token], int]] = []
    current, current_indent, count = pieces[0], indent, 1
    for piece in pieces[1:]:
        joined = current + piece
        if _fits(joined, current_indent):
            current, count = joined, count + 1
            continue
        if not lines and need_two and count < 2:
            return None
        lines.append((current, current_indent))
        current, current_indent, count = piece, continuation, 1
    lines.append((current, current_indent))
    if all(_fits(line, line_indent) for line, line_indent in lines):
        return lines
    return None


def _top_level_pairs(tokens: list[_Token]) -> list[tuple[int, int]]:
    """(opener, closer) indices of the bracket pairs not nested in another one of the line."""
    pairs, stack = [], []
    for index, token in enumerate(tokens):
        if token.is_op(*_OPENERS):
            stack.append(index)
        elif token.is_op(*_CLOSERS) and stack:
            opener = stack.pop()
            if not stack:
                pairs.append((opener, index))
    return pairs


def _choose_pair(tokens: list[_Token], indent: int) -> tuple[int, int] | None:
    """The bracket pair to split: the last one whose head and tail then fit on a line each, else
    the last one (head and tail are then split in turn)."""
    candidates = [(o, c) for o, c in _top_level_pairs(tokens) if c > o + 1]
    if not candidates:
        return None
    count = len(tokens)
    widths = [0] * (count + 1)  # widths[i]: the width of tokens[:i] on one line
    leading = [0] * (count + 1)  # tokens[1:i] with leading comments
    trailing = [0] * (count + 1)  # tokens[:i] with a trailing comment
    for index, token in enumerate(tokens):
        gap = 1 if index and token.space else 0
        widths[index + 1] = widths[index] + gap + len(token.text)
        leading[index + 1] = leading[index] + (1 if index and token.leading else 0)
        trailing[index + 1] = trailing[index] + (1 if token.trailing is not None else 0)
    slot = count - 1
    while slot > 0 and tokens[slot].is_op(","):
        slot -= 1
    for opener, closer in reversed(candidates):
        head_ok = (
            leading[opener + 1] == 0
            and trailing[opener] == 0
            and indent + widths[opener + 1] <= LINE_LENGTH
        )
        tail_trailing = trailing[count] - trailing[closer]
        last_trailing = (
            max((i for i in range(closer, count) if tokens[i].trailing is not None), default=count)
            if tail_trailing
            else count
        )
        tail_width = widths[count] - widths[closer] - (1 if tokens[closer].space else 0)
        tail_ok = (
            leading[count] - leading[closer + 1] == 0
            and tail_trailing <= 1
            and (tail_trailing == 0 or last_trailing >= slot)
            and indent + tail_width <= LINE_LENGTH
        )
        if head_ok and tail_ok:
            return opener, closer
    return candidates[-1]


def _elements(tokens: list[_Token]) -> list[list[_Token]]:
    """The items between a pair of brackets, each with the comma that ends it."""
    elements: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        elements[-1].append(token)
        if token.is_op(*_OPENERS):
            depth += 1
        elif token.is_op(*_CLOSERS):
            depth -= 1
        elif token.is_op(",") and depth == 0:
            elements.append([])
    return [element for element in elements if element]


def _layout(text: str) -> str:
    reader = _Reader(_tokenize(text))
    entries = reader.entries(inside=False)
    for entry in entries:
        if isinstance(entry, _Statement):
            _prepare(entry)
    writer = _Writer()
    writer.top_level(entries)
    return "\n".join(writer.lines) + "\n" if writer.lines else ""


# --- the safety check ------------------------------------------------------------------------


def _shape(node: object) -> object:
    """A syntax tree without its spans: what the text means, not where it stands."""
    if isinstance(node, tuple):
        return tuple(_shape(item) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(
            _shape(getattr(node, f.name))
            for f in dataclasses.fields(node)
            if not f.name.endswith("span")
        )
    return node


def _comment_texts(text: str) -> list[str]:
    from netspec.language.source import find_comments

    return [comment.text.rstrip() for comment in find_comments(text)]


def _verify(source: str, formatted: str, before: Module, path: str) -> None:
    from netspec.language.parser import ParseError, parse

    try:
        after = parse(formatted, path)
    except ParseError as exc:
        raise FormatError(
            f"the formatted text does not parse ({exc.diagnostic.message}, line "
            f"{exc.diagnostic.span.line})"
        ) from None
    if _shape(before.definitions) != _shape(after.definitions):
        raise FormatError("the formatted text does not mean what the input means")
    if sorted(_comment_texts(source)) != sorted(_comment_texts(formatted)):
        raise FormatError("the formatted text does not keep every comment")
