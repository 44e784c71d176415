"""Reading specs (paths, folders, standard input, UTF-8) and writing outputs as build tools expect:
atomically, only when the content changes, through symlinks, and never over a special file."""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from netspec import codes
from netspec.diagnostics import Diagnostic, Severity, Span
from netspec.language.source import MAX_SOURCE_CHARS

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


class OutputError(Exception):
    """An output netspec will not read or replace (not a regular file, read-only, owned by someone
    it cannot hand the new file to): reported on stderr, exit 2, nothing written."""


# The most a spec's file may hold: the parser's limit in characters, 4 bytes each at most in UTF-8.
MAX_SOURCE_BYTES = 4 * MAX_SOURCE_CHARS + len(codecs.BOM_UTF8)
# What `--diff` reads of an old output at most: far more than any generated module or spec.
DIFF_READ_LIMIT = 16 * 1024 * 1024
# Not every platform has it (Windows); where it exists, opening a FIFO must not wait for a writer.
_NONBLOCKING = getattr(os, "O_NONBLOCK", 0)


def output_target(path: Path) -> Path:
    """The file a write to `path` replaces: a symlink's target, so the link stays a link (black)."""
    return Path(os.path.realpath(path))


def same_file(first: str, second: str) -> bool:
    """Whether two paths name one file: links resolved, and hard links too when both exist."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.realpath(first) == os.path.realpath(second)


def _existing_regular(target: Path, shown: str) -> os.stat_result | None:
    """The stat of `target` if it exists; OutputError if it is anything but a regular file."""
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise OutputError(f"{shown} is {_describe(status.st_mode)}, not a regular file")
    return status


def special_file(path: str) -> str | None:
    """What `path` is when it exists but is neither a regular file nor a folder ("a FIFO (named
    pipe)", "a socket", a device), else None: such a path cannot be formatted in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else _describe(mode)


def _describe(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "a special file"


def comparison_limit(encoded: bytes) -> int:
    """How much of an old output to read to tell whether it holds `encoded`: a checkout with
    CRLF line ends (git's autocrlf) holds one more byte per line."""
    return 2 * len(encoded)


def same_content(existing: bytes | None, encoded: bytes) -> bool:
    """Whether an old output holds `encoded`, its line ends aside (CRLF is the same text)."""
    if existing is None:
        return False
    return existing == encoded or existing.replace(b"\r\n", b"\n") == encoded


def read_existing(path: Path, limit: int, shown: str | None = None) -> bytes | None:
    """The bytes of the output at `path` (through a symlink), at most `limit` + 1 of them: a caller
    comparing with `limit` bytes knows a longer file differs without reading it all. None when
    there is no file; OutputError when it is not a regular file (a FIFO, a device, a folder)."""
    shown = str(path) if shown is None else shown
    target = output_target(path)
    if _existing_regular(target, shown) is None:
        return None
    try:
        descriptor = os.open(target, os.O_RDONLY | _NONBLOCKING)
    except FileNotFoundError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        # Checked again on the open file: the path may have been swapped since the stat.
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OutputError(f"{shown} is not a regular file")
        return handle.read(limit + 1)


def write_if_changed(path: Path, content: str, shown: str | None = None) -> bool:
    """Write `content` to `path` unless it is already there, byte for byte. Returns True when it
    wrote.

    A temporary file in the target's folder is renamed over it, so a reader never sees half a
    file and a failed write leaves the old file untouched. A symlink is written through (the
    target gets the content); the replaced file keeps its mode and owner. OutputError, and
    nothing written, for anything but a regular file, a read-only file, or a file whose owner
    could not be kept.
    """
    shown = str(path) if shown is None else shown
    encoded = content.encode("utf-8")
    if same_content(read_existing(path, comparison_limit(encoded), shown), encoded):
        return False
    target = output_target(path)
    existing = _existing_regular(target, shown)
    if existing is not None and (not existing.st_mode & 0o222 or not os.access(target, os.W_OK)):
        # As editors do: a read-only file says "do not change me"; replacing it by a rename
        # would succeed in a writable folder, so it is refused here.
        raise OutputError(
            f"{shown} is read-only; netspec does not replace a read-only file "
            "(make it writable first, e.g. `chmod u+w`)"
        )
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(encoded)
        if existing is None:
            os.chmod(temporary, 0o644)
        else:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
            _keep_owner(temporary, existing, shown)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def _keep_owner(temporary: str, existing: os.stat_result, shown: str) -> None:
    """Give the new file the old one's owner and group, or refuse: a rename must not hand a file
    that belongs to someone else to whoever ran netspec."""
    made = os.stat(temporary)
    if (made.st_uid, made.st_gid) == (existing.st_uid, existing.st_gid):
        return
    try:
        os.chown(temporary, existing.st_uid, existing.st_gid)
    except (PermissionError, AttributeError) as exc:  # AttributeError: no chown (Windows)
        raise OutputError(
            f"{shown} belongs to another user or group; netspec does not replace it "
            "(its owner would change)"
        ) from exc


def existing_text(data: bytes | None) -> str | None:
    """An old output's bytes as text for a diff; bad bytes shown as U+FFFD rather than failing."""
    return None if data is None else data.decode("utf-8", "replace")


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
            try:
                files = list(find_specs(path))
            except OSError as exc:
                yield InputError(f"{path}: cannot read: {exc.strerror or exc}")
                continue
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
    """The *.ns files under `folder`, sorted, skipping hidden and environment folders.

    A subfolder that cannot be read is skipped with a warning on stderr (as ruff does); `folder`
    itself unreadable raises its OSError, as a file would. Special files are not yielded: reading
    a FIFO named `x.ns` would block."""

    def unreadable(error: OSError) -> None:
        if error.filename is not None and os.path.normpath(error.filename) == top:
            raise error
        where = error.filename if error.filename is not None else folder
        reason = error.strerror or str(error)
        print(f"netspec: warning: cannot read folder {where}: {reason}; skipped", file=sys.stderr)

    top = os.path.normpath(folder)
    for root, dirs, files in os.walk(folder, onerror=unreadable):
        # Pruning `dirs` in place stops os.walk from descending; sorting it fixes the order.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            path = os.path.join(root, name)
            # A dangling link is still yielded: reading it reports the missing file.
            if name.endswith(SPEC_SUFFIX) and (os.path.isfile(path) or not os.path.exists(path)):
                yield path


def read_source(path: str, stdin_label: str) -> SourceFile:
    """Read bytes and decode them as UTF-8; a bad byte becomes an NS001 diagnostic, not a crash."""
    if path == STDIN_PATH:
        data = _read_stdin()
        path = stdin_label
    else:
        with open(path, "rb") as file:
            data = file.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        # Never held whole: a huge file (or an endless stream) stops at the bound.
        diagnostic = Diagnostic(
            codes.SYNTAX_ERROR,
            Severity.ERROR,
            f"file is over {MAX_SOURCE_BYTES:,} bytes; netspec reads specs of up to "
            f"{MAX_SOURCE_CHARS:,} characters",
            Span(1, 1, 1, 2, 0, 1),
            help="split the spec, or generate it in smaller pieces",
            path=path,
        )
        return SourceFile(path, "", diagnostic)
    return decode_source(data, path)


def _read_stdin() -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer.read(MAX_SOURCE_BYTES + 1)
    # A text stream without bytes underneath (an embedding host or a test): take its text.
    return sys.stdin.read(MAX_SOURCE_BYTES + 1).encode("utf-8", "surrogateescape")


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
