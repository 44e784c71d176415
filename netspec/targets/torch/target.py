"""The PyTorch target: one nn.Module class per model, in PyTorch's own layout.

Python decides everything here (modules, forward lines, the Keras weight table); the templates
torch.py.jinja and torch_layers.jinja only lay it out. Layer kinds are written by the functions
in torch_activations, torch_layers, torch_spatial and torch_recurrent.
"""

from __future__ import annotations

from dataclasses import dataclass

from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Graph, Node
from netspec.language.names import camel_case
from netspec.layers.catalog import LayerKind, LayerSpec, Shape
from netspec.targets.base import GenerationError
from netspec.targets.literals import py_literal
from netspec.targets.torch.activations import (
    gen_activation,
    gen_elu,
    gen_leaky_relu,
    gen_prelu,
    gen_relu,
    gen_softmax,
)
from netspec.targets.torch.emit import (
    Emitter,
    Generator,
    LayerView,
    ModelBuilder,
    TorchModule,
    WeightEntry,
    torch_order,
)
from netspec.targets.torch.layers import GENERATORS as CORE
from netspec.targets.torch.recurrent import GENERATORS as RECURRENT
from netspec.targets.torch.spatial import GENERATORS as SPATIAL
from netspec.targets.torch.training import Factory, loss_factory, optimizer_factory

_GENERATORS: dict[str, Generator] = {
    **CORE,
    **SPATIAL,
    **RECURRENT,
    "activation": gen_activation,
    "relu": gen_relu,
    "leaky_relu": gen_leaky_relu,
    "elu": gen_elu,
    "softmax": gen_softmax,
    "prelu": gen_prelu,
}

# Functions and classes the generated module may define (see torch.py.jinja): a layer named like
# one of them gets another local name in forward.
HELPER_NAMES = {
    "same_padding": "_same_padding",
    "relu": "_relu",
    "sparse_plus": "_sparse_plus",
    "sparse_sigmoid": "_sparse_sigmoid",
    "squareplus": "_squareplus",
    "sparsemax": "_sparsemax",
    "gaussian_noise": "GaussianNoise",
    "gaussian_dropout": "GaussianDropout",
    "prelu": "PReLU",
    "separable_conv2d": "SeparableConv2d",
    "keras_cross_entropy": "KerasCrossEntropy",
    "keras_binary_cross_entropy": "KerasBinaryCrossEntropy",
}
_MODULE_NAMES = {"torch", "nn", "F", "np", "self", "_", *HELPER_NAMES.values()}

# Kinds whose output keeps the integer dtype of an integer input (token ids).
_KEEPS_DTYPE = {"reshape", "flatten", "permute", "repeat_vector", "cropping1d", "cropping2d"}

# Keras' masks: who makes one, who passes it on (supports_masking without a compute_mask of its
# own), and who reads it. A mask that reaches a reader changes what Keras computes (an RNN skips
# the masked steps), which torch's layers cannot do.
_MASK_PASSERS = {
    "dense", "activation", "relu", "leaky_relu", "elu", "prelu", "dropout", "spatial_dropout1d",
    "spatial_dropout2d", "gaussian_noise", "gaussian_dropout", "rescaling", "layer_norm",
    "group_norm", "unit_norm", "time_distributed", "add", "subtract", "multiply", "average",
    "maximum", "minimum", "concat", "dot", "masking",
}  # fmt: skip
_MASK_READERS = {
    "softmax",
    "global_avg_pool1d",
    "batch_norm",
    "simple_rnn",
    "lstm",
    "gru",
    "bidirectional",
}


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


def generator_for(kind: LayerKind) -> Generator:
    if kind.fixed_activation:
        return gen_activation
    generator = _GENERATORS.get(kind.name)
    if generator is None:
        raise GenerationError(f"layer kind `{kind.name}` is not supported by the torch target")
    return generator


def torch_shape(shape: Shape) -> str:
    """`(N, 1, 28, 28)` for the spec's (28, 28, 1)."""
    dims = ["N"] + [str(shape[a - 1]) for a in torch_order(len(shape))[1:]]
    return f"({', '.join(dims)})"


def _check_layer(node_name: str, view_args) -> None:
    """What no torch layer of this target expresses, wherever it stands (inner layers too)."""
    if view_args.get("data_format") == "channels_first":
        raise GenerationError(
            f"{node_name}: data_format=channels_first is not supported by the torch target; write "
            "the spec channels last (the generated module takes images as (N, C, H, W) anyway)"
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
    """Raise when a Keras mask (masking, embedding mask_zero) reaches a layer that uses it."""
    source: dict[int, str] = {}
    for node in graph.nodes:
        kind = node.kind.name
        carried = [source[i] for i in node.inputs if i in source]
        if carried and (kind in _MASK_READERS or _reads_mask_inside(node)):
            raise GenerationError(
                f"{node.name}: the mask made by `{carried[0]}` reaches this {kind} layer, which "
                "Keras then computes differently (masked steps are skipped); torch has no such "
                "mask: drop the masking, or mask_zero of the embedding, for the torch target"
            )
        if kind == "masking" or (kind == "embedding" and node.args.get("mask_zero")):
            source[node.id] = node.name
        elif carried and (node.kind.fixed_activation or kind in _MASK_PASSERS):
            source[node.id] = carried[0]


def _reads_mask_inside(node: Node) -> bool:
    inner = node.args.get("layer") if node.kind.name == "time_distributed" else None
    return isinstance(inner, LayerSpec) and inner.kind in _MASK_READERS


def model_context(checked: CheckedGraph) -> TorchModel:
    graph = checked.graph
    if not checked.complete:
        raise GenerationError(f"{graph.name}: shapes are not all known; fix the spec first")
    _masked_layers(graph)
    sequential = graph.is_sequential
    builder = ModelBuilder(taken={n.name for n in graph.nodes} | _MODULE_NAMES | {"x"})
    variables: dict[int, str] = {}
    integer: set[int] = set()
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
        if sequential:
            var = "x"
        elif node.name in _MODULE_NAMES:
            var = builder.temp(f"{node.name}_")
            builder.taken.add(var)
        else:
            var = node.name
        variables[node.id] = var
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
        )
        generator_for(node.kind)(emitter)
        emitter.check_weights()
        if node.kind.name in _KEEPS_DTYPE and node.inputs and node.inputs[0] in integer:
            integer.add(node.id)
    loss, optimizer = loss_factory(checked), optimizer_factory(checked)
    helpers = set(builder.helpers)
    for factory in (loss, optimizer):
        if factory is not None:
            helpers.update(factory.helpers)
    class_name = camel_case(graph.name)
    clash = {HELPER_NAMES[h] for h in helpers} & {class_name}
    if clash:
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
