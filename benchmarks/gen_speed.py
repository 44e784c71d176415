"""`netspec gen` speed: a cold process per target on examples/resnet50.ns, and the growth of
generation with the number of layers.

1. For each target, `netspec gen -t TARGET examples/resnet50.ns` in a fresh process (median of
   `--runs`), next to the baseline measured in the same run: `netspec lint` of the same file
   (gen's own cost is the difference), and what black alone takes to format the output
   (the cost gen no longer pays: the output is already in black's layout).
2. In one process, generation of chains of dense layers and of residual graphs of 2,500 to
   20,000 layers (the limit): seconds of `generate` after checking, the growth exponent
   between sizes (1.0 is linear), and the peak traced memory.

Run: python benchmarks/gen_speed.py [--runs 5] [--sizes 2500,5000,10000,20000] [--no-scaling]
     [--baseline-checkout DIR]  (another checkout's gen, alternating with this one's)
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "resnet50.ns"
TARGETS = ("keras", "torch", "numpy")


def cold(command: list[str], runs: int, check: bool = True, checkouts=(ROOT,)) -> list[float]:
    """Median seconds of `command` in a fresh process with each checkout's netspec, the
    checkouts alternating run by run; lint's exit code only says it found notes."""
    times: list[list[float]] = [[] for _ in checkouts]
    for _ in range(runs):
        for index, checkout in enumerate(checkouts):
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            start = time.perf_counter()
            # `python -m` puts the working directory first on the path: run in the checkout
            subprocess.run(command, capture_output=True, check=check, cwd=checkout, env=env)
            times[index].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def black_seconds(source: str) -> float:
    import black

    start = time.perf_counter()
    black.format_str(source, mode=black.Mode())
    return time.perf_counter() - start


def process_figures(runs: int, baseline: Path | None) -> None:
    from netspec.api import generate_source

    checkouts = (ROOT,) if baseline is None else (ROOT, baseline)
    netspec = [sys.executable, "-m", "netspec"]
    lint, *_ = cold([*netspec, "lint", "--quiet", str(SPEC)], runs, check=False)
    print(f"cold processes on {SPEC.name}, median of {runs}")
    header = f"{'command':<22}{'seconds':>9}{'- lint':>9}{'black alone':>13}"
    print(header + (f"{'baseline':>10}{'ratio':>8}" if baseline else ""))
    print(f"{'lint (baseline)':<22}{lint:>9.3f}")
    totals = [0.0] * len(checkouts)
    for target in TARGETS:
        seconds = cold([*netspec, "gen", "-t", target, str(SPEC)], runs, checkouts=checkouts)
        totals = [t + s for t, s in zip(totals, seconds)]
        output = generate_source(SPEC.read_text(encoding="utf-8"), SPEC.name, target)
        row = f"{'gen -t ' + target:<22}{seconds[0]:>9.3f}{seconds[0] - lint:>9.3f}"
        row += f"{black_seconds(output):>13.3f}"
        if baseline:
            row += f"{seconds[1]:>10.3f}{seconds[0] / seconds[1]:>7.2f}x"
        print(row)
    print(f"all three gen: {totals[0]:.3f} s ({totals[0] / lint:.1f}x one lint)", end="")
    print(f"; baseline checkout {totals[1]:.3f} s" if baseline else "")


def chain(layers: int) -> str:
    body = "\n".join("    dense(8, activation=relu)" for _ in range(layers - 1))
    return f"model chain {{\n    input [8]\n{body}\n}}\n"


def residual(layers: int) -> str:
    """A graph: each block a dense layer and an add of it to the block's input (2 layers)."""
    lines = ["    x0 = input [8]"]
    for i in range(1, (layers - 1) // 2 + 1):
        lines.append(f"    h{i} = x{i - 1} -> dense(8)")
        lines.append(f"    x{i} = add(x{i - 1}, h{i})")
    return "model residual {\n" + "\n".join(lines) + "\n}\n"


def scaling_figures(sizes: list[int]) -> None:
    from netspec.api import checked_models
    from netspec.targets.base import generate

    print("\ngenerate() after checking, one process; exponent: growth against the size before")
    print(
        f"{'family':<10}{'target':<8}{'layers':>8}{'seconds':>10}{'exponent':>10}{'peak MiB':>10}"
    )
    for family, make in (("chain", chain), ("residual", residual)):
        for target in TARGETS:
            previous = None
            for layers in sizes:
                checked = checked_models(make(layers), f"{family}.ns")
                assert checked and checked[0].complete, f"{family} spec does not check"
                start = time.perf_counter()
                generate(checked, f"{family}.ns", target)
                seconds = time.perf_counter() - start
                exponent = ""
                if previous is not None:
                    exponent = (
                        f"{math.log(seconds / previous[1]) / math.log(layers / previous[0]):.2f}"
                    )
                tracemalloc.start()
                generate(checked, f"{family}.ns", target)
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                print(
                    f"{family:<10}{target:<8}{layers:>8}{seconds:>10.2f}{exponent:>10}{peak:>10.0f}"
                )
                previous = (layers, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="2500,5000,10000,20000")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument(
        "--baseline-checkout", type=Path, help="another netspec checkout, timed in the same run"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    process_figures(args.runs, args.baseline_checkout)
    if not args.no_scaling:
        scaling_figures([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
