"""The lark parser of grammar/netspec.lark, built once per process, and its post-lexer."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

from lark import Lark, Token

from netspec.diagnostics import LimitExceeded, Span
from netspec.resources import resource_dir

MAX_BRACKET_DEPTH = 64  # ( [ nesting
MAX_BRACE_DEPTH = 32  # { } nesting: repeat inside repeat inside block ...
# What a file may hold, counted while lexing so that parsing stops at the limit rather than
# building the tree of a file far over it. A statement or a `->` link makes at most one layer
# written out: 30,000 allows one model at the 20,000-layer limit with room for its bindings.
MAX_STATEMENTS = 30_000
MAX_TOKENS = 300_000

_OPENERS = {"LPAR", "LSQB"}
_CLOSERS = {"RPAR", "RSQB"}


def grammar_path() -> Path:
    """The grammar file: inside the installed package, or at the root of a source checkout."""
    return resource_dir("grammar", "netspec.lark") / "netspec.lark"


class ReadingLimit(LimitExceeded):
    """A limit on the text as it is read (its size, a line, its statements): NS016 before any
    tree is built. The nesting limits stay syntax errors (NS001)."""


class _PostLexer:
    """Drops statement separators inside brackets and bounds the nesting depth, the statements
    and the tokens of a file.

    It never looks ahead: the contextual lexer lexes each token in the parser's current state.
    """

    always_accept = ("_SEP",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        brackets = 0
        braces = 0
        statements = 0
        for count, token in enumerate(stream, start=1):
            if count > MAX_TOKENS:
                raise ReadingLimit(
                    f"the file has more than {MAX_TOKENS:,} tokens (the limit per file)",
                    token_span(token),
                )
            kind = token.type
            if kind == "_SEP" or kind == "ARROW":
                if brackets and kind == "_SEP":
                    continue
                statements += 1
                if statements > MAX_STATEMENTS:
                    raise ReadingLimit(
                        f"the file has more than {MAX_STATEMENTS:,} statements and `->` links "
                        "(the limit per file)",
                        _arrow_span(token) if kind == "ARROW" else token_span(token),
                    )
            elif kind in _OPENERS:
                brackets += 1
                if brackets > MAX_BRACKET_DEPTH:
                    raise LimitExceeded(
                        f"brackets nested more than {MAX_BRACKET_DEPTH} deep", token_span(token)
                    )
            elif kind in _CLOSERS:
                brackets = max(brackets - 1, 0)
            elif kind == "LBRACE":
                braces += 1
                if braces > MAX_BRACE_DEPTH:
                    raise LimitExceeded(
                        f"bodies `{{ }}` nested more than {MAX_BRACE_DEPTH} deep", token_span(token)
                    )
            elif kind == "RBRACE":
                braces = max(braces - 1, 0)
            yield token


def token_span(token: Token) -> Span:
    return Span(
        token.line or 1,
        token.column or 1,
        token.end_line or token.line or 1,
        token.end_column or (token.column or 1) + 1,
        token.start_pos or 0,
        token.end_pos or 0,
    )


def _arrow_span(token: Token) -> Span:
    """The `->` alone: an ARROW token starts with the line ends before it."""
    span = token_span(token)
    return Span(
        span.end_line,
        span.end_column - 2,
        span.end_line,
        span.end_column,
        span.end_pos - 2,
        span.end_pos,
    )


@functools.cache
def lark_parser() -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_PostLexer(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # lark keeps the built LALR tables in a temp file: later processes skip the build
    )
