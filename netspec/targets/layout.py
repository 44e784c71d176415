"""Generated statements laid out as black leaves them, so that black need not run on every gen.

A statement that fits in black's 88 columns stays on one line. A longer one has its first call
(or list, dict, tuple) opened one element per line with a trailing comma: black's "magic trailing
comma" keeps that layout as it is. What this cannot lay out (an operator outside all brackets, a
lambda) stays long; base.format_python then hands the module to black. tests/test_black_layout.py
checks that black leaves the output of every example and case unchanged.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

LINE_LENGTH = 88  # black's default, which the generated modules are formatted with

_OPENING = "([{"
_CLOSING = ")]}"
# What may stand before the expression laid out: `a, b = `, `return `, `del `, `key=`, `"key": `.
_PREFIX = re.compile(r"(?:[\w.]+(?:, [\w.]+)* = |return |del |\w+=(?!=)|(?:\"[^\"\\]*\"|\d+): )")


def lay_out(text: str, indent: int, suffix: str = "") -> str:
    """`text` (one statement or element, without its indentation) followed by `suffix`, in
    black's layout at `indent` columns. Lines after the first carry their own indentation; the
    first carries none (the template puts it)."""
    if indent + len(text) + len(suffix) <= LINE_LENGTH or "\n" in text:
        return text + suffix
    lines = _explode(text, indent, suffix)
    return "\n".join(lines) if lines is not None else text + suffix


def docstring(lines: Sequence[str], indent: int) -> str:
    """A docstring of `lines` at `indent` as black leaves it: blank lines without indentation,
    and the closing quotes on a line of their own when the last line leaves them no room."""
    body = [lines[0], *((" " * indent + line) if line else "" for line in lines[1:])]
    if len(body) > 1 and len(body[-1]) + 3 > LINE_LENGTH:
        body.append(" " * indent)
    return '"""' + "\n".join(body) + '"""'


def fits(laid: str, indent: int) -> bool:
    """Every line of lay_out's result fits in black's line length."""
    first, *rest = laid.split("\n")
    return indent + len(first) <= LINE_LENGTH and all(len(line) <= LINE_LENGTH for line in rest)


def _explode(text: str, indent: int, suffix: str) -> list[str] | None:
    """The lines of `text` opened at one of its brackets (the first whose first and last lines
    fit), or wrapped in parentheses as black wraps a bare tuple or a sum; None when this knows
    no layout black keeps (the caller then leaves the line long, and black formats the module)."""
    prefix = _PREFIX.match(text)
    start = prefix.end() if prefix else 0
    rest = text[start:]
    parts = _split_top(rest)
    if parts is None:
        return None
    commas, terms = parts
    if start and len(commas) > 1:  # `return a, b` and `x = a, b`: black adds the parentheses
        return _open(text[:start] + "(" + rest + ")", start, len(text) + 1, indent, suffix)
    if start and terms is not None:
        return _wrap_terms(text[:start], terms, indent, suffix)
    # black's right-hand split: the last bracket whose first line fits, else one before it
    for open_at, close_at in reversed(_brackets(text, start)):
        lines = _open(text, open_at, close_at, indent, suffix)
        if lines is not None:
            return lines
    return None


def _open(text: str, open_at: int, close_at: int, indent: int, suffix: str) -> list[str] | None:
    """`text` with the bracket at `open_at` opened, one element per line and a trailing comma."""
    head, body, tail = text[: open_at + 1], text[open_at + 1 : close_at], text[close_at:]
    first, last = head, tail + suffix
    if indent + len(first) > LINE_LENGTH or indent + len(last) > LINE_LENGTH:
        return None
    parts = _split_top(body)
    if parts is None or not parts[0] or not all(parts[0]):
        return None
    elements = parts[0]
    if text[open_at] == "(" and not _is_call(text, open_at) and len(elements) < 2:
        return None  # a parenthesised expression or a one-tuple: a comma would change it
    if any(e.startswith("lambda ") and indent + 5 + len(e) > LINE_LENGTH for e in elements):
        return None  # black splits inside a long lambda in its own way
    lines = [first]
    inner = indent + 4
    for element in elements:
        first_line, *others = lay_out(element, inner, ",").split("\n")
        lines.append(" " * inner + first_line)
        lines.extend(others)
    lines.append(" " * indent + last)
    return lines


def _wrap_terms(prefix: str, terms: list[str], indent: int, suffix: str) -> list[str] | None:
    """`x = a + b + c` as black lays out a sum of three or more terms that does not fit, and
    `x = a.f(b).g(c).h(d)` a chain of two or more calls on a call: in parentheses, on one line
    inside them when it fits there, else a term (`+ b`) or a link (`.g(c)`) per line."""
    inner = indent + 4
    if indent + len(prefix) + 1 > LINE_LENGTH or indent + 1 + len(suffix) > LINE_LENGTH:
        return None
    body = terms[0] + "".join(t if t.startswith(".") else " " + t for t in terms[1:])
    if inner + len(body) <= LINE_LENGTH:
        middle = [" " * inner + body]
    else:
        middle = [" " * inner + term for term in terms]
        if any(len(line) > LINE_LENGTH for line in middle):
            return None
    return [prefix + "(", *middle, " " * indent + ")" + suffix]


def _brackets(text: str, start: int):
    """Each call or display at depth 0 from `start` that has something inside, with its closing
    bracket, when what stands around it at depth 0 is a dotted name with trailers (no operator
    or space black could split at instead). Subscripts are skipped: a trailing comma in one
    would make a tuple of the index."""
    found, open_at = [], -1
    for index, char, depth in _code_chars(text, start):
        if char in _OPENING:
            if depth == 0:
                open_at = index
        elif char in _CLOSING:
            if depth == 0:
                return []
            if depth == 1:
                subscript = text[open_at] == "[" and _is_call(text, open_at)
                if not subscript and index > open_at + 1:
                    found.append((open_at, index))
        elif depth == 0 and not (char.isalnum() or char in "_."):
            return []
    return found


def _code_chars(text: str, start: int = 0):
    """Each character of `text` from `start` that is not inside a string literal (nor a quote
    opening one), with the bracket depth before it."""
    depth, quote, index = 0, "", start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        else:
            yield index, char, depth
            if char in _OPENING:
                depth += 1
            elif char in _CLOSING:
                depth -= 1
        index += 1


def _is_call(text: str, at: int) -> bool:
    """The bracket at `at` follows a name or a closing bracket: a call or a subscript."""
    before = text[at - 1] if at > 0 else " "
    return before.isalnum() or before in "_)]"


def _split_top(text: str) -> tuple[list[str], list[str] | None] | None:
    """`text` at its top-level commas (a trailing one dropped), and, when it is one expression
    with three or more terms joined by `+` or `-` at the top, those terms, each but the first
    with its operator (`+ b`); or the links of a chain of three or more calls (`.f(x)`). None for a comprehension, a conditional or a lambda with
    several parameters, which this does not lay out."""
    elements, begin = [], 0
    signs: list[int] = []  # where `+` or `-` join terms at depth 0
    links: list[int] = []  # where a call or subscript is followed by `.name`
    for index, char, depth in _code_chars(text):
        if depth != 0:
            continue
        if char == ",":
            elements.append(text[begin:index].strip())
            begin = index + 1
        elif text.startswith((" + ", " - "), index):
            signs.append(index)
        elif char == "." and index and text[index - 1] in ")]":
            links.append(index)
    last = text[begin:].strip()
    if last:
        elements.append(last)
    for element in elements:
        words = set(_top_level(element).split())
        if words & {"for", "async", "if", "else", "and", "or", "not", "in", "is"}:
            return None
        if element.startswith("lambda ") and ":" not in _top_level(element):
            return None  # a lambda of several parameters, cut at their commas
    terms = None
    if len(elements) == 1 and len(signs) >= 2 and _only_arithmetic(text):
        cuts = [0, *(at + 1 for at in signs), len(text)]
        terms = [text[a:b].strip() for a, b in itertools.pairwise(cuts)]
    elif len(elements) == 1 and not signs and len(links) >= 2 and " " not in _top_level(text):
        cuts = [0, *links, len(text)]
        terms = [text[a:b] for a, b in itertools.pairwise(cuts)]
    return elements, terms


def _only_arithmetic(text: str) -> bool:
    """No operator at depth 0 binds more loosely than `+` and `-` (comparisons, bitwise, lambda):
    black then splits a long sum at its `+` and `-`."""
    loose = {"|", "&", "^", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "lambda"}
    return not set(_top_level(text).split()) & loose


def _top_level(text: str) -> str:
    """`text` with strings blanked and what stands inside brackets dropped."""
    text = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", '""', text)
    kept, depth = [], 0
    for char in text:
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)
