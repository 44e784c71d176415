"""The `netspec` command line: argparse subcommands over the Python API, with ruff's exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from netspec.app.exit_codes import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from netspec.app.files import (
    STDIN_LABEL,
    STDIN_PATH,
    InputError,
    read_sources,
    use_color,
    write,
)
from netspec.app.fmt_command import configure_fmt, run_fmt
from netspec.app.gen_command import configure_gen, run_gen
from netspec.app.lsp_command import configure_lsp, run_lsp
from netspec.app.parallel import lint_all
from netspec.app.report import REPORTERS, render
from netspec.config.settings import (
    ConfigError,
    SelectionLayer,
    Settings,
    SettingsFinder,
    parse_selectors,
)
from netspec.diagnostics import Diagnostic, Severity
from netspec.version import __version__


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, a function adding its arguments, and its runner."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --- lint ------------------------------------------------------------------------------------


def configure_lint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (searched for *.ns); `-` reads standard input",
    )
    parser.add_argument(
        "--format",
        choices=sorted(REPORTERS),
        default="full",
        help="output format (default: full)",
    )
    parser.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when there are findings"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="print the diagnostics but no closing count"
    )
    parser.add_argument(
        "--stdin-filename", metavar="NAME", help="the path to show for standard input"
    )
    selection = parser.add_argument_group(
        "code selection",
        "codes or prefixes (NS2, NS201, ALL), comma-separated, repeatable; "
        "they win over [tool.netspec] in pyproject.toml",
    )
    for flag, help_text in (
        ("--select", "report only these codes"),
        ("--extend-select", "report these codes too"),
        ("--ignore", "do not report these codes"),
    ):
        selection.add_argument(flag, action="append", default=None, metavar="CODES", help=help_text)


def selection_overrides(args: argparse.Namespace) -> SelectionLayer:
    """The command line's --select, --extend-select and --ignore as the last selection layer."""
    return SelectionLayer(
        select=None if args.select is None else parse_selectors(args.select, "--select"),
        extend_select=parse_selectors(args.extend_select or [], "--extend-select"),
        ignore=parse_selectors(args.ignore or [], "--ignore"),
    )


def run_lint(args: argparse.Namespace) -> int:
    paths = list(args.paths) or ([STDIN_PATH] if args.stdin_filename else [])
    if not paths:
        print("netspec lint: error: no PATH given (use `-` for standard input)", file=sys.stderr)
        return EXIT_ERROR
    try:
        finder = SettingsFinder(selection_overrides(args))
    except ConfigError as exc:
        print(f"netspec lint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    failed = False
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    tasks: list[tuple[str, str, int]] = []
    settings_index: dict[int, int] = {}  # id of a Settings -> its place in `settings_used`
    settings_used: list[Settings] = []
    for source in read_sources(paths, args.stdin_filename or STDIN_LABEL):
        if isinstance(source, InputError):
            print(f"netspec: error: {source}", file=sys.stderr)
            failed = True
            continue
        sources[source.path] = source.text
        if source.decode_error is not None:
            diagnostics.append(source.decode_error)
            continue
        try:
            settings = finder.for_file(_settings_path(source.path, args.stdin_filename))
        except ConfigError as exc:
            # A broken configuration stops the run: linting on with other settings would mislead.
            print(f"netspec: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if id(settings) not in settings_index:
            settings_index[id(settings)] = len(settings_used)
            settings_used.append(settings)
        tasks.append((source.text, source.path, settings_index[id(settings)]))
    diagnostics.extend(d for found in lint_all(tasks, settings_used) for d in found)
    output = render(
        args.format, diagnostics, sources, color=use_color(sys.stdout), quiet=args.quiet
    )
    write(sys.stdout, output)
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if diagnostics and not args.exit_zero else EXIT_CLEAN


def _settings_path(path: str, stdin_filename: str | None) -> str | None:
    """The path whose folder holds the settings: plain stdin takes the current folder's."""
    if path == STDIN_LABEL and not stdin_filename:
        return None
    return path


# --- summary ---------------------------------------------------------------------------------


def configure_summary(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders; `-` for stdin")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--stdin-filename", metavar="NAME", help="the path to show for standard input"
    )


def run_summary(args: argparse.Namespace) -> int:
    """A table per model; errors in a file are printed on stderr (concise) and exit 1."""
    from netspec.api import dedupe, lint_document
    from netspec.app.summary import summarize, to_json, to_text

    summaries = []
    failed = False
    errors: list[Diagnostic] = []
    finder = SettingsFinder()
    for source in read_sources(args.paths, args.stdin_filename or STDIN_LABEL):
        if isinstance(source, InputError):
            print(f"netspec: error: {source}", file=sys.stderr)
            failed = True
            continue
        if source.decode_error is not None:
            errors.append(source.decode_error)
            continue
        try:
            # The configuration lint uses for this file: its selection decides what is an error.
            settings = finder.for_file(_settings_path(source.path, args.stdin_filename))
        except ConfigError as exc:
            print(f"netspec: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        linted = lint_document(source.text, source.path, settings=settings)
        summaries.extend(summarize(checked) for checked in linted.checked)
        errors.extend(d for d in linted.diagnostics if d.severity is Severity.ERROR)
    write(sys.stdout, to_json(summaries) if args.format == "json" else to_text(summaries))
    if errors:
        write(sys.stderr, render("concise", dedupe(errors), {}, quiet=True))
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if errors else EXIT_CLEAN


# --- rule ------------------------------------------------------------------------------------


def configure_rule(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "code", nargs="?", metavar="CODE", help="a code such as NS201; none lists all"
    )


def run_rule(args: argparse.Namespace) -> int:
    """The full text of one code (what, why, a bad and a good example), or the list of codes."""
    from netspec.check.code_table import all_codes, lookup

    if args.code is None:
        for info in all_codes():
            write(
                sys.stdout,
                f"{info.code}  {info.name:<34} {info.severity.value:<8} {info.summary}\n",
            )
        return EXIT_CLEAN
    info = lookup(args.code)
    if info is None:
        print(f"netspec rule: error: unknown code {args.code!r}", file=sys.stderr)
        return EXIT_ERROR
    body = info.markdown or "\n\n".join(t for t in (info.full_description, info.help) if t)
    write(
        sys.stdout, f"{info.code} {info.name} ({info.severity.value})\n\n{info.summary}\n\n{body}\n"
    )
    return EXIT_CLEAN


# --- the command table -----------------------------------------------------------------------

# Subcommand name -> Command. A new subcommand is a configure and a run function and one line here.
COMMANDS: dict[str, Command] = {
    "lint": Command("check .ns files and report problems", configure_lint, run_lint),
    "fmt": Command("format .ns files, as black does", configure_fmt, run_fmt),
    "gen": Command("generate Keras, PyTorch or NumPy code from a spec", configure_gen, run_gen),
    "lsp": Command("serve the language server for editors over stdio", configure_lsp, run_lsp),
    "rule": Command("explain a diagnostic code", configure_rule, run_rule),
    "summary": Command(
        "print each model's layers, output shapes and parameter counts",
        configure_summary,
        run_summary,
    ),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of the whole command line. When the arguments start with a subcommand, only
    that subcommand is set up: the others' options (and what they import: gen's targets) matter
    only when they run or when the top-level help lists them."""
    parser = argparse.ArgumentParser(
        prog="netspec",
        description="A static linter and code generator for neural-network specs (.ns files).",
    )
    parser.add_argument("--version", action="version", version=f"netspec {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = argv[0] if argv and argv[0] in COMMANDS else None
    for name, command in COMMANDS.items():
        if named is not None and name != named:
            continue
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 clean, 1 findings, 2 errors)."""
    try:
        try:
            arguments = sys.argv[1:] if argv is None else list(argv)
            args = build_parser(arguments).parse_args(arguments)
        except SystemExit as exc:
            # argparse exits 2 on a usage error and 0 after --help or --version.
            return exc.code if isinstance(exc.code, int) else EXIT_ERROR
        if _reads_stdin(args) and _stdin_closed():
            needs = (
                "the language server talks over it"
                if args.command == "lsp"
                else "there is nothing to read (give a file, or pipe the text in)"
            )
            print(
                f"netspec {args.command}: error: standard input is closed; {needs}",
                file=sys.stderr,
            )
            return EXIT_ERROR
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`netspec lint . | head`): point stdout at nothing so the
        # interpreter's final flush does not complain, and stop quietly.
        _silence_stdout()
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never show a traceback
        print(f"netspec: internal error: {_describe(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _reads_stdin(args: argparse.Namespace) -> bool:
    """Whether the command reads standard input: `-` as a path, lint's --stdin-filename without
    paths, or the language server, which talks over it."""
    paths = list(getattr(args, "paths", None) or ()) + [getattr(args, "path", None)]
    implicit = args.command == "lint" and not args.paths and bool(args.stdin_filename)
    return STDIN_PATH in paths or implicit or args.command == "lsp"


def _stdin_closed() -> bool:
    """Standard input was closed before netspec started (`netspec lint - <&-`): Python then has
    no sys.stdin, or one on a file descriptor that is no longer open."""
    stream = sys.stdin
    if stream is None or getattr(stream, "closed", False):
        return True
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):
        return False  # a stream without a descriptor (an embedding host, a test) reads as it is
    try:
        os.fstat(descriptor)
    except OSError:
        return True
    return False


def _describe(exc: BaseException) -> str:
    """The exception and the innermost place it came from, in one line, for a bug report."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (in-process callers): nothing to silence
