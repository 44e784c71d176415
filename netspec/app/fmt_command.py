"""`netspec fmt`: format .ns files in place, as black does; `--check` and `--diff` for CI."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netspec.diagnostics import Diagnostic

from netspec.app.exit_codes import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from netspec.app.files import (
    STDIN_LABEL,
    STDIN_PATH,
    InputError,
    OutputError,
    read_source,
    read_sources,
    special_file,
    unified_diff,
    write,
    write_if_changed,
)


def configure_fmt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files or folders (searched for *.ns); `-` formats standard input to standard output",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a file would be reformatted, and say which",
    )
    parser.add_argument(
        "--diff", action="store_true", help="write nothing; print a unified diff of the changes"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="print errors only, no per-file lines or count"
    )


@dataclass
class _Tally:
    changed: int = 0
    unchanged: int = 0
    failed: int = 0  # did not parse: a finding
    broken: bool = False  # an I/O error or an internal fault


def run_fmt(args: argparse.Namespace) -> int:

    tally = _Tally()
    seen: set[str] = set()
    for path in args.paths:
        if path == STDIN_PATH:
            try:
                source = read_source(STDIN_PATH, STDIN_LABEL)
            except OSError as exc:
                _error(f"cannot read standard input: {exc.strerror or exc}")
                tally.broken = True
                continue
            _format_one(source.path, source.text, source.decode_error, args, tally, stdin=True)
            continue
        special = None if args.check or args.diff else special_file(path)
        if special is not None:
            # Refused before reading: opening a FIFO would wait for a writer, and none of these
            # can be replaced by a formatted file anyway.
            _error(f"{path} is {special}, not a regular file; nothing was written")
            tally.broken = True
            continue
        for found in read_sources([path], STDIN_LABEL):
            if isinstance(found, InputError):
                _error(str(found))
                tally.broken = True
                continue
            if found.path in seen:
                continue
            seen.add(found.path)
            _format_one(found.path, found.text, found.decode_error, args, tally, stdin=False)
    if not args.quiet:
        summary = _summary(tally, args.check or args.diff)
        if summary:
            write(sys.stderr, summary + "\n")
    if tally.broken:
        return EXIT_ERROR
    if tally.failed or (args.check and tally.changed):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _format_one(
    path: str,
    text: str,
    decode_error: Diagnostic | None,
    args: argparse.Namespace,
    tally: _Tally,
    *,
    stdin: bool,
) -> None:
    from netspec.app.report import render
    from netspec.language.fmt import FormatError, format_result

    if decode_error is not None:
        write(sys.stderr, render("concise", [decode_error], {path: text}, quiet=True))
        tally.failed += 1
        return
    try:
        result = format_result(text, path)
    except FormatError as exc:
        _error(f"cannot format {path}: {exc}; nothing was written")
        tally.broken = True
        if stdin and not (args.check or args.diff):
            write(sys.stdout, text)
        return
    if result.diagnostic is not None:
        write(sys.stderr, render("concise", [result.diagnostic], {path: text}, quiet=True))
        tally.failed += 1
        if stdin and not (args.check or args.diff):
            write(sys.stdout, text)  # a filter gives its input back when it cannot format it
        return
    if result.changed:
        tally.changed += 1
    else:
        tally.unchanged += 1
    if args.diff and result.changed:
        write(sys.stdout, _diff(text, result.text, path))
    if args.check or args.diff:
        if args.check and result.changed and not args.quiet:
            write(sys.stderr, f"would reformat {path}\n")
        return
    if stdin:
        write(sys.stdout, result.text)
        return
    if not result.changed:
        return

    try:
        # Through a symlink to its target; a read-only or special file is refused, not replaced.
        write_if_changed(Path(path), result.text)
    except OutputError as exc:
        _error(f"{exc}; nothing was written")
        tally.changed -= 1
        tally.broken = True
        return
    except OSError as exc:
        _error(f"cannot write {path}: {exc.strerror or exc}")
        tally.changed -= 1
        tally.broken = True
        return
    if not args.quiet:
        write(sys.stderr, f"reformatted {path}\n")


def _diff(old: str, new: str, path: str) -> str:

    return unified_diff(old, new, path, label="formatted")


def _summary(tally: _Tally, dry_run: bool) -> str:
    """Black's closing line: "1 file reformatted, 2 files left unchanged." and the like."""
    parts = []
    if tally.changed:
        verb = "would be reformatted" if dry_run else "reformatted"
        parts.append(f"{_files(tally.changed)} {verb}")
    if tally.unchanged:
        verb = "would be left unchanged" if dry_run else "left unchanged"
        parts.append(f"{_files(tally.unchanged)} {verb}")
    if tally.failed:
        parts.append(f"{_files(tally.failed)} not formatted (syntax errors)")
    return ", ".join(parts) + "." if parts else ""


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def _error(message: str) -> None:
    print(f"netspec fmt: error: {message}", file=sys.stderr)
