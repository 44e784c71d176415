"""Growth of lint time with the size of a spec, for each shape of spec (benchmarks/spec_families).

For 4k, 8k and 16k layers: `lint_source` alone, and lint plus the full report (what `netspec
lint` does in its process), medians of --runs runs; cells show wall seconds and, in brackets,
CPU seconds. The growth exponent from 4k to 16k layers is log(t16k / t4k) / log 4: 1 is linear,
2 quadratic (the baseline of each family is its own 4k time). Then the goals: a spec with one diagnostic per layer at 16k layers
through a whole `netspec lint` process, and lint_source of a 10k-layer chain.

Run: python benchmarks/lint_scaling.py [--runs 3] [--family NAME]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from spec_families import FAMILIES, SLOW_FAMILIES, diagnostic_per_line, long_chain

from netspec import lint_source
from netspec.app.report import render

SIZES = (4000, 8000, 16000)
MAX_EXPONENT = 1.1
PROCESS_GOAL_SECONDS = 3.0  # one diagnostic per layer, 16k layers, whole process
LINT_GOAL_SECONDS = 1.5  # lint_source alone, 10k layers


def measure(function, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def lint_and_report(text: str) -> str:
    diagnostics = lint_source(text, "spec.ns")
    return render("full", diagnostics, {"spec.ns": text})


def exponent(small: float, large: float) -> float:
    return math.log(large / small) / math.log(SIZES[-1] / SIZES[0])


def family_figures(name: str, runs: int) -> bool:
    make = {**FAMILIES, **SLOW_FAMILIES}[name]
    texts = {size: make(size) for size in SIZES}
    ok = True
    for label, work in (("lint_source", lint_source), ("lint + report", lint_and_report)):
        times = {size: measure(lambda t=texts[size], w=work: w(t), runs) for size in SIZES}
        cells = "  ".join(
            f"{size // 1000:>2}k {times[size][0]:5.2f}s ({times[size][1]:5.2f})" for size in SIZES
        )
        walls = exponent(times[SIZES[0]][0], times[SIZES[-1]][0])
        cpus = exponent(times[SIZES[0]][1], times[SIZES[-1]][1])
        ok &= min(walls, cpus) <= MAX_EXPONENT
        print(f"{name:<20} {label:<14} {cells}  exponent wall {walls:4.2f} cpu {cpus:4.2f}")
    return ok


def process_seconds(text: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `netspec lint` on `text` in a process of its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.ns"
        path.write_text(text, encoding="utf-8")
        command = [sys.executable, "-m", "netspec", "lint", str(path)]
        walls, cpus = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--family", choices=sorted({**FAMILIES, **SLOW_FAMILIES}), action="append")
    args = parser.parse_args()
    lint_source("model m { input [2]; dense(1) }")  # build the parser once
    ok = True
    for name in args.family or FAMILIES:
        ok &= family_figures(name, args.runs)
    print(f"growth exponent 4k -> 16k <= {MAX_EXPONENT} in every family: {'yes' if ok else 'NO'}")
    wall, cpu = process_seconds(diagnostic_per_line(16000), args.runs)
    print(
        f"`netspec lint` of 16k layers, one diagnostic each: wall {wall:.2f}s cpu {cpu:.2f}s "
        f"(goal < {PROCESS_GOAL_SECONDS:g}s: {wall / PROCESS_GOAL_SECONDS:.2f} of it)"
    )
    text = long_chain(10000)
    wall, cpu = measure(lambda: lint_source(text, "spec.ns"), args.runs)
    print(
        f"lint_source of a 10k-layer chain: wall {wall:.2f}s cpu {cpu:.2f}s "
        f"(goal < {LINT_GOAL_SECONDS:g}s: {wall / LINT_GOAL_SECONDS:.2f} of it)"
    )


if __name__ == "__main__":
    main()
