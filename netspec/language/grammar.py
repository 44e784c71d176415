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

_OPENERS = {"LPAR", "LSQB"}
_CLOSERS = {"RPAR", "RSQB"}


def grammar_path() -> Path:
    """The grammar file: inside the installed package, or at the root of a source checkout."""
    return resource_dir("grammar", "netspec.lark") / "netspec.lark"


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
