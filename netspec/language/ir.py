"""The IR: one graph per model, its nodes with resolved arguments, inputs, spans and block origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from netspec.diagnostics import Diagnostic, Span
from netspec.layers.catalog import LayerKind, LayerSpec


@dataclass(frozen=True)
class BlockUse:
    """One step of the chain of block uses that made a node: `block` was used at `span`."""

    block: str
    span: Span


@dataclass
class Node:
    """A layer (or an input) of a model, with every argument resolved."""

    id: int
    name: str
    kind: LayerKind
    args: dict[str, Any]
    inputs: tuple[int, ...]
    span: Span  # the layer's text: inside the block body when a block made it
    origin: tuple[BlockUse, ...] = ()  # outermost use first
    explicit: frozenset[str] = frozenset()  # the argument names the spec gave
    auto_named: bool = True
    valid: bool = True  # False when its arguments had errors: nothing is inferred for it
    binding: str | None = None  # the name bound to its value, if any
    arg_spans: dict[str, Span] = field(default_factory=dict)  # where each given argument stands
    # A model used as a layer: its graph, and the node of its first use when this use shares
    # that one's weights (every use after the first does).
    submodel: Graph | None = None
    shares: int | None = None

    @property
    def is_input(self) -> bool:
        return self.kind.max_inputs == 0  # only `input` takes no value in

    def inner_layers(self) -> Iterator[LayerSpec]:
        for value in self.args.values():
            if isinstance(value, LayerSpec):
                yield value


@dataclass(frozen=True)
class CompileSpec:
    """`compile(...)`: loss, optimizer, metrics and any other Keras compile argument."""

    args: dict[str, Any]
    span: Span
    arg_spans: dict[str, Span] = field(default_factory=dict)

    @property
    def loss(self) -> Any:
        return self.args.get("loss")

    @property
    def optimizer(self) -> Any:
        return self.args.get("optimizer")

    @property
    def metrics(self) -> tuple:
        metrics = self.args.get("metrics", ())
        return metrics if isinstance(metrics, tuple) else (metrics,)


@dataclass
class Graph:
    """One model: nodes in creation order (a topological order), inputs and outputs by id."""

    name: str
    path: str
    span: Span
    name_span: Span
    nodes: list[Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    compile: CompileSpec | None = None
    complete: bool = True  # False when lowering stopped early (a limit or a missing input)

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def consumers(self) -> dict[int, list[int]]:
        """For each node id, the ids of the nodes that take it as an input."""
        result: dict[int, list[int]] = {n.id: [] for n in self.nodes}
        for node in self.nodes:
            for source in node.inputs:
                result[source].append(node.id)
        return result

    @property
    def is_sequential(self) -> bool:
        """A plain stack: one input, each node feeding only the next, one output at the end."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        for index, node in enumerate(self.nodes):
            expected = () if index == 0 else (index - 1,)
            if node.inputs != expected:
                return False
        return self.outputs[0] == len(self.nodes) - 1


@dataclass
class Program:
    """A lowered file: its models and every diagnostic from parsing and lowering."""

    path: str
    text: str
    graphs: list[Graph] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
