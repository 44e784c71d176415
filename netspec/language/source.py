"""A spec's text as the parser reads it: its line ends, and its comments (which the grammar drops;
`# noqa` and the formatter read them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The most text a spec may hold; the reader refuses larger files before decoding them.
MAX_SOURCE_CHARS = 4 * 1024 * 1024

_LONE_CR = re.compile(r"\r(?!\n)")


def normalize_newlines(text: str) -> str:
    """Old Mac line ends (a CR alone) read as newlines; one character for one, so every offset,
    line and column stays that of the text as given (CRLF needs nothing: CR is whitespace)."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


@dataclass(frozen=True)
class Comment:
    """A comment: where its `#` stands (1-based line and column, character offset) and its text."""

    line: int
    column: int
    offset: int
    text: str
    own_line: bool  # nothing but blanks before it on its line


def find_comments(text: str) -> Iterator[Comment]:
    """Every comment of the text; a `#` inside a double-quoted string does not start one."""
    offset = 0
    # Lines as the parser counts them: split at "\n" only.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        start = _comment_start(line)
        if start is not None:
            yield Comment(number, start + 1, offset + start, line[start:], not line[:start].strip())
        offset += len(raw) + 1


def _comment_start(line: str) -> int | None:
    """The index of the `#` that starts the line's comment, skipping strings (one line each)."""
    if "#" not in line:
        return None
    in_string = escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return index
    return None
