"""Reading specs (paths, folders, standard input, UTF-8) and writing outputs as build tools expect:
atomically, and only when the content changes."""

from __future__ import annotations

import codecs
import difflib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from netspec import codes
from netspec.diagnostics import Diagnostic, Severity, Span

STDIN_PATH = "-"
STDIN_LABEL = "<stdin>"
SPEC_SUFFIX = ".ns"
# Folders never searched (hidden folders are skipped too): environments and vendored packages.
SKIPPED_FOLDERS = frozenset({".venv", "venv", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class SourceFile:
    """One file read for linting: the path shown, its text, and a diagnostic if it is not UTF-8."""

    path: str
    text: str
    decode_error: Diagnostic | None = None


class InputError(Exception):
    """A path that does not exist or cannot be read: reported on stderr, exit 2."""


def read_existing(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_if_changed(path: Path, content: str) -> bool:
    """Write `content` to `path` unless it is already there. Returns True when it wrote.

    A temporary file in the same folder is renamed over the target, so a reader never sees half
    a file and a failed write leaves the old file untouched.
    """
    if read_existing(path) == content:
        return False
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def unified_diff(old: str | None, new: str, path: str, label: str = "generated") -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} (on disk)" if old is not None else "/dev/null",
        tofile=f"{path} ({label})",
    )
    return "".join(lines)


# --- reading inputs --------------------------------------------------------------------------


def read_sources(paths: Sequence[str], stdin_label: str) -> Iterator[SourceFile | InputError]:
    """Every file to lint, in order and once each; a bad path yields an InputError and goes on."""
    seen: set[str] = set()
    for path in paths:
        if path == STDIN_PATH:
            files: Iterator[str] | list[str] = [STDIN_PATH]
        elif os.path.isdir(path):
            files = list(find_specs(path))
            if not files:
                # As ruff: say so rather than pass silently on a folder with nothing to check.
                print(f"netspec: warning: no .ns files found under {path}", file=sys.stderr)
        elif os.path.exists(path):
            files = [path]
        else:
            yield InputError(f"{path}: no such file or folder")
            continue
        for file in files:
            # normpath shows `./a/b.ns` as `a/b.ns` (as ruff) and finds a file named twice.
            file = file if file == STDIN_PATH else os.path.normpath(file)
            if file in seen:
                continue
            seen.add(file)
            try:
                yield read_source(file, stdin_label)
            except OSError as exc:
                yield InputError(f"{file}: cannot read: {exc.strerror or exc}")


def find_specs(folder: str) -> Iterator[str]:
    """The *.ns files under `folder`, sorted, skipping hidden and environment folders."""
    for root, dirs, files in os.walk(folder):
        # Pruning `dirs` in place stops os.walk from descending; sorting it fixes the order.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.endswith(SPEC_SUFFIX):
                yield os.path.join(root, name)


def read_source(path: str, stdin_label: str) -> SourceFile:
    """Read bytes and decode them as UTF-8; a bad byte becomes an NS001 diagnostic, not a crash."""
    if path == STDIN_PATH:
        data = _read_stdin()
        path = stdin_label
    else:
        with open(path, "rb") as file:
            data = file.read()
    return decode_source(data, path)


def _read_stdin() -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer.read()
    # A text stream without bytes underneath (an embedding host or a test): take its text.
    return sys.stdin.read().encode("utf-8", "surrogateescape")


def decode_source(data: bytes, path: str) -> SourceFile:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return SourceFile(path, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        # Everything before the bad byte is valid, so its code points give the column.
        before = data[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        span = Span(line, column, line, column + 1, len(before), len(before) + 1)
        diagnostic = Diagnostic(
            codes.SYNTAX_ERROR,
            Severity.ERROR,
            f"file is not UTF-8 text: invalid byte 0x{data[exc.start]:02x}",
            span,
            help="save the file as UTF-8",
            path=path,
        )
        # The text with U+FFFD for bad bytes still shows the line, and the column is unchanged.
        return SourceFile(path, data.decode("utf-8", "replace"), diagnostic)


# --- output ----------------------------------------------------------------------------------


def use_color(stream: TextIO) -> bool:
    """ANSI colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write(stream: TextIO, text: str) -> None:
    """Write text; characters the stream cannot encode are escaped rather than crashing."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
    stream.flush()
