"""Specs of a given number of layers in the shapes that stress a linter: long chains, wide graphs
(many branches merged), deep blocks, and one diagnostic per line. Shared by the benchmarks."""

from __future__ import annotations

from collections.abc import Callable


def long_chain(layers: int) -> str:
    """One model, one chain of dense layers with activations: no diagnostics."""
    body = "".join("    dense(8, relu)\n" for _ in range(layers - 1))
    return f"model chain {{\n    input [8]\n{body}}}\n"


def diagnostic_per_line(layers: int) -> str:
    """A chain of dense layers without activations: one NS201 per layer."""
    body = "".join("    dense(8)\n" for _ in range(layers - 1))
    return f"model linear {{\n    input [8]\n{body}}}\n"


def saturating_chain(layers: int) -> str:
    """A chain of dense layers with sigmoid: one run of saturating layers (NS2xx) as long as the
    model, which check/rules/activation.py's saturating_activations gathers."""
    body = "".join("    dense(8, sigmoid)\n" for _ in range(layers - 1))
    return f"model saturating {{\n    input [8]\n{body}}}\n"


def wide_graph(layers: int) -> str:
    """Branches of two layers from one input, merged pairwise into a running sum."""
    pairs = max((layers - 2) // 3, 1)
    lines = ["model wide {", "    x = input [8]", "    h0 = x -> dense(8, relu)"]
    for i in range(pairs):
        lines.append(f"    a{i} = x -> dense(8, relu) -> dense(8, relu)")
        lines.append(f"    h{i + 1} = add(h{i}, a{i})")
    lines.append(f"    output h{pairs}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def many_outputs(layers: int) -> str:
    """One trunk and a head of two dense layers per output: a graph as wide as it is long."""
    heads = max((layers - 2) // 2, 1)
    lines = ["model heads {", "    x = input [8]", "    h = x -> dense(8, relu)"]
    lines += [f"    o{i} = h -> dense(4, relu) -> dense(1)" for i in range(heads)]
    lines += ["    output " + ", ".join(f"o{i}" for i in range(heads)), "}"]
    return "\n".join(lines) + "\n"


def deep_blocks(layers: int, depth: int = 8) -> str:
    """Blocks nested `depth` deep (each level uses the one below twice), repeated to the size."""
    lines = ["block level0(f) {", "    dense(f, relu)", "}"]
    for level in range(1, depth + 1):
        lines += [
            f"block level{level}(f) {{",
            f"    level{level - 1}(f)",
            f"    level{level - 1}(f)",
            "}",
        ]
    per_use = 2**depth
    lines += [
        "model deep {",
        "    input [8]",
        f"    repeat {max(layers // per_use, 1)} {{ level{depth}(8) }}",
        "}",
    ]
    return "\n".join(lines) + "\n"


FAMILIES: dict[str, Callable[[int], str]] = {
    "long chain": long_chain,
    "wide graph": wide_graph,
    "deep blocks": deep_blocks,
    "diagnostic per line": diagnostic_per_line,
    "saturating chain": saturating_chain,
}
# Families whose time grows with the square of the size today (rules that visit every node for
# every output): asked for by name, as 16k layers of them take minutes.
SLOW_FAMILIES: dict[str, Callable[[int], str]] = {"many outputs": many_outputs}
