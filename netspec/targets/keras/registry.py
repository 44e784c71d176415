"""The Keras target's registry: each layer kind's generator, which writes its constructor call.

Almost every kind is `keras.layers.<the catalog's Keras class>(<arguments>)`, so most entries
share `keras_layer`; the arguments' order, defaults and value kinds all come from the catalog.
The rendering of argument values lives here too: a wrapper's `layer` argument is itself a layer
call, written by its own kind's generator.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from netspec.layers import catalog, core, ops
from netspec.layers.base import COMMON_ARGS
from netspec.layers.calls import Family, lookup_call
from netspec.layers.catalog import Arg, CallValue, LayerKind, LayerSpec, ValueKind
from netspec.targets.base import GenerationError
from netspec.targets.literals import camel, py_literal
from netspec.targets.operations import Library, operation_expression

# (kind, resolved arguments, the names the spec gave, layer name) -> the constructor call.
LayerGenerator = Callable[[LayerKind, Mapping[str, Any], frozenset[str], str], str]

_CALL_MODULES = {
    ValueKind.INITIALIZER: "keras.initializers",
    ValueKind.REGULARIZER: "keras.regularizers",
    ValueKind.CONSTRAINT: "keras.constraints",
}


_FAMILIES = {
    "keras.initializers": Family.INITIALIZER,
    "keras.regularizers": Family.REGULARIZER,
    "keras.constraints": Family.CONSTRAINT,
    "keras.optimizers": Family.OPTIMIZER,
    "keras.losses": Family.LOSS,
    "keras.metrics": Family.METRIC,
}


# Metric names Model.compile reads itself, by the loss and the output (not through get()).
KERAS_COMPILE_WORDS = frozenset({"accuracy", "acc", "crossentropy", "ce"})


def call_expression(module: str, value: CallValue | str) -> str:
    """`l2(1e-4)` -> `keras.regularizers.L2(0.0001)`; a bare name stays a string where Keras'
    get() takes it (`"adam"`), else the class (`keras.optimizers.Lamb()`). A name with no
    Keras class (`_`, `__`) is refused: it would render `keras.regularizers.(...)`."""
    family = _FAMILIES.get(module)
    name = value if isinstance(value, str) else value.name
    entry = lookup_call(family, name) if family is not None else None
    if isinstance(value, str):
        if entry is None or value in KERAS_COMPILE_WORDS or entry.keras_string == "":
            return py_literal(value)
        if entry.keras_string is not None:
            return py_literal(entry.keras_string)
        value = CallValue(value, ())  # Keras' get() has no string for it: the class
    # The catalog of calls knows each Keras class (`huber_loss` is Huber, `acc` Accuracy).
    cls = entry.keras_class if entry is not None else camel(value.name)
    if not cls.isidentifier() or keyword.iskeyword(cls):
        raise GenerationError(f"`{value.name}(...)` names no class of {module}")
    # Each argument in the form its constructor wants: FBetaScore refuses `threshold=1`, an int.
    positional = entry.args if entry is not None else ()
    args = [
        keras_value(v, positional[i] if i < len(positional) else None)
        for i, v in enumerate(value.args)
    ]
    args += [
        f"{key}={keras_value(v, entry.arg(key) if entry is not None else None)}"
        for key, v in value.kwargs
    ]
    return f"{module}.{cls}({', '.join(args)})"


def keras_value(value: Any, arg: Arg | None = None) -> str:
    """Python source for one value, in the form Keras takes for `arg` when one is given."""
    if arg is not None and arg.kind is ValueKind.PADDING_PAIRS and arg.rank == 1:
        # ZeroPadding1D and Cropping1D take one (before, after) pair, not a tuple of pairs.
        return py_literal(value[0])
    if isinstance(value, LayerSpec):
        kind = catalog.lookup(value.kind)
        assert kind is not None, value.kind
        return layer_call(kind, value.args, value.explicit, value.name)
    if arg is not None and arg.kind is ValueKind.FLOAT and type(value) is int:
        return py_literal(float(value))  # where Keras checks for a float, an int is refused
    if isinstance(value, CallValue):
        module = _CALL_MODULES.get(arg.kind) if arg is not None else None
        if module is None:
            # Only initializers, regularizers and constraints are Keras objects built from a
            # call; elsewhere (a call's own argument, a free-form value) no class is known.
            raise GenerationError(f"`{value.name}(...)` is a call where Keras takes a plain value")
        return call_expression(module, value)
    return py_literal(value)


def constructor_args(
    kind: LayerKind, args: Mapping[str, Any], explicit: frozenset[str], name: str
) -> str:
    """Required arguments by position, then the explicitly given ones by keyword, then the name."""
    parts: list[str] = []
    if kind.fixed_activation:
        parts.append(py_literal(kind.fixed_activation))
    for arg in (*kind.args, *COMMON_ARGS):
        if arg.name not in explicit and not arg.required:
            continue
        if arg.name not in args:
            continue
        try:
            rendered = keras_value(args[arg.name], arg)
        except GenerationError as exc:
            raise GenerationError(
                f"{name}: argument `{arg.name}` cannot be generated for Keras: {exc.message}"
            ) from None
        parts.append(rendered if arg.required else f"{arg.name}={rendered}")
    parts.append(f"name={py_literal(name)}")
    return ", ".join(parts)


# ---- the generators ------------------------------------------------------------------------


def keras_layer(
    kind: LayerKind, args: Mapping[str, Any], explicit: frozenset[str], name: str
) -> str:
    """`keras.layers.<Class>(...)` with the catalog's class: `Activation("tanh")` for an
    activation function written as a layer."""
    return f"keras.layers.{kind.keras_class}({constructor_args(kind, args, explicit, name)})"


def custom_layer(
    kind: LayerKind, args: Mapping[str, Any], explicit: frozenset[str], name: str
) -> str:
    """A layer class from outside keras.layers (keras_hub's), which the module defines itself:
    `PositionEmbedding(...)`. CUSTOM_CLASSES says which; keras.py.jinja writes the class."""
    return f"{kind.keras_class}({constructor_args(kind, args, explicit, name)})"


def keras_input(
    kind: LayerKind, args: Mapping[str, Any], explicit: frozenset[str], name: str
) -> str:
    """`keras.Input(...)`, the symbolic tensor a model starts from, rather than its InputLayer."""
    shape = py_literal(tuple(args["shape"]))
    dtype = py_literal(args["dtype"])
    return f"keras.Input(shape={shape}, dtype={dtype}, name={py_literal(name)})"


_KERAS_OPS = Library("keras.ops.", axis="axis", keepdims="keepdims")


def keras_operation(
    kind: LayerKind, args: Mapping[str, Any], explicit: frozenset[str], name: str
) -> str:
    """An operation on values in a Lambda of netspec's name: the operator or keras.ops function
    applied to the tensors (`t * 0.5`), as a person writes it. The Lambda keeps the name in the
    model: Keras' own name for an operation (`multiply`) could be a layer's name already."""
    inputs = ("t[0]", "t[1]") if kind.max_inputs == 2 else ("t",)
    expression = operation_expression(kind, args, inputs, _KERAS_OPS)
    return f"keras.layers.Lambda(lambda t: {expression}, name={py_literal(name)})"


GENERATORS: Mapping[str, LayerGenerator] = MappingProxyType(
    {
        "input": keras_input,
        "dense": keras_layer,
        "embedding": keras_layer,
        "activation": keras_layer,
        "relu": keras_layer,
        "leaky_relu": keras_layer,
        "elu": keras_layer,
        "softmax": keras_layer,
        "prelu": keras_layer,
        "dropout": keras_layer,
        "alpha_dropout": keras_layer,
        "spatial_dropout1d": keras_layer,
        "spatial_dropout2d": keras_layer,
        "gaussian_noise": keras_layer,
        "gaussian_dropout": keras_layer,
        "flatten": keras_layer,
        "reshape": keras_layer,
        "permute": keras_layer,
        "repeat_vector": keras_layer,
        "rescaling": keras_layer,
        "masking": keras_layer,
        "conv1d": keras_layer,
        "conv2d": keras_layer,
        "conv3d": keras_layer,
        "depthwise_conv2d": keras_layer,
        "separable_conv2d": keras_layer,
        "conv1d_transpose": keras_layer,
        "conv2d_transpose": keras_layer,
        "max_pool1d": keras_layer,
        "max_pool2d": keras_layer,
        "avg_pool1d": keras_layer,
        "avg_pool2d": keras_layer,
        "max_pool3d": keras_layer,
        "avg_pool3d": keras_layer,
        "global_avg_pool1d": keras_layer,
        "global_avg_pool2d": keras_layer,
        "global_max_pool1d": keras_layer,
        "global_max_pool2d": keras_layer,
        "global_avg_pool3d": keras_layer,
        "global_max_pool3d": keras_layer,
        "zero_pad1d": keras_layer,
        "zero_pad2d": keras_layer,
        "cropping1d": keras_layer,
        "cropping2d": keras_layer,
        "upsampling1d": keras_layer,
        "upsampling2d": keras_layer,
        "batch_norm": keras_layer,
        "layer_norm": keras_layer,
        "group_norm": keras_layer,
        "unit_norm": keras_layer,
        "simple_rnn": keras_layer,
        "lstm": keras_layer,
        "gru": keras_layer,
        "bidirectional": keras_layer,
        "time_distributed": keras_layer,
        "add": keras_layer,
        "subtract": keras_layer,
        "multiply": keras_layer,
        "average": keras_layer,
        "maximum": keras_layer,
        "minimum": keras_layer,
        "concat": keras_layer,
        "dot": keras_layer,
        "zero_pad3d": keras_layer,
        "cropping3d": keras_layer,
        "upsampling3d": keras_layer,
        "conv3d_transpose": keras_layer,
        "normalization": keras_layer,
        "resizing": keras_layer,
        "center_crop": keras_layer,
        "random_flip": keras_layer,
        "random_rotation": keras_layer,
        "random_zoom": keras_layer,
        "random_translation": keras_layer,
        "random_contrast": keras_layer,
        "multi_head_attention": keras_layer,
        "attention": keras_layer,
        "additive_attention": keras_layer,
        "einsum_dense": keras_layer,
        "position_embedding": custom_layer,
        # Activation functions written as layers (`tanh`, `gelu`, ...): Activation("<name>").
        **{kind.name: keras_layer for kind in core.ACTIVATION_LAYERS},
        # Operations on values (`x * 0.5`, `ops.sqrt(x)`): a Lambda applying the operation.
        **{kind.name: keras_operation for kind in ops.KINDS},
    }
)

# Kinds whose class the generated module defines (keras_hub's, so that it imports keras only).
CUSTOM_CLASSES: Mapping[str, str] = MappingProxyType({"position_embedding": "PositionEmbedding"})

# Kinds whose Keras layer reads its weights once, when built (Normalization's adapted statistics):
# loading weights calls its finalize_state(), as Keras' own load_weights does.
FINALIZES_STATE = frozenset({"normalization"})

# Kinds Keras cannot build, with the reason users read: none, as the catalog follows Keras.
UNSUPPORTED: Mapping[str, str] = MappingProxyType({})


def layer_call(
    kind: LayerKind, args: Mapping[str, Any], explicit: frozenset[str], name: str
) -> str:
    """The constructor call of one layer, written by its kind's generator."""
    generator = GENERATORS.get(kind.name)
    if generator is None:
        reason = UNSUPPORTED.get(kind.name, "the Keras target has no generator for it")
        raise GenerationError(f"{name}: {kind.name} cannot be generated for Keras: {reason}")
    return generator(kind, args, explicit, name)
