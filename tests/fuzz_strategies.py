"""Hypothesis strategies that fuzz netspec: raw text, mutated example specs, specs drawn from the
grammar's shape and the layer catalog; shared by tests/test_fuzz.py and benchmarks/fuzz.py."""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Iterator
from pathlib import Path

from hypothesis import strategies as st

from netspec.layers.base import Arg, LayerKind, ValueKind
from netspec.layers.calls import Family, lookup_call
from netspec.layers.catalog import all_kinds
from netspec.layers.common import CONSTRAINTS, INITIALIZERS, REGULARIZERS
from netspec.layers.ops import is_operation
from netspec.layers.training import LOSSES, METRICS, OPTIMIZERS
from netspec.layers.traits import Merge, Wrapper

ROOT = Path(__file__).resolve().parent.parent
SEED_SPECS: tuple[str, ...] = tuple(
    path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "examples").glob("*.ns"))
    + sorted((ROOT / "tests" / "codegen_cases").glob("*.ns"))
)
FAMILIES = ("raw", "mutation", "grammar")

# Number tokens a user (or an attacker) may write where a small number is expected.
HOSTILE_NUMBERS: tuple[str, ...] = (
    "0", "-1", "-0.0", "0.0", "1.5", "3.", ".5", "1_000", "1e-999", "1e999", "-1e999",
    "nan", "inf", "-inf", "NaN", "2147483648", "18446744073709551617", "20000000000",
    "1" + "0" * 400, "1" + "0" * 30 + ".0", "10000", "99999999999999999999e99",
)  # fmt: skip
PUNCTUATION = ("(", ")", "[", "]", "{", "}", ",", "=", "->", ";", "\n", "//", "*", "-", "+")
KEYWORDS = ("model", "block", "input", "output", "compile", "repeat", "for", "in", "None")
_TOKEN = re.compile(r"\s+|[A-Za-z_]\w*|\d[\w.]*|\.\d\w*|->|//|\"[^\"\n]*\"|#[^\n]*|.")


class InputTimeout(Exception):
    """One input ran past its time limit (raised by `time_limit`)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a run that hangs (a loop with no bound), so a hang is a failure, not a stall.
    A no-op where SIGALRM does not exist or off the main thread."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise InputTimeout(f"no answer within {seconds} s")

    try:
        previous = signal.signal(signal.SIGALRM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- (a) raw bytes and text ------------------------------------------------------------------


def raw_inputs() -> st.SearchStrategy[str]:
    """Random text, random bytes decoded as a file reader would, and soups of the grammar's tokens."""
    words = st.sampled_from(
        (*KEYWORDS, *PUNCTUATION, *HOSTILE_NUMBERS, "dense", "conv2d", "relu", "x", '"s"', "#c")
    )
    soup = st.lists(words, max_size=60).map(" ".join)
    decoded = st.binary(max_size=400).map(lambda b: b.decode("utf-8", errors="replace"))
    return st.one_of(st.text(max_size=300), decoded, soup)


# ---- (b) mutations of the example specs --------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@st.composite
def mutated_specs(draw: st.DrawFn) -> str:
    """An example spec with 1-5 edits: lines or tokens deleted, doubled or swapped, numbers
    replaced by hostile ones, brackets inserted."""
    text = draw(st.sampled_from(SEED_SPECS))
    for _ in range(draw(st.integers(1, 5))):
        edit = draw(st.sampled_from(("line", "token", "number", "bracket")))
        if edit == "line":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            how = draw(st.sampled_from(("delete", "duplicate", "swap")))
            if how == "delete":
                del lines[i]
            elif how == "duplicate":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
            continue
        tokens = _tokens(text)
        if not tokens:
            break
        i, j = draw(st.integers(0, len(tokens) - 1)), draw(st.integers(0, len(tokens) - 1))
        if edit == "token":
            how = draw(st.sampled_from(("delete", "duplicate", "swap")))
            if how == "delete":
                del tokens[i]
            elif how == "duplicate":
                tokens.insert(j, tokens[i])
            else:
                tokens[i], tokens[j] = tokens[j], tokens[i]
        elif edit == "number":
            numbers = [k for k, token in enumerate(tokens) if token[:1].isdigit()]
            if numbers:
                tokens[draw(st.sampled_from(numbers))] = draw(st.sampled_from(HOSTILE_NUMBERS))
        else:
            tokens.insert(i, draw(st.sampled_from(("(", ")", "[", "]", "{", "}"))))
        text = "".join(tokens)
    return text


# ---- (c) specs from the grammar's shape and the catalog ----------------------------------------

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "linear", "gelu", "elu", "selu", "swish")
SAFE_FLOATS = (0.0, 0.001, 0.1, 0.25, 0.5, 0.9, 1.0, 1.5, 2.0)
# Arguments a generated spec leaves at their defaults when it must build: they need facts the
# generator does not track (dtypes, layouts, strings) or make every target refuse.
UNTYPED = {ValueKind.DTYPE, ValueKind.ANY, ValueKind.STRING, ValueKind.SHAPE}
_SKIPPED_ARGS = {"data_format", "groups", "dilation_rate", "return_state", "lora_rank"}


def _number(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@st.composite
def _call_value(draw: st.DrawFn, names: tuple[str, ...], typed: bool) -> str:
    """An initializer, regularizer or constraint: a bare name or a call with Keras' keywords."""
    name = draw(st.sampled_from(names))
    if typed or draw(st.booleans()):
        return name
    keyword = draw(st.sampled_from(("seed", "stddev", "value", "l2", "max_value", "bogus", "mean")))
    value = draw(st.sampled_from((*HOSTILE_NUMBERS, '"x"', "relu", "true")))
    return f"{name}({keyword}={value})"


@st.composite
def argument_value(draw: st.DrawFn, arg: Arg, typed: bool) -> str:
    """A value for one argument from its kind and range; with `typed` false, sometimes a hostile
    value or one of another kind."""
    if not typed and draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from((*HOSTILE_NUMBERS, "relu", '"x"', "None", "(1, 2)", "[]")))
    low = 0 if arg.minimum is None else int(max(arg.minimum, -2))
    kind = arg.kind
    if kind is ValueKind.INT:
        return str(draw(st.integers(max(low, 1) if arg.name != "seed" else 0, max(low, 1) + 7)))
    if kind is ValueKind.FLOAT:
        ok = [
            x
            for x in SAFE_FLOATS
            if (arg.minimum is None or x >= arg.minimum)
            and (arg.below is None or x < arg.below)
            and (arg.maximum is None or x <= arg.maximum)
        ]
        return _number(draw(st.sampled_from(ok)))
    if kind is ValueKind.BOOL:
        return draw(st.sampled_from(("true", "false")))
    if kind is ValueKind.CHOICE:
        return draw(st.sampled_from(arg.choices))
    if kind in (ValueKind.INT_TUPLE, ValueKind.PADDING_PAIRS):
        small = st.integers(max(low, 0 if kind is ValueKind.PADDING_PAIRS else 1), 3)
        if arg.rank <= 1 or draw(st.booleans()):
            return str(draw(small))
        return "(" + ", ".join(str(draw(small)) for _ in range(arg.rank)) + ")"
    if kind is ValueKind.SHAPE:
        dims = draw(st.lists(st.sampled_from((-1, 1, 2, 3, 4, 6)), min_size=1, max_size=3))
        return "(" + ", ".join(map(str, dims)) + ",)"
    if kind is ValueKind.AXIS:
        return draw(st.sampled_from(("-1", "1", "(1, 1)")))
    if kind is ValueKind.ACTIVATION:
        return draw(st.sampled_from(ACTIVATIONS))
    if kind is ValueKind.INITIALIZER:
        return draw(_call_value(("glorot_uniform", "zeros", "ones", "he_normal") if typed
                                else INITIALIZERS, typed))  # fmt: skip
    if kind is ValueKind.REGULARIZER:
        return draw(_call_value(("l1", "l2") if typed else REGULARIZERS, typed))
    if kind is ValueKind.CONSTRAINT:
        return draw(_call_value(("non_neg", "max_norm") if typed else CONSTRAINTS, typed))
    if kind is ValueKind.LAYER:
        inner = draw(st.sampled_from(("lstm", "gru", "simple_rnn", "dense")))
        return f"{inner}({draw(st.integers(1, 6))})"
    if kind is ValueKind.DTYPE:
        return draw(st.sampled_from(("float32", "int32", "bogus")))
    return draw(st.sampled_from(('"x"', "relu", "1")))


@st.composite
def layer_call(draw: st.DrawFn, kind: LayerKind, typed: bool) -> str:
    """`kind(args)`: its required arguments (positional or by keyword) and a few optional ones."""
    parts: list[str] = []
    positional = True
    for arg in kind.args:
        if arg.required:
            value = draw(argument_value(arg, typed))
            positional = positional and draw(st.integers(0, 3)) > 0
            parts.append(value if positional else f"{arg.name}={value}")
            continue
        positional = False
        if typed and (arg.kind in UNTYPED or arg.name in _SKIPPED_ARGS):
            continue
        if draw(st.integers(0, 5)) == 0:
            parts.append(f"{arg.name}={draw(argument_value(arg, typed))}")
    if not parts and draw(st.booleans()):
        return kind.name
    return f"{kind.name}({', '.join(parts)})"


def layer_kinds() -> tuple[LayerKind, ...]:
    """The kinds a spec writes as layers: operations on values come from expressions."""
    return tuple(kind for kind in all_kinds() if not is_operation(kind))


def _kinds_for_rank(rank: int, typed: bool) -> tuple[LayerKind, ...]:
    """The chainable kinds (no inputs, merges) that take a value of `rank` (batch left out)."""
    chainable = [
        kind
        for kind in layer_kinds()
        if kind.min_inputs == 1 and kind.traits.merge is Merge.NONE and kind.name != "embedding"
    ]
    if not typed:
        return tuple(chainable)
    fitting = []
    for kind in chainable:
        spatial = kind.traits.spatial_rank
        if any(arg.required and arg.kind in UNTYPED for arg in kind.args):
            continue
        if spatial is not None:
            if rank == spatial + 1:
                fitting.append(kind)
        elif kind.traits.recurrent or kind.traits.wrapper is not Wrapper.NONE:
            if rank == 2:
                fitting.append(kind)
        elif kind.name == "repeat_vector":
            if rank == 1:
                fitting.append(kind)
        else:
            fitting.append(kind)
    return tuple(fitting)


def _rank_after(kind: LayerKind, call: str, rank: int) -> int:
    """The rank a value has after `call` (approximate: the generator needs no exact shapes)."""
    keeps = "keepdims=true" in call or "return_sequences=true" in call
    if kind.traits.pooling is not None and kind.traits.window is None:
        return rank if keeps else 1
    if kind.traits.recurrent:
        return rank if keeps else 1
    if kind.traits.wrapper is Wrapper.PER_STEP:
        return rank if "lstm" not in call and "gru" not in call and "rnn" not in call else 2
    if kind.name == "flatten":
        return 1
    if kind.name == "repeat_vector":
        return 2
    return rank


@st.composite
def chain(draw: st.DrawFn, rank: int, typed: bool, max_layers: int = 4) -> tuple[str, int]:
    """`layer -> layer ...` from a value of `rank`, and the rank it ends with."""
    calls = []
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(_kinds_for_rank(rank, typed)))
        call = draw(layer_call(kind, typed))
        calls.append(call)
        rank = _rank_after(kind, call, rank)
    return " -> ".join(calls), rank


def _keeping_kinds(typed: bool) -> tuple[LayerKind, ...]:
    """Kinds that keep any input's shape: they may stand in a merge branch, a loop or a block."""
    return tuple(
        kind
        for kind in layer_kinds()
        if kind.traits.spatial_rank is None
        and kind.min_inputs == 1
        and kind.traits.merge is Merge.NONE
        and not kind.traits.recurrent
        and not kind.traits.new_layout
        and kind.traits.wrapper is Wrapper.NONE
        and kind.traits.pooling is None
        and kind.name not in ("input", "dense")
        and not (typed and kind.name == "group_norm")  # its 32 groups rarely divide the channels
    )


@st.composite
def keeping_chain(draw: st.DrawFn, typed: bool) -> str:
    kinds = _keeping_kinds(typed)
    calls = [
        draw(layer_call(draw(st.sampled_from(kinds)), typed))
        for _ in range(draw(st.integers(1, 3)))
    ]
    return " -> ".join(calls)


@st.composite
def input_line(draw: st.DrawFn, typed: bool) -> tuple[str, int]:
    rank = draw(st.integers(1, 4))
    dims = [draw(st.integers(6, 12)) for _ in range(rank - 1)] + [draw(st.integers(1, 4))]
    if not typed and draw(st.integers(0, 3)) == 0:
        dims[draw(st.integers(0, rank - 1))] = draw(st.sampled_from(("None", "0", "-3", "1e999")))
    return f"input [{', '.join(map(str, dims))}]", rank


# The kinds of a call's argument that a typed spec draws in range; the others keep defaults.
_TYPED_CALL_KINDS = {ValueKind.INT, ValueKind.FLOAT, ValueKind.BOOL, ValueKind.CHOICE}


@st.composite
def catalog_call(draw: st.DrawFn, family: Family, names: tuple[str, ...]) -> str:
    """A loss, optimizer or metric: a bare name, or a call with some of its Keras arguments
    drawn from the catalog of calls in their kinds and ranges (relations between arguments,
    such as one clip only, are left to lint to refuse)."""
    name = draw(st.sampled_from(names))
    entry = lookup_call(family, name)
    if entry is None or draw(st.booleans()):
        return name
    args = [a for a in entry.args if a.kind in _TYPED_CALL_KINDS and a.name != "seed"]
    if not args:
        return name
    chosen = draw(st.lists(st.sampled_from(args), unique_by=lambda a: a.name, max_size=3))
    return f"{name}({', '.join(f'{a.name}={draw(argument_value(a, True))}' for a in chosen)})"


@st.composite
def compile_line(draw: st.DrawFn, typed: bool) -> str:
    if typed:
        loss = draw(catalog_call(Family.LOSS, LOSSES))
        optimizer = draw(catalog_call(Family.OPTIMIZER, OPTIMIZERS))
        metrics = draw(st.lists(catalog_call(Family.METRIC, METRICS), max_size=2))
        return f"compile(loss={loss}, optimizer={optimizer}, metrics=[{', '.join(metrics)}])"
    loss = draw(st.sampled_from(LOSSES))
    optimizer = draw(st.sampled_from(OPTIMIZERS))
    if draw(st.booleans()):
        keyword = draw(st.sampled_from(("learning_rate", "momentum", "bogus", "beta_1")))
        optimizer += f"({keyword}={draw(st.sampled_from(HOSTILE_NUMBERS))})"
    metrics = draw(st.lists(st.sampled_from(METRICS), max_size=2))
    return f"compile(loss={loss}, optimizer={optimizer}, metrics=[{', '.join(metrics)}])"


@st.composite
def grammar_specs(draw: st.DrawFn, typed: bool = False) -> str:
    """A file of blocks and one model: an input, bindings, chains, merges, `repeat`, `for`, block
    uses and `compile`. `typed` keeps ranks and argument values right, so that many lint clean."""
    blocks: list[str] = []
    for b in range(draw(st.integers(0, 2))):
        body = draw(keeping_chain(typed))
        units = "" if typed else draw(st.sampled_from(("", "; repeat n { relu }", "; blk0(n)")))
        blocks.append(f"block blk{b}(n=2) {{\n    {body}\n    dense(n){units}\n}}")
    line, rank = draw(input_line(typed))
    lines = [f"x0 = {line}"]
    # `flow` is the rank of the value a bare line takes (a binding with no source takes it too);
    # `at_current`: that value is still the one bound to `current`.
    current, flow, names, at_current = "x0", rank, 1, True
    for _ in range(draw(st.integers(1, 6))):
        statement = draw(st.sampled_from(("chain", "bind", "merge", "repeat", "for", "block")))
        if statement == "chain":
            text, flow = draw(chain(flow, typed))
            lines.append(text)
        elif statement == "bind":
            text, flow = draw(chain(flow, typed))
            source = f"{current} -> " if at_current and draw(st.booleans()) else ""
            lines.append(f"x{names} = {source}{text}")
            current, names = f"x{names}", names + 1
        elif statement == "merge":
            merge = draw(st.sampled_from(("add", "multiply", "average", "maximum", "concat")))
            first, second = f"x{names}", f"x{names + 1}"
            lines.append(f"{first} = {draw(keeping_chain(typed))}")
            lines.append(f"{second} = {first} -> {draw(keeping_chain(typed))}")
            lines.append(f"x{names + 2} = {merge}({first}, {second})")
            current, names = f"x{names + 2}", names + 3
        elif statement == "repeat":
            counts = ("0", "1", "3")
            if not typed and draw(st.integers(0, 9)) == 0:  # rare: each big one costs seconds
                counts = ("-1", "10000", "2 * 3 - 1", "x0", "n")
            lines.append(
                f"repeat {draw(st.sampled_from(counts))} {{ {draw(keeping_chain(typed))} }}"
            )
        elif statement == "for":
            values = ", ".join(str(draw(st.integers(1, 8))) for _ in range(draw(st.integers(1, 3))))
            lines.append(f"for v in ({values},) {{ dense(v) -> relu }}")
        elif blocks:
            lines.append(f"blk{draw(st.integers(0, len(blocks) - 1))}({draw(st.integers(1, 6))})")
        at_current = statement in ("bind", "merge")
    if typed:
        lines.append("dense(2)")
    if draw(st.booleans()):
        lines.append(draw(compile_line(typed)))
    model = "model fuzz {\n" + "".join(f"    {line}\n" for line in lines if line) + "}"
    return "\n\n".join([*blocks, model]) + "\n"


def family(name: str) -> st.SearchStrategy[str]:
    """The strategy of one family: raw, mutation or grammar (loose and typed specs mixed)."""
    if name == "raw":
        return raw_inputs()
    if name == "mutation":
        return mutated_specs()
    if name == "grammar":
        return st.one_of(grammar_specs(typed=False), grammar_specs(typed=True))
    raise ValueError(f"unknown family {name!r}; choose one of {', '.join(FAMILIES)}")
