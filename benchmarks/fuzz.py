"""Fuzz `lint_source` for many inputs: raw text, mutated examples, grammar-generated specs.

Runs the Hypothesis strategies of tests/fuzz_strategies.py outside pytest, in chunks (Hypothesis
keeps a tree of every choice made in a run: a run of a million would hold it all), on one or
more processes. Prints inputs/s and the slowest input; saves every input that raises or takes
longer than --limit seconds to --out, with its traceback; exits 1 if there was any.

Run: python benchmarks/fuzz.py [--count 1000000] [--seed 0] [--family all] [--jobs 2] [--out DIR]
                               [--clock wall|cpu]

`--clock cpu` holds each input to the limit in CPU seconds of its process rather than wall
seconds: on a machine shared with other work, wall time also counts the time spent waiting
for a core. Both clocks' slowest inputs are printed either way.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_strategies import FAMILIES, InputTimeout, family, time_limit
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from netspec.api import lint_source

CHUNK = 2_000  # inputs per Hypothesis run
SAVED_PER_FAILURE = 3  # inputs kept for each distinct failure


@dataclass
class Tally:
    """What one worker saw."""

    inputs: int = 0
    seconds: float = 0.0
    slowest: float = 0.0  # by the clock the limit applies to
    slowest_text: str = ""
    slowest_wall: float = 0.0
    slowest_cpu: float = 0.0
    failures: dict[str, list[str]] = field(default_factory=dict)  # failure key -> saved files
    counts: Counter = field(default_factory=Counter)  # failure key -> inputs that showed it


def failure_key(error: BaseException) -> str:
    """One failure per exception type and innermost netspec line: one bug, one key."""
    if isinstance(error, InputTimeout):
        return "timeout"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/netspec/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {where}"


def save(tally: Tally, out: Path, key: str, text: str, detail: str) -> None:
    tally.counts[key] += 1
    kept = tally.failures.setdefault(key, [])
    if len(kept) >= SAVED_PER_FAILURE:
        return
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    stem = key.split(" ")[0].lower() + "-" + digest
    (out / f"{stem}.ns").write_text(text, encoding="utf-8", errors="surrogatepass")
    (out / f"{stem}.txt").write_text(f"{key}\n\n{detail}", encoding="utf-8")
    kept.append(str(out / f"{stem}.ns"))


def lint_one(text: str, tally: Tally, options) -> None:
    start, start_cpu = time.perf_counter(), time.process_time()
    try:
        with time_limit(options.guard):
            lint_source(text, "fuzz.ns")
    except Exception as error:  # noqa: BLE001 - any exception is a finding: lint never raises
        save(tally, options.out, failure_key(error), text, traceback.format_exc())
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    seconds = cpu if options.clock == "cpu" else wall
    tally.inputs += 1
    tally.seconds += seconds
    tally.slowest_wall = max(tally.slowest_wall, wall)
    tally.slowest_cpu = max(tally.slowest_cpu, cpu)
    if seconds > tally.slowest:
        tally.slowest, tally.slowest_text = seconds, text
    if seconds > options.limit:
        detail = f"{seconds:.2f} s of {options.clock} time (limit {options.limit} s)"
        save(tally, options.out, "slow", text, detail)


def strategy(name: str) -> st.SearchStrategy[str]:
    """One family, or (`all`) the three drawn alike in every chunk."""
    return st.one_of(*map(family, FAMILIES)) if name == "all" else family(name)


def run_chunk(name: str, count: int, chunk_seed: int, tally: Tally, options) -> None:
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(chunk_seed)
    @given(strategy(name))
    def one(text: str) -> None:
        lint_one(text, tally, options)

    one()


def worker(job: int, options) -> Tally:
    warnings.simplefilter("ignore")
    tally = Tally()
    share = options.count // options.jobs + (job < options.count % options.jobs)
    chunk = 0
    while tally.inputs < share:
        size = min(CHUNK, share - tally.inputs)
        before = tally.inputs
        run_chunk(
            options.family, size, options.seed * 1_000_003 + job * 10_007 + chunk, tally, options
        )
        chunk += 1
        print(
            f"job {job}: {tally.inputs}/{share} inputs, {sum(tally.counts.values())} failing, "
            f"slowest {tally.slowest_wall:.3f} s wall, {tally.slowest_cpu:.3f} s cpu",
            file=sys.stderr,
            flush=True,
        )
        if tally.inputs == before:  # Hypothesis found no new input: nothing more to draw
            break
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="inputs in all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", choices=("all", *FAMILIES), default="all")
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    parser.add_argument("--out", type=Path, default=None, help="folder for failing inputs")
    parser.add_argument("--limit", type=float, default=2.0, help="seconds an input may take")
    parser.add_argument("--guard", type=float, default=10.0, help="seconds before a run is cut")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="what --limit is measured in"
    )
    options = parser.parse_args()
    options.out = options.out or Path(tempfile.mkdtemp(prefix="netspec-fuzz-"))
    options.out.mkdir(parents=True, exist_ok=True)
    lint_source("model m { input [2]; dense(1) }", "warm.ns")  # build the parser once

    start = time.perf_counter()
    if options.jobs == 1:
        tallies = [worker(0, options)]
    else:
        with multiprocessing.get_context("fork").Pool(options.jobs) as pool:
            tallies = pool.starmap(worker, [(job, options) for job in range(options.jobs)])
    wall = time.perf_counter() - start

    inputs = sum(t.inputs for t in tallies)
    failures: dict[str, list[str]] = {}
    counts = sum((t.counts for t in tallies), Counter())
    for tally in tallies:
        for key, paths in tally.failures.items():
            failures.setdefault(key, []).extend(paths)
    print(f"family {options.family}, seed {options.seed}, {options.jobs} process(es)")
    print(f"{inputs} inputs in {wall:.1f} s: {inputs / wall:.0f} inputs/s")
    print(
        f"lint time ({options.clock}) {sum(t.seconds for t in tallies):.1f} s; slowest input "
        f"{max(t.slowest_wall for t in tallies):.3f} s wall, "
        f"{max(t.slowest_cpu for t in tallies):.3f} s cpu (limit {options.limit} s {options.clock})"
    )
    if failures:
        print(f"{len(failures)} distinct failure(s), inputs saved in {options.out}:")
        for key, paths in sorted(failures.items()):
            print(f"  {key} ({counts[key]} inputs): {paths[0]}")
        return 1
    print("no failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
