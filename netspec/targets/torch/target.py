"""The PyTorch target: one nn.Module class per model, in PyTorch's own layout.

Python decides everything here (modules and their constructors, forward lines, the Keras weight
table); the template torch.py.jinja lays it out. Each layer kind is written by its generator in
the registry (torch/registry.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from netspec.check.shapes import CheckedGraph, infer_shapes
from netspec.diagnostics import DiagnosticSink
from netspec.language.ir import Graph, Node
from netspec.language.names import camel_case
from netspec.layers import catalog
from netspec.layers.catalog import LayerKind, LayerSpec, Shape
from netspec.layers.traits import Integers, MaskFlow, Masking, Wrapper
from netspec.targets.base import GenerationError
from netspec.targets.literals import py_literal
from netspec.targets.torch.emit import (
    HELPERS,
    Emitter,
    LayerView,
    ModelBuilder,
    TorchModule,
    WeightEntry,
    torch_order,
)
from netspec.targets.torch.lifetimes import fresh_output, plan
from netspec.targets.torch.registry import generator_for
from netspec.targets.torch.training import Factory, loss_factory, optimizer_factory

# Names a layer may not take as the variable of forward: a layer named like one of them gets
# another local name.
_MODULE_NAMES = {"torch", "nn", "F", "np", "self", "_", *HELPERS}


@dataclass(frozen=True)
class TorchModel:
    name: str
    class_name: str
    sequential: bool
    params: tuple[str, ...]  # forward's arguments
    inputs_doc: tuple[str, ...]
    outputs_doc: tuple[str, ...]
    modules: tuple[TorchModule, ...]
    lines: tuple[str, ...]
    returns: str
    weights: tuple[WeightEntry, ...]
    helpers: list[str]  # a list: the template joins the models' lists with `sum`
    loss: Factory | None
    optimizer: Factory | None
    notes: tuple[str, ...]  # docstring lines on weights and parameter counts

    @property
    def name_literal(self) -> str:
        return py_literal(self.name)


def torch_shape(shape: Shape) -> str:
    """`(N, 1, 28, 28)` for the spec's (28, 28, 1)."""
    dims = ["N"] + [str(shape[a - 1]) for a in torch_order(len(shape))[1:]]
    return f"({', '.join(dims)})"


def _check_layer(node_name: str, view_args) -> None:
    """What no torch layer of this target expresses, wherever it stands (inner layers too)."""
    if view_args.get("data_format") == "channels_first":
        raise GenerationError(
            f"{node_name}: data_format=channels_first is not supported by the torch target; write "
            "the spec channels last (the generated module takes images as (N, C, H, W) anyway; "
            "volumes keep the spec's layout)"
        )
    dtype = view_args.get("dtype")
    if dtype not in (None, "float32"):
        raise GenerationError(
            f"{node_name}: dtype={dtype} is not supported by the torch target (float32 only)"
        )
    for value in view_args.values():
        if isinstance(value, LayerSpec):
            _check_layer(node_name, value.args)


def _masked_layers(graph: Graph) -> None:
    """Raise when a Keras mask (masking, embedding mask_zero) reaches a layer that uses it: Keras
    then computes something else (an RNN skips the masked steps), which torch's layers cannot."""
    source: dict[int, str] = {}  # node id -> the layer whose mask it carries
    for node in graph.nodes:
        kind = node.kind.name
        carried = [source[i] for i in node.inputs if i in source]
        if carried and _reads_mask(node.kind, node.args):
            raise GenerationError(
                f"{node.name}: the mask made by `{carried[0]}` reaches this {kind} layer, which "
                "Keras then computes differently (masked steps are skipped); torch has no such "
                "mask: drop the masking, or mask_zero of the embedding, for the torch target"
            )
        mask = node.kind.traits.mask
        if _makes_mask(mask, node.args):
            source[node.id] = node.name
        elif carried and _passes_mask(node, len(carried)):
            source[node.id] = carried[0]


def _reads_mask(kind: LayerKind, args: Mapping[str, Any]) -> bool:
    """The kind's output depends on the mask, itself or through the layer it wraps."""
    if kind.traits.mask.reads:
        return True
    inner = args.get("layer") if kind.traits.wrapper is not Wrapper.NONE else None
    return isinstance(inner, LayerSpec) and _reads_mask(_kind_of(inner), inner.args)


def _makes_mask(mask: Masking, args: Mapping[str, Any]) -> bool:
    return mask.makes is True or (isinstance(mask.makes, str) and bool(args.get(mask.makes)))


def _passes_mask(node: Node, masked_inputs: int) -> bool:
    """Keras' compute_mask: whether the layer hands on the mask that `masked_inputs` of its
    inputs (at least one) carry."""
    flow = node.kind.traits.mask.flow
    if flow is MaskFlow.KEEPS or flow is MaskFlow.ANY_INPUT:
        return True
    if flow is MaskFlow.ALL_INPUTS:
        return masked_inputs == len(node.inputs)
    if flow is MaskFlow.SEQUENCES:  # a recurrent layer, or a wrapper of one
        inner = node.args.get("layer")
        args = inner.args if isinstance(inner, LayerSpec) else node.args
        return bool(args.get("return_sequences"))
    return False  # DROPS, ENDS


def _kind_of(spec: LayerSpec) -> LayerKind:
    kind = catalog.lookup(spec.kind)
    assert kind is not None, spec.kind  # lowering resolved it
    return kind


def model_context(checked: CheckedGraph) -> TorchModel:
    graph = checked.graph
    if not checked.complete:
        raise GenerationError(f"{graph.name}: shapes are not all known; fix the spec first")
    _masked_layers(graph)
    sequential = graph.is_sequential
    builder = ModelBuilder(
        taken={n.name for n in graph.nodes} | _MODULE_NAMES | {"x"}, generator_for=generator_for
    )
    lifetimes = plan(graph)
    held: dict[int, str] = {}  # holder node id -> its variable

    def variable(node: Node) -> str:
        holder = graph.nodes[lifetimes.holder[node.id]]
        if holder.id not in held:
            if holder.name in _MODULE_NAMES:
                held[holder.id] = builder.temp(f"{holder.name}_")
                builder.taken.add(held[holder.id])
            else:
                held[holder.id] = holder.name
        return held[holder.id]

    variables: dict[int, str] = {}

    def free_after(node: Node) -> None:
        """`del` the values whose last reader `node` is (lifetimes.py)."""
        if not sequential and node.id in lifetimes.frees:
            builder.lines.append(f"del {', '.join(variables[v] for v in lifetimes.frees[node.id])}")

    integer: set[int] = set()
    fresh: set[int] = set()  # outputs a layer may overwrite in place (lifetimes.fresh_output)
    for node in graph.nodes:
        if node.is_input:
            variables[node.id] = "x" if sequential else node.name
            if str(node.args["dtype"]).startswith(("int", "uint")):
                integer.add(node.id)
            continue
        _check_layer(node.name, node.args)
        if node.name == "KERAS_WEIGHTS":
            raise GenerationError(
                "KERAS_WEIGHTS: the name is the weight table of the generated torch class; "
                "rename the layer"
            )
        var = "x" if sequential else variable(node)
        variables[node.id] = var
        if node.submodel is not None:
            _nested(builder, node, graph, [variables[i] for i in node.inputs], var)
            free_after(node)
            continue
        first_line, first_module = len(builder.lines), len(builder.modules)
        (source,) = node.inputs if len(node.inputs) == 1 else (None,)
        emitter = Emitter(
            builder,
            LayerView(node.kind, node.args, node.name),
            node.name,
            [variables[i] for i in node.inputs],
            [checked.shapes[i] for i in node.inputs],  # type: ignore[misc]
            checked.shapes[node.id],  # type: ignore[arg-type]
            var,
            checked.weights.get(node.id, []),
            key_prefix=f"{node.name}/",
            integer_input=bool(node.inputs) and node.inputs[0] in integer,
            overwrite_input=source in lifetimes.passes_on and source in fresh,
        )
        try:
            generator_for(node.kind)(emitter)
        except GenerationError as exc:
            # A value the target cannot render (a call where a plain value belongs): name the
            # layer, as every other refusal does.
            if exc.message.startswith(f"{node.name}:"):
                raise
            raise GenerationError(f"{node.name}: {exc.message}", exc.diagnostics) from None
        emitter.check_weights()
        made = builder.modules[first_module:]
        if len(made) <= 1 and fresh_output(
            builder.lines[first_line:], made[0].cls if made else None
        ):
            fresh.add(node.id)
        free_after(node)
        keeps = node.kind.traits.integers_for(node.args) is Integers.KEEPS
        if keeps and node.inputs and node.inputs[0] in integer:
            integer.add(node.id)
    loss, optimizer = loss_factory(checked), optimizer_factory(checked)
    helpers = set(builder.helpers)
    for factory in (loss, optimizer):
        if factory is not None:
            helpers.update(factory.helpers)
    unknown = helpers - HELPERS
    if unknown:  # the template would not define them: never write broken code
        raise GenerationError(f"internal error: torch.py.jinja defines no {sorted(unknown)}")
    class_name = camel_case(graph.name)
    if class_name in helpers:
        raise GenerationError(f"{graph.name}: its class name {class_name} clashes with a helper")
    inputs = [graph.nodes[i] for i in graph.inputs]
    outputs = [variables[i] for i in graph.outputs]
    return TorchModel(
        name=graph.name,
        class_name=class_name,
        sequential=sequential,
        params=tuple(variables[n.id] for n in inputs),
        inputs_doc=tuple(
            f"{variables[n.id]}: {torch_shape(checked.shapes[n.id])} {n.args['dtype']}"  # type: ignore[arg-type]
            for n in inputs
        ),
        outputs_doc=tuple(torch_shape(checked.shapes[i]) for i in graph.outputs),  # type: ignore[arg-type]
        modules=tuple(builder.modules),
        lines=tuple(builder.lines),
        returns=", ".join(outputs),
        weights=tuple(builder.weights),
        helpers=sorted(helpers),
        loss=loss,
        optimizer=optimizer,
        notes=_notes(checked, builder.weights) + _training_only(graph),
    )


def _nested(builder: ModelBuilder, node: Node, graph: Graph, inputs: list[str], var: str) -> None:
    """A model used as a layer: its class made once as an attribute named as the model, called
    on every use (so the uses share its weights), its weights keyed below the model's name."""
    inner = node.submodel
    assert inner is not None
    attr = node.name if node.shares is None else graph.nodes[node.shares].name
    if node.shares is None:
        builder.modules.append(TorchModule(attr, camel_case(inner.name), ""))
        context = model_context(infer_shapes(inner, DiagnosticSink(inner.path)))
        for entry in context.weights:
            builder.weights.append(
                replace(
                    entry,
                    key=f"{inner.name}/{entry.key}",
                    paths=tuple(f"{attr}.{p}" for p in entry.paths),
                )
            )
        builder.helpers.update(context.helpers)
    builder.lines.append(f"{var} = self.{attr}({', '.join(inputs)})")


def _training_only(graph: Graph) -> tuple[str, ...]:
    """Regularizers and constraints change Keras' training, not its outputs; torch modules have
    no place for them, so the docstring names them for the training loop to add."""
    found: list[str] = []

    def visit(name: str, args) -> None:
        for key, value in args.items():
            if value is None:
                continue
            if isinstance(value, LayerSpec):
                visit(name, value.args)
            elif key.endswith(("_regularizer", "_constraint")):
                shown = value if isinstance(value, str) else value.name
                shown = shown if shown.isidentifier() else repr(shown)
                found.append(f"{name}: {key}={shown}")

    for node in graph.nodes:
        visit(node.name, node.args)
    if not found:
        return ()
    return (
        "Not generated (Keras applies them in training; add them to your loss or step):",
        *(f"    {item}" for item in found),
    )


def _notes(checked: CheckedGraph, weights: list[WeightEntry]) -> tuple[str, ...]:
    total, frozen = checked.total_params, checked.total_params - checked.total_trainable
    count = f"Keras counts {total:,} parameters"
    if frozen:
        count += f", {frozen:,} of them not trained"
    notes = [count + "."]
    if any(w.key.endswith(("/moving_mean", "/moving_variance")) for w in weights):
        notes.append("torch keeps the batch-norm statistics as buffers, not parameters, and in")
        notes.append("training updates running_var with the unbiased batch variance where Keras")
        notes.append("uses the biased one (a factor n / (n - 1), n values per channel).")
    if any(w.conversion == "rnn_bias" for w in weights):
        notes.append("torch's LSTM and RNN add bias_ih and bias_hh where Keras has one bias:")
        notes.append("load_npz sets bias_hh to 0, save_npz saves their sum.")
    return tuple(notes)
