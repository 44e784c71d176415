"""`netspec summary`: a table per model as Keras' `model.summary()`, and its JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass

from netspec.check.shapes import CheckedGraph
from netspec.layers.catalog import Shape


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    keras_class: str
    output_shape: Shape | None
    params: int
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class ModelSummary:
    name: str
    path: str
    rows: tuple[LayerRow, ...]
    output_shapes: tuple[Shape | None, ...]
    total_params: int
    trainable_params: int
    sequential: bool
    complete: bool

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params


def summarize(checked: CheckedGraph) -> ModelSummary:
    graph = checked.graph
    # A nested model used several times is one layer, as in Keras' summary: one row, under the
    # model's name, connected to what every use takes.
    layer_of = {
        n.id: graph.nodes[n.shares].name if n.shares is not None else n.name for n in graph.nodes
    }
    inputs: dict[int, list[str]] = {}
    for node in graph.nodes:
        owner = node.shares if node.shares is not None else node.id
        inputs.setdefault(owner, []).extend(layer_of[i] for i in node.inputs)
    rows = tuple(
        LayerRow(
            node.name,
            node.kind.name,
            node.kind.keras_class,
            checked.shapes.get(node.id),
            checked.params(node.id),
            tuple(inputs[node.id]),
        )
        for node in graph.nodes
        if node.shares is None
    )
    return ModelSummary(
        graph.name,
        graph.path,
        rows,
        tuple(checked.shapes.get(i) for i in graph.outputs),
        checked.total_params,
        checked.total_trainable,
        graph.is_sequential,
        checked.complete,
    )


def _shape_list(shape: Shape | None) -> list | None:
    return None if shape is None else [None, *shape]


def to_json(summaries: list[ModelSummary]) -> str:
    models = []
    for model in summaries:
        outputs = [_shape_list(s) for s in model.output_shapes]
        models.append(
            {
                "name": model.name,
                "path": model.path,
                "total_params": model.total_params,
                "trainable_params": model.trainable_params,
                "output_shape": outputs[0] if len(outputs) == 1 else outputs,
                "layers": [
                    {
                        "name": row.name,
                        "kind": row.kind,
                        "output_shape": _shape_list(row.output_shape),
                        "params": row.params,
                    }
                    for row in model.rows
                ],
            }
        )
    return json.dumps({"models": models}, indent=2) + "\n"


def _shape_text(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    dims = ["None", *("None" if d is None else str(d) for d in shape)]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _bytes(params: int) -> str:
    size = params * 4.0  # float32, as Keras' summary assumes
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"  # pragma: no cover


def to_text(summaries: list[ModelSummary]) -> str:
    blocks = [_model_text(model) for model in summaries]
    return "\n".join(blocks)


def _model_text(model: ModelSummary) -> str:
    header = ["Layer (type)", "Output Shape", "Param #"]
    body = [
        [f"{row.name} ({row.keras_class})", _shape_text(row.output_shape), f"{row.params:,}"]
        for row in model.rows
    ]
    if not model.sequential:
        header.append("Connected to")
        for line, row in zip(body, model.rows):
            line.append(", ".join(row.inputs) or "-")
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        parts = []
        for index, (cell, width) in enumerate(zip(cells, widths)):
            parts.append(cell.rjust(width) if index == 2 else cell.ljust(width))
        return " " + "   ".join(parts).rstrip()

    rule = " " + "─" * (sum(widths) + 3 * (len(widths) - 1))
    lines = [f'Model: "{model.name}"  ({model.path})', rule, fmt(header), rule]
    lines += [fmt(cells) for cells in body]
    lines.append(rule)
    lines.append(f" Total params: {model.total_params:,} ({_bytes(model.total_params)})")
    lines.append(
        f" Trainable params: {model.trainable_params:,} ({_bytes(model.trainable_params)})"
    )
    lines.append(
        f" Non-trainable params: {model.non_trainable_params:,} "
        f"({_bytes(model.non_trainable_params)})"
    )
    if not model.complete:
        lines.append(" (incomplete: some shapes are unknown because of errors; see `netspec lint`)")
    return "\n".join(lines) + "\n"
