"""Cold start: one `netspec lint examples/seed.ns` process against one `python -c "import lark"`.

`netspec` is the console script installed beside the interpreter (what a user or a pre-commit
hook runs); `python -m netspec` stands in where there is none.

The two run in pairs, in alternation, and the figure is the median of the ratios of the pairs
(a machine shared with other work slows both alike); wall time and the processes' CPU time
(user + system, which waiting for a core does not inflate) are both shown. Byte code is
written before measuring, as an installed package has it (PYTHONDONTWRITEBYTECODE is dropped).

Run: python benchmarks/cold_start.py [--runs 30]
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

ROOT = Path(__file__).resolve().parent.parent
GOAL = 2.0  # netspec lint may take at most twice an `import lark`


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def netspec_command() -> list[str]:
    script = Path(sys.executable).with_name("netspec")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "netspec"]


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env = environment()
    commands = {
        "bare python": [sys.executable, "-c", "pass"],
        "import lark": [sys.executable, "-c", "import lark"],
        "netspec lint": [*netspec_command(), "lint", "examples/seed.ns"],
    }
    for command in commands.values():  # write byte code, warm the file cache
        run(command, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(run(command, env))
    for name, pairs in times.items():
        wall = statistics.median(w for w, _ in pairs) * 1000
        cpu = statistics.median(c for _, c in pairs) * 1000
        print(f"{name:<14} wall {wall:6.1f} ms   cpu {cpu:6.1f} ms")
    for index, label in ((0, "wall"), (1, "cpu")):
        ratios = [
            lint[index] / lark[index]
            for lint, lark in zip(times["netspec lint"], times["import lark"])
            if lark[index] > 0
        ]
        ratio = statistics.median(ratios)
        verdict = "ok" if ratio <= GOAL else f"over the goal of {GOAL:g}x"
        print(
            f"netspec lint / import lark ({label}, median of {len(ratios)} pairs): "
            f"{ratio:.2f}x  {verdict}"
        )


if __name__ == "__main__":
    main()
