"""`netspec gen`: generate Keras, PyTorch or NumPy code; `--check` and `--diff` for build steps."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from netspec.app.exit_codes import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from netspec.app.files import (
    DIFF_READ_LIMIT,
    STDIN_LABEL,
    STDIN_PATH,
    OutputError,
    comparison_limit,
    existing_text,
    read_existing,
    read_source,
    same_content,
    same_file,
    unified_diff,
    write_if_changed,
)


def configure_gen(parser: argparse.ArgumentParser) -> None:
    from netspec.targets.base import TARGETS

    parser.add_argument("path", metavar="PATH", help="the .ns file (`-` for standard input)")
    parser.add_argument("--target", "-t", choices=TARGETS, required=True, help="the framework")
    parser.add_argument(
        "--output", "-o", metavar="OUT", help="the .py file to write (default: stdout)"
    )
    parser.add_argument("--model", metavar="NAME", help="generate only this model")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when OUT is not up to date"
    )
    parser.add_argument(
        "--diff", action="store_true", help="write nothing; print what would change in OUT"
    )


def run_gen(args: argparse.Namespace) -> int:
    from netspec.api import generate_source
    from netspec.app.report import render
    from netspec.config.settings import ConfigError, find_settings
    from netspec.targets.base import GenerationError

    if (args.check or args.diff) and not args.output:
        print("netspec gen: error: --check and --diff need --output OUT", file=sys.stderr)
        return EXIT_ERROR

    try:
        source = read_source(args.path, STDIN_LABEL)
    except FileNotFoundError:
        print(f"netspec gen: error: {args.path}: no such file", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(
            f"netspec gen: error: {args.path}: cannot read: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_ERROR
    if source.decode_error is not None:
        print(
            f"netspec gen: error: {args.path}: cannot read: {source.decode_error.message}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.output and _is_the_input(args.path, args.output):
        print(
            f"netspec gen: error: --output {args.output} is the spec "
            f"{'on standard input' if args.path == STDIN_PATH else args.path} itself; "
            "choose a .py file; nothing was written",
            file=sys.stderr,
        )
        return EXIT_ERROR
    shown, text = source.path, source.text
    if args.output and shown != "<stdin>":
        # Relative to the output's folder: the header, and so --check, do not depend on the
        # folder gen runs from.
        out_folder = os.path.dirname(os.path.abspath(args.output))
        shown = Path(os.path.relpath(os.path.abspath(shown), out_folder)).as_posix()
    try:
        # The settings lint finds for this file: the [tool.netspec] of its pyproject.toml.
        settings = find_settings(None if source.path == STDIN_LABEL else source.path)
    except ConfigError as exc:
        print(f"netspec gen: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        code = generate_source(text, shown, args.target, args.model, settings=settings)
    except GenerationError as exc:
        if exc.diagnostics:
            sys.stderr.write(render("concise", exc.diagnostics, {shown: text}, quiet=True))
        print(f"netspec gen: {exc.message}; nothing was written", file=sys.stderr)
        return EXIT_FINDINGS
    if not args.output:
        sys.stdout.write(code)
        return EXIT_CLEAN
    out = Path(args.output)
    try:
        if args.check or args.diff:
            return _compare(out, code, args)
        wrote = write_if_changed(out, code, args.output)
    except OutputError as exc:
        print(f"netspec gen: error: {exc}; nothing was written", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(
            f"netspec gen: error: cannot write {args.output}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print(f"{'wrote' if wrote else 'unchanged'} {args.output}", file=sys.stderr)
    return EXIT_CLEAN


def _compare(out: Path, code: str, args: argparse.Namespace) -> int:
    """`--check` and `--diff`: the old output read with a bound, since a file longer than the
    new code cannot equal it (and `-o` may name something huge)."""
    encoded = code.encode("utf-8")
    limit = (
        max(comparison_limit(encoded), DIFF_READ_LIMIT) if args.diff else comparison_limit(encoded)
    )
    try:
        existing = read_existing(out, limit, args.output)
    except OSError as exc:
        print(
            f"netspec gen: error: cannot read {args.output}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    stale = not same_content(existing, encoded)
    if args.diff and stale:
        if existing is not None and len(existing) > limit:
            print(
                f"netspec gen: {args.output} is over {limit} bytes; its diff is not shown",
                file=sys.stderr,
            )
        else:
            sys.stdout.write(unified_diff(existing_text(existing), code, args.output))
    if args.check and stale:
        print(f"would regenerate {args.output}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _is_the_input(path: str, output: str) -> bool:
    """Whether `output` is the spec being read: the same file, or the file behind standard
    input (`gen - -o spec.ns < spec.ns`)."""
    if path != STDIN_PATH:
        return same_file(path, output)
    try:
        given, there = os.fstat(0), os.stat(output)
    except (OSError, ValueError):
        return False
    return (given.st_dev, given.st_ino) == (there.st_dev, there.st_ino)
