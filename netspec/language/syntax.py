"""The abstract syntax tree of a .ns file: frozen dataclasses, each with a span."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from netspec.diagnostics import Span


@dataclass(frozen=True)
class Node:
    span: Span


# ---- values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Int(Node):
    value: int


@dataclass(frozen=True)
class Float(Node):
    value: float


@dataclass(frozen=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True)
class NoneValue(Node):
    pass


@dataclass(frozen=True)
class Str(Node):
    value: str


@dataclass(frozen=True)
class Word(Node):
    """A bare name: a bound value, a block parameter, a layer kind or an option (`relu`, `same`)."""

    name: str


@dataclass(frozen=True)
class TupleValue(Node):
    items: tuple[Value, ...]
    bracket: str  # "(" or "["


@dataclass(frozen=True)
class BinaryOp(Node):
    op: str  # + - * / // % ** == != < <= > >= and or
    left: Value
    right: Value


@dataclass(frozen=True)
class Negate(Node):
    operand: Value


@dataclass(frozen=True)
class Not(Node):
    operand: Value


@dataclass(frozen=True)
class Attribute(Node):
    """`value.name`: `input.shape`."""

    value: Value
    name: str
    name_span: Span


@dataclass(frozen=True)
class Index(Node):
    """`value[index]`: `input.shape[-1]`, `sizes[i]`."""

    value: Value
    index: Value


@dataclass(frozen=True)
class Argument(Node):
    name: str | None  # None for a positional argument
    value: Value
    name_span: Span | None = None


@dataclass(frozen=True)
class Call(Node):
    """`name(args)`: a layer, a block use, a merge, or a value call such as `l2(1e-4)`."""

    name: str
    arguments: tuple[Argument, ...]
    name_span: Span


@dataclass(frozen=True)
class AppliedCall(Node):
    """`kind(args)(v1, v2, ...)`: the layer (or block) `call` applied to explicit values."""

    call: Call
    values: tuple[Argument, ...]
    values_span: Span  # the second pair of parentheses


@dataclass(frozen=True)
class InputExpr(Node):
    """`input`, `input [shape]` or `input [shape] dtype`."""

    shape: TupleValue | None
    dtype: str | None
    dtype_span: Span | None = None


@dataclass(frozen=True)
class MethodCall(Node):
    """`receiver.name(args)`: `ops.sqrt(x)`."""

    receiver: Value
    name: str
    arguments: tuple[Argument, ...]
    name_span: Span


Value = Union[
    Int,
    Float,
    Bool,
    NoneValue,
    Str,
    Word,
    TupleValue,
    BinaryOp,
    Negate,
    Not,
    Attribute,
    Index,
    Call,
    MethodCall,
    InputExpr,
]


# ---- statements --------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain(Node):
    """`source -> term -> ...`: the source is any value; each later term is a Call, an
    AppliedCall, a Word, an InputExpr, or a Repeat, For or If applied to the chained value."""

    terms: tuple[Value | Repeat | For | If, ...]


@dataclass(frozen=True)
class Binding(Node):
    name: str
    name_span: Span
    chain: Chain


@dataclass(frozen=True)
class Destructure(Node):
    """`a, b = chain`: one name per value of a block of several values (`_` discards one)."""

    names: tuple[Word, ...]
    chain: Chain


@dataclass(frozen=True)
class ChainStatement(Node):
    chain: Chain


@dataclass(frozen=True)
class Output(Node):
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Compile(Node):
    arguments: tuple[Argument, ...]


@dataclass(frozen=True)
class Repeat(Node):
    count: Value
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class For(Node):
    var: str
    var_span: Span
    values: Value
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class If(Node):
    """`if cond { body } else { orelse }`; `else if` is an orelse holding one If."""

    condition: Value
    body: tuple[Statement, ...]
    orelse: tuple[Statement, ...] | None


Statement = Union[Binding, Destructure, ChainStatement, Output, Compile, Repeat, For, If]


# ---- definitions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Param(Node):
    name: str
    default: Value | None


@dataclass(frozen=True)
class Model(Node):
    name: str
    name_span: Span
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class Block(Node):
    name: str
    name_span: Span
    params: tuple[Param, ...]
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class Module:
    """A parsed file."""

    path: str
    text: str
    definitions: tuple[Model | Block, ...]

    @property
    def models(self) -> tuple[Model, ...]:
        return tuple(d for d in self.definitions if isinstance(d, Model))

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(d for d in self.definitions if isinstance(d, Block))
