"""Folding a flat run of operands and operators (as the grammar reads an expression) into the
tree Python's precedence gives: or < and < not < comparisons < + - < * / // % < unary - +.
Comparisons chain as in Python: `a < b < c` is `a < b and b < c`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lark import Token

from netspec.diagnostics import LimitExceeded, Span
from netspec.language import syntax as S

_BINARY = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6}
_COMPARISON = 4
_PREFIX = {"not": 3, "-": 7, "+": 7}
MAX_PREFIXES = 64


def fold(items: Sequence[object], made: Callable[[S.Value], S.Value]) -> S.Value:
    """The expression of `items`: operand nodes and operator tokens, as the grammar gives them.
    `made` sees each node made here (the parser records nesting depth with it)."""
    return _Folding(items, made).expression(0)


def joined(first: Span, last: Span) -> Span:
    return Span(
        first.line, first.column, last.end_line, last.end_column, first.start_pos, last.end_pos
    )


class _Folding:
    def __init__(self, items: Sequence[object], made: Callable[[S.Value], S.Value]) -> None:
        self.items = items
        self.made = made
        self.pos = 0

    def expression(self, floor: int) -> S.Value:
        return self.climb(self.operand(), floor)

    def climb(self, left: S.Value, floor: int) -> S.Value:
        """Precedence climbing: `left`, then each binary operator of at least `floor`, left to
        right; a comparison after a comparison joins it with `and`, as Python chains them."""
        compared: S.Value | None = None  # the right side of the comparison just folded
        while self.pos < len(self.items):
            token = self.items[self.pos]
            assert isinstance(token, Token)
            precedence = _COMPARISON if token.type == "COMPARE" else _BINARY[token.value]
            if precedence < floor:
                break
            self.pos += 1
            right = self.expression(precedence + 1)
            if precedence == _COMPARISON and compared is not None:
                step = self.binary(token.value, compared, right)
                left = self.binary("and", left, step)
            else:
                left = self.binary(token.value, left, right)
            compared = right if precedence == _COMPARISON else None
        return left

    def binary(self, op: str, left: S.Value, right: S.Value) -> S.Value:
        return self.made(S.BinaryOp(joined(left.span, right.span), op, left, right))

    def operand(self) -> S.Value:
        prefixes: list[Token] = []
        while isinstance(self.items[self.pos], Token):
            prefixes.append(self.items[self.pos])  # type: ignore[arg-type]
            self.pos += 1
            if len(prefixes) > MAX_PREFIXES:
                raise LimitExceeded(
                    f"more than {MAX_PREFIXES} signs in a row", _token_span(prefixes[-1])
                )
        if prefixes:
            return self.signed(prefixes)
        node = self.items[self.pos]
        self.pos += 1
        return node  # type: ignore[return-value]

    def signed(self, prefixes: list[Token]) -> S.Value:
        """The operand after `prefixes`: the innermost sign applies first, and each covers
        what binds tighter than itself (`not a == b` is `not (a == b)`, `-a * b` is `(-a) * b`)."""
        token = prefixes[0]
        if len(prefixes) > 1:
            operand = self.signed(prefixes[1:])
        else:
            operand = self.items[self.pos]  # type: ignore[assignment]
            self.pos += 1
        operand = self.climb(operand, _PREFIX[token.value])
        span = joined(_token_span(token), operand.span)
        if token.value == "not":
            return self.made(S.Not(span, operand))
        if token.value == "-":
            return self.made(S.Negate(span, operand))
        return operand


def _token_span(token: Token) -> Span:
    from netspec.language.grammar import token_span

    return token_span(token)
