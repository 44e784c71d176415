"""Lint speed and start-up cost, with baselines measured in the same run.

Prints, for each example: the in-process time to parse, lower and check it (best of N), and
against it the time Keras takes to build the same model (the baseline netspec replaces in a
pre-commit hook). Then the cost of one `netspec lint` process against a bare `python -c pass`,
and which heavy modules the lint path imports (there should be none).

Run: python benchmarks/lint_speed.py [--no-keras]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.ns"))
HEAVY = ("jinja2", "black", "numpy", "keras", "torch", "tensorflow")


def best_of(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def lint_figures(use_keras: bool) -> None:
    import netspec

    netspec.lint_source("model m { input [2]; dense(1) }", "warm.ns")  # build the parser once
    print(f"{'example':<22}{'bytes':>8}{'lint ms':>10}{'peak KiB':>10}{'keras ms':>10}{'ratio':>8}")
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        seconds = best_of(lambda: netspec.lint_source(text, str(path)))
        tracemalloc.start()
        netspec.lint_source(text, str(path))
        peak = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
        keras_ms = ratio = ""
        if use_keras:
            baseline = keras_build_seconds(text, path)
            keras_ms = f"{baseline * 1000:.1f}"
            ratio = f"{baseline / seconds:.0f}x"
        print(
            f"{path.stem:<22}{len(text):>8}{seconds * 1000:>10.2f}{peak:>10.0f}{keras_ms:>10}{ratio:>8}"
        )


def keras_build_seconds(text: str, path: Path) -> float:
    """Baseline: build every model of the spec in Keras (what a user runs to find shape errors)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import importlib.util
    import tempfile

    from netspec.api import generate_source

    source = generate_source(text, path.name, "keras")
    with tempfile.TemporaryDirectory() as folder:
        module_path = Path(folder) / f"bench_{path.stem}.py"
        module_path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        builders = [getattr(module, n) for n in dir(module) if n.startswith("build_")]
        return best_of(lambda: [b() for b in builders], repeat=2)


def process_figures() -> None:
    netspec_cmd = [sys.executable, "-m", "netspec", "lint", "--quiet", *map(str, EXAMPLES)]
    bare = [sys.executable, "-c", "pass"]
    run = lambda cmd: subprocess.run(cmd, capture_output=True, cwd=ROOT)  # noqa: E731
    lint = best_of(lambda: run(netspec_cmd), repeat=5)
    python = best_of(lambda: run(bare), repeat=5)
    print(
        f"\n`netspec lint` of {len(EXAMPLES)} examples: {lint * 1000:.0f} ms per process; "
        f"bare python: {python * 1000:.0f} ms; ratio {lint / python:.1f}x"
    )
    probe = (
        "import sys, netspec.app.cli; netspec.app.cli.main(['lint', '--quiet', *sys.argv[1:]]);"
        f"sys.stderr.write(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *map(str, EXAMPLES)], capture_output=True, text=True, cwd=ROOT
    )
    print(f"heavy modules imported by lint: {result.stderr.strip() or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras baseline")
    args = parser.parse_args()
    lint_figures(use_keras=not args.no_keras)
    process_figures()


if __name__ == "__main__":
    main()
