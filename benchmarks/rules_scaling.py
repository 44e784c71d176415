"""Growth of the rules stage with the size of a spec, for each shape of spec that stresses it.

For each family at 2k, 4k, 8k and 16k layers: the whole `lint_source` and the rules stage
alone (`run_rules` over graphs already checked for shapes), median CPU seconds of --runs runs
(CPU time, as the machine may be shared), with the growth exponent from 4k to 16k layers,
log(t16k / t4k) / log 4 (1 is linear, 2 quadratic). --rules also prints the slowest rules at
the largest size, --calls counts the rules stage's function calls instead of timing it, and
--profile NAME profiles the rules stage of one family at the largest size with cProfile.

Run: python benchmarks/rules_scaling.py [--runs 3] [--family NAME] [--rules] [--profile NAME]
     python benchmarks/rules_scaling.py --calls   (function calls of the rules stage instead)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netspec.api import lint_document, lint_source
from netspec.check.rules import REGISTRY, RuleConfig, run_rules
from netspec.diagnostics import DiagnosticSink

SIZES = (2000, 4000, 8000, 16000)
MAX_EXPONENT = 1.1


def _model(name: str, lines: list[str]) -> str:
    return "\n".join([f"model {name} {{", *lines, "}"]) + "\n"


def chain(activation: str) -> Callable[[int], str]:
    def make(layers: int) -> str:
        body = [f"    dense(8, {activation})"] * (layers - 1)
        return _model("chain", ["    input [8]", *body])

    return make


def wide_graph(layers: int) -> str:
    """Branches of two layers from one input, merged pairwise into a running sum."""
    lines = ["    x = input [8]", "    h0 = x -> dense(8, relu)"]
    pairs = max((layers - 2) // 3, 1)
    for i in range(pairs):
        lines += [
            f"    a{i} = x -> dense(8, relu) -> dense(8, relu)",
            f"    h{i + 1} = add(h{i}, a{i})",
        ]
    return _model("wide", [*lines, f"    output h{pairs}"])


def many_outputs(layers: int) -> str:
    """One trunk and a head of two dense layers per output."""
    heads = max((layers - 2) // 2, 1)
    lines = ["    x = input [8]", "    h = x -> dense(8, relu)"]
    lines += [f"    o{i} = h -> dense(4, relu) -> dense(1)" for i in range(heads)]
    return _model("heads", [*lines, "    output " + ", ".join(f"o{i}" for i in range(heads))])


def deep_blocks(layers: int, depth: int = 8) -> str:
    """Blocks nested `depth` deep (each level uses the one below twice), repeated to the size."""
    lines = ["block level0(f) {", "    dense(f, relu)", "}"]
    for level in range(1, depth + 1):
        lines += [f"block level{level}(f) {{", *[f"    level{level - 1}(f)"] * 2, "}"]
    repeat = max(layers // 2**depth, 1)
    lines += ["model deep {", "    input [8]", f"    repeat {repeat} {{ level{depth}(8) }}", "}"]
    return "\n".join(lines) + "\n"


FAMILIES: dict[str, Callable[[int], str]] = {
    "chain relu": chain("relu"),
    "chain sigmoid": chain("sigmoid"),
    "wide graph": wide_graph,
    "many outputs": many_outputs,
    "deep blocks": deep_blocks,
    "diagnostic per line": lambda n: _model(
        "linear", ["    input [8]", *["    dense(8)"] * (n - 1)]
    ),
}


def median_seconds(function: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return statistics.median(times)


def rules_stage(checked: list) -> float:
    """CPU seconds of the rules over graphs checked already, with the cyclic garbage collector
    paused: its full collections grow with every object alive (the whole AST and IR), not with
    the rules' work, and taming it is the lint path's business (issue 10), so it would blur the
    rules' growth."""
    config = RuleConfig()
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        for one in checked:
            run_rules(one, DiagnosticSink(one.graph.path), config)
        return time.process_time() - start
    finally:
        gc.enable()


def exponent(times: dict[int, float]) -> float:
    small, large = times[SIZES[1]], times[SIZES[-1]]
    return math.log(large / small) / math.log(SIZES[-1] / SIZES[1])


def per_rule(checked: list) -> dict[str, float]:
    """CPU seconds of each rule alone (collector paused, as in rules_stage)."""
    config = RuleConfig()
    spent = {}
    gc.collect()
    gc.disable()
    try:
        for item in REGISTRY:
            start = time.process_time()
            for one in checked:
                list(item.check(one, config))
            spent[f"{item.code} {item.name}"] = time.process_time() - start
    finally:
        gc.enable()
    return spent


def function_calls(checked: list) -> int:
    """The Python function calls of the rules stage: a measure of its work that a busy machine
    does not blur (a threshold crossed between sizes, as NS209's million parameters, adds some)."""
    profiler = cProfile.Profile()
    profiler.runcall(rules_stage, checked)
    return pstats.Stats(profiler).total_calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--family", choices=sorted(FAMILIES), action="append")
    parser.add_argument("--rules", action="store_true", help="the slowest rules at 16k layers")
    parser.add_argument("--profile", choices=sorted(FAMILIES))
    parser.add_argument("--calls", action="store_true", help="count function calls, not time")
    args = parser.parse_args()
    if args.profile:
        checked = lint_document(FAMILIES[args.profile](SIZES[-1]), "spec.ns").checked
        profiler = cProfile.Profile()
        profiler.runcall(rules_stage, checked)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return 0
    ok = True
    if args.calls:
        for name in args.family or FAMILIES:
            calls = {
                s: function_calls(lint_document(FAMILIES[name](s), "s.ns").checked) for s in SIZES
            }
            cells = "  ".join(f"{s // 1000:>2}k {calls[s]:>9,}" for s in SIZES)
            print(f"{name:<20} rules calls  {cells}  exponent 4k-16k {exponent(calls):4.2f}")
            ok &= exponent(calls) <= MAX_EXPONENT
        return 0 if ok else 1
    for name in args.family or FAMILIES:
        texts = {size: FAMILIES[name](size) for size in SIZES}
        lint = {
            s: median_seconds(lambda t=texts[s]: lint_source(t, "spec.ns"), args.runs)
            for s in SIZES
        }
        checked = {s: lint_document(texts[s], "spec.ns").checked for s in SIZES}
        rules = {
            s: statistics.median(rules_stage(checked[s]) for _ in range(args.runs)) for s in SIZES
        }
        for label, times in (("lint_source", lint), ("rules stage", rules)):
            cells = "  ".join(f"{s // 1000:>2}k {times[s]:6.3f}s" for s in SIZES)
            grows = exponent(times)
            ok &= label != "rules stage" or grows <= MAX_EXPONENT
            print(f"{name:<20} {label:<12} {cells}  exponent 4k-16k {grows:4.2f}", flush=True)
        if args.rules:
            small, large = per_rule(checked[SIZES[1]]), per_rule(checked[SIZES[-1]])
            for rule_name in sorted(large, key=large.get, reverse=True)[:5]:
                grows = exponent({SIZES[1]: small[rule_name], SIZES[-1]: large[rule_name]})
                print(f"    {rule_name:<40} 16k {large[rule_name]:6.3f}s  exponent {grows:4.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
