"""Finding a shape error (a 5x5 window on a 4x4 input): `netspec lint` against building the model
in Keras (benchmarks/shape_error/keras_build.py, the baseline, run in the same session).

Both run as the processes a user would start, in pairs, in alternation; the figure is the
median of the pairs' ratios, Keras time over netspec time (the goal: at least 30x). Each side is
checked to find the error (netspec exits 1 with NS101; the Keras script exits 1 on its
ValueError).

Run: python benchmarks/shape_error.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "shape_error" / "window_too_large.ns"
KERAS_SCRIPT = HERE / "shape_error" / "keras_build.py"
GOAL = 30.0


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def netspec_command() -> list[str]:
    script = Path(sys.executable).with_name("netspec")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "netspec"]


def run(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=environment(), capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    lint = [*netspec_command(), "lint", "--format", "concise", str(SPEC)]
    keras = [sys.executable, str(KERAS_SCRIPT)]
    found = run(lint)[2]
    if found.returncode != 1 or "NS101" not in found.stdout:
        raise SystemExit(f"netspec did not find the error:\n{found.stdout}{found.stderr}")
    built = run(keras)[2]
    if built.returncode != 1:
        raise SystemExit(f"Keras built the model:\n{built.stdout}{built.stderr}")
    pairs = []
    for _ in range(args.runs):
        pairs.append((run(lint)[:2], run(keras)[:2]))
    for label, index in (("wall", 0), ("cpu", 1)):
        ours = statistics.median(n[index] for n, _ in pairs) * 1000
        theirs = statistics.median(k[index] for _, k in pairs) * 1000
        ratio = statistics.median(k[index] / n[index] for n, k in pairs if n[index] > 0)
        verdict = "ok" if ratio >= GOAL else f"under the goal of {GOAL:g}x"
        print(
            f"{label}: netspec lint {ours:.0f} ms, Keras build {theirs:.0f} ms; "
            f"netspec is {ratio:.1f}x faster (median of {len(pairs)} pairs)  {verdict}"
        )


if __name__ == "__main__":
    main()
