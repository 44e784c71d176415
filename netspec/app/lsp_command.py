"""`netspec lsp`: the language server for editors, over standard input and output."""

from __future__ import annotations

import argparse
import sys

from netspec.app.exit_codes import EXIT_CLEAN, EXIT_ERROR


def configure_lsp(parser: argparse.ArgumentParser) -> None:
    # Standard input and output are the only transport; editors that pass --stdio are welcome.
    parser.add_argument(
        "--stdio", action="store_true", help="talk over standard input and output (the default)"
    )


def run_lsp(args: argparse.Namespace) -> int:
    try:
        from netspec.app.lsp import create_server
    except ImportError as exc:
        print(
            f"netspec lsp: error: the language server needs pygls 2 ({exc}); "
            "install it with `pip install 'netspec[lsp]'`",
            file=sys.stderr,
        )
        return EXIT_ERROR
    server = create_server()
    # The protocol owns standard output: anything else printed there would corrupt it, so
    # print() goes to standard error while the server runs.
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        server.start_io(sys.stdin.buffer, protocol_out)
    finally:
        sys.stdout = sys.__stdout__
    return EXIT_CLEAN
