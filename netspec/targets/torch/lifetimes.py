"""Which variable of the generated forward pass holds each layer's output, and when it goes.

A person writing forward keeps one name along a chain of layers (`x = self.conv(x)`,
`x = self.bn(x)`) and lets a tensor go after its last use; the generated forward does the same,
so that its peak memory is that of hand-written code, not the sum of every intermediate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netspec.language.ir import Graph

# Torch modules whose output is a new tensor that their backward pass does not read: an
# activation may overwrite it in place (as torchvision's ResNet does after a batch norm).
FRESH_MODULES = frozenset(
    {
        "nn.Linear",
        "nn.Conv1d",
        "nn.Conv2d",
        "nn.Conv3d",
        "nn.BatchNorm1d",
        "nn.BatchNorm2d",
        "nn.BatchNorm3d",
    }
)
_SUM = re.compile(r"\w+ = \w+(?: \+ \w+)+")  # `add = a + b`: a new tensor, nothing saved


@dataclass(frozen=True)
class Lifetimes:
    """The plan of a graph model's forward pass."""

    holder: dict[int, int]  # node id -> the node whose variable holds its output
    frees: dict[int, tuple[int, ...]]  # node id -> the outputs to `del` once it has run
    passes_on: frozenset[int]  # outputs read by one layer only, which takes over their variable


def plan(graph: Graph) -> Lifetimes:
    """A chain of layers, each the only reader of the one before, shares the variable of its
    last layer (the name later lines read); any other output is deleted after its last read.
    The model's inputs and outputs are never deleted nor overwritten."""
    readers: dict[int, list[int]] = {node.id: [] for node in graph.nodes}
    last_read: dict[int, int] = {}
    for node in graph.nodes:
        for value in dict.fromkeys(node.inputs):
            readers[value].append(node.id)
            last_read[value] = node.id
    kept = set(graph.inputs) | set(graph.outputs)
    passes_on = frozenset(
        node.id
        for node in graph.nodes
        if node.id not in kept
        and len(readers[node.id]) == 1
        and len(graph.nodes[readers[node.id][0]].inputs) == 1
    )
    holder: dict[int, int] = {}
    for node in reversed(graph.nodes):
        holder[node.id] = holder[readers[node.id][0]] if node.id in passes_on else node.id
    frees: dict[int, list[int]] = {}
    for value, reader in last_read.items():
        if value not in kept and value not in passes_on:
            frees.setdefault(reader, []).append(value)
    return Lifetimes(holder, {k: tuple(v) for k, v in frees.items()}, passes_on)


def fresh_output(lines: list[str], module_cls: str | None) -> bool:
    """A layer's forward lines make a new tensor that no backward pass reads: one call of a
    module of FRESH_MODULES on its input, or a sum of variables."""
    if len(lines) != 1:
        return False
    if module_cls in FRESH_MODULES and re.fullmatch(r"\w+ = self\.\w+\(\w+\)", lines[0]):
        return True
    return module_cls is None and _SUM.fullmatch(lines[0]) is not None
