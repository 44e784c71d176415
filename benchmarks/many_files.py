"""Many files in one call: `netspec lint` of 1,000 small specs, against the same process on one.

The specs (a few layers each, half of them with a finding) are written to a temporary folder.
The baseline is `netspec lint` of one of them, measured in the same run: what the 1,000 cost
beyond starting a process. Runs alternate; medians of --runs runs, wall and CPU time (the CPU
of every process, workers included). The output with the pool is checked to be the same as
with one process.

Run: python benchmarks/many_files.py [--files 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 2.0

SPEC = """# spec {i}
model m{i} {{
    input [{width}]
    dense({units}, relu)
    dense({units}{activation})
    dense(1)
    compile(loss=mse, optimizer=adam(learning_rate=1e-3))
}}
"""


def write_specs(folder: Path, count: int) -> None:
    for i in range(count):
        group = folder / f"group{i // 100:02d}"
        group.mkdir(exist_ok=True)
        text = SPEC.format(
            i=i, width=2 + i % 7, units=3 + i % 5, activation="" if i % 2 else ", relu"
        )
        (group / f"spec{i:04d}.ns").write_text(text, encoding="utf-8")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run(command: list[str], cwd: Path) -> tuple[float, float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, done.stdout


def one_process_output(folder: Path) -> bytes:
    """The report of the same files linted in this process, one after the other."""
    probe = (
        "import sys, netspec.app.parallel as p; p.MIN_FILES_PER_WORKER = 10**9; "
        "from netspec.app.cli import main; sys.exit(main(['lint', '--quiet', '.']))"
    )
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=folder,
        env=environment(),
        capture_output=True,
        check=False,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    netspec = [sys.executable, "-m", "netspec", "lint", "--quiet"]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_specs(folder, args.files)
        many, one = [], []
        output = b""
        run([*netspec, "group00/spec0000.ns"], folder)  # byte code, file cache
        for _ in range(args.runs):
            wall, cpu, output = run([*netspec, "."], folder)
            many.append((wall, cpu))
            one.append(run([*netspec, "group00/spec0000.ns"], folder)[:2])
        same = output == one_process_output(folder)
    wall = statistics.median(w for w, _ in many)
    cpu = statistics.median(c for _, c in many)
    base = statistics.median(w for w, _ in one)
    print(f"`netspec lint` of {args.files} files: wall {wall:.2f}s, cpu {cpu:.2f}s (all processes)")
    print(f"baseline, `netspec lint` of one of them: wall {base * 1000:.0f} ms")
    print(
        f"per file beyond the start: {(wall - base) / args.files * 1000:.2f} ms; "
        f"goal {GOAL_SECONDS:g}s: {wall / GOAL_SECONDS:.2f} of it; "
        f"output same as one process: {'yes' if same else 'NO'}"
    )


if __name__ == "__main__":
    main()
