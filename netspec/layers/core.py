"""Core layer kinds: input, dense, embedding, activations as layers, dropout and noise, reshaping."""

from __future__ import annotations

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import (
    REQUIRED,
    Arg,
    LayerKind,
    Shape,
    ShapeError,
    ValueKind,
    Weight,
)
from netspec.layers.common import (
    ACTIVATIONS,
    activation_arg,
    constraint,
    data_format_arg,
    format_shape,
    initializer,
    known_last,
    product,
    regularizer,
    require_min_rank,
    require_rank,
    weight_args,
)

K = ValueKind


def identity(inputs: list[Shape], args) -> Shape:
    return inputs[0]


# ---- input ---------------------------------------------------------------------------------

INPUT = LayerKind(
    name="input",
    keras_class="InputLayer",
    args=(
        Arg("shape", K.SHAPE, REQUIRED),
        Arg("dtype", K.DTYPE, "float32"),
    ),
    infer=lambda inputs, args: tuple(args["shape"]),
    min_inputs=0,
    max_inputs=0,
    traits=T.INPUT,
    category="core",
    summary="The model's input: a shape without the batch dimension and a dtype.",
)


# ---- dense and embedding -------------------------------------------------------------------


def dense_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    require_min_rank(shape, 1, "dense")
    return shape[:-1] + (args["units"],)


def dense_weights(inputs: list[Shape], args) -> list[Weight]:
    fan_in = known_last(inputs[0], "dense")
    rank = args.get("lora_rank")
    # With LoRA, Keras freezes the kernel and trains two low-rank factors added to it.
    weights = [Weight("kernel", (fan_in, args["units"]), trainable=not rank)]
    if args["use_bias"]:
        weights.append(Weight("bias", (args["units"],)))
    if rank:
        weights += [
            Weight("lora_kernel_a", (fan_in, rank)),
            Weight("lora_kernel_b", (rank, args["units"])),
        ]
    return weights


DENSE = LayerKind(
    name="dense",
    keras_class="Dense",
    args=(
        Arg("units", K.INT, REQUIRED, minimum=1),
        activation_arg(),
        Arg("use_bias", K.BOOL, True),
        *weight_args("kernel", "bias"),
        Arg("lora_rank", K.INT, None, nullable=True, minimum=1),
        Arg("lora_alpha", K.FLOAT, None, nullable=True),
    ),
    infer=dense_infer,
    weights=dense_weights,
    traits=T.but(T.LEARNED_MAP, mask=T.KEEPS_MASK),
    category="core",
    summary="A fully connected layer: `activation(x @ kernel + bias)` on the last axis.",
)


def embedding_infer(inputs: list[Shape], args) -> Shape:
    if args.get("weights") is not None:
        # Keras wants a NumPy array here; a spec holds no arrays, so the value would not run.
        raise ShapeError(
            "weights= gives the initial embeddings as an array, which a spec cannot hold; "
            "load trained embeddings with the generated load_npz instead",
            code=codes.INCOMPATIBLE_INPUT,
            argument="weights",
        )
    return inputs[0] + (args["output_dim"],)


def embedding_weights(args) -> list[Weight]:
    rank = args.get("lora_rank")
    table = (args["input_dim"], args["output_dim"])
    weights = [Weight("embeddings", table, trainable=not rank)]
    if rank:
        weights += [
            Weight("lora_embeddings_a", (args["input_dim"], rank)),
            Weight("lora_embeddings_b", (rank, args["output_dim"])),
        ]
    return weights


EMBEDDING = LayerKind(
    name="embedding",
    keras_class="Embedding",
    args=(
        Arg("input_dim", K.INT, REQUIRED, minimum=1),
        Arg("output_dim", K.INT, REQUIRED, minimum=1),
        initializer("embeddings_initializer", "uniform"),
        regularizer("embeddings_regularizer"),
        constraint("embeddings_constraint"),
        Arg("mask_zero", K.BOOL, False),
        # Kept for Keras' positional order (lora_rank is the 8th); only None passes the shape check.
        Arg("weights", K.ANY, None, nullable=True, doc="initial embeddings; None in a spec"),
        Arg("lora_rank", K.INT, None, nullable=True, minimum=1),
        Arg("lora_alpha", K.FLOAT, None, nullable=True),
    ),
    infer=embedding_infer,
    weights=lambda inputs, args: embedding_weights(args),
    traits=T.but(
        T.PLAIN,
        linearity=T.Linearity.NONLINEAR,
        new_layout=True,
        mask=T.Masking(T.MaskFlow.DROPS, reads=False, makes="mask_zero"),
    ),
    category="core",
    summary="A lookup table from integer ids to dense vectors.",
)


# ---- activations as layers -----------------------------------------------------------------


def _linear_keeps_whole(args) -> T.Integers:
    """`activation(linear)` hands whole numbers on; any other function computes new values."""
    return T.Integers.WHOLE if args.get("activation") in (None, "linear") else T.Integers.CASTS


ACTIVATION = LayerKind(
    name="activation",
    keras_class="Activation",
    args=(Arg("activation", K.ACTIVATION, REQUIRED),),
    infer=identity,
    traits=T.but(
        T.ACTIVATION_LAYER, activation=T.ACTIVATION_ARGUMENT, integers=_linear_keeps_whole
    ),
    category="activation",
    summary="Applies an activation function by name.",
)

RELU = LayerKind(
    name="relu",
    keras_class="ReLU",
    args=(
        Arg("max_value", K.FLOAT, None, nullable=True, minimum=0),
        Arg("negative_slope", K.FLOAT, 0.0, minimum=0),
        Arg("threshold", K.FLOAT, 0.0, minimum=0),  # Keras refuses a negative threshold
    ),
    infer=identity,
    aliases=("ReLU",),
    traits=T.but(T.ACTIVATION_LAYER, activation="relu"),
    category="activation",
    summary="max(x, 0), with an optional cap, slope below the threshold, and threshold.",
)

LEAKY_RELU = LayerKind(
    name="leaky_relu",
    keras_class="LeakyReLU",
    args=(Arg("negative_slope", K.FLOAT, 0.3, minimum=0),),
    infer=identity,
    traits=T.but(T.ACTIVATION_LAYER, activation="leaky_relu"),
    category="activation",
    summary="x for x >= 0, negative_slope * x below (the layer's default slope is 0.3).",
)

ELU = LayerKind(
    name="elu",
    keras_class="ELU",
    args=(Arg("alpha", K.FLOAT, 1.0),),
    infer=identity,
    traits=T.but(T.ACTIVATION_LAYER, activation="elu"),
    category="activation",
    summary="Exponential linear unit.",
)


def softmax_infer(inputs: list[Shape], args) -> Shape:
    shape = inputs[0]
    axes = args["axis"] if isinstance(args["axis"], tuple) else (args["axis"],)
    for axis in axes:
        if not (-len(shape) - 1 <= axis <= len(shape)) or axis == 0:
            raise ShapeError(
                f"axis {axis} is out of range for input {format_shape(shape)}",
                code=codes.INCOMPATIBLE_INPUT,
                argument="axis",
            )
    return shape


SOFTMAX = LayerKind(
    name="softmax",
    keras_class="Softmax",
    args=(Arg("axis", K.AXIS, -1),),
    infer=softmax_infer,
    traits=T.but(
        T.ACTIVATION_LAYER,
        activation="softmax",
        mask=T.Masking(T.MaskFlow.KEEPS, reads=True, makes=False),
    ),
    category="activation",
    summary="Softmax over `axis` (the last by default).",
)

PRELU = LayerKind(
    name="prelu",
    keras_class="PReLU",
    args=(
        initializer("alpha_initializer", "Zeros"),
        regularizer("alpha_regularizer"),
        constraint("alpha_constraint"),
        Arg("shared_axes", K.AXIS, None, nullable=True),
    ),
    infer=identity,
    weights=lambda inputs, args: [Weight("alpha", _prelu_alpha_shape(inputs[0], args))],
    traits=T.but(T.ACTIVATION_LAYER, activation="prelu"),
    category="activation",
    summary="Leaky ReLU with a learned slope per unit.",
)


def _prelu_alpha_shape(shape: Shape, args) -> tuple[int, ...]:
    shared = args.get("shared_axes") or ()
    shared = shared if isinstance(shared, tuple) else (shared,)
    dims = list(shape)
    for axis in shared:
        if 1 <= axis <= len(dims):
            dims[axis - 1] = 1
    if any(d is None for d in dims):
        raise ShapeError(
            f"prelu needs known sizes for its alpha weights, got {format_shape(shape)}; "
            "use shared_axes for the unknown axes",
            code=codes.UNKNOWN_DIMENSION,
        )
    return tuple(dims)  # type: ignore[arg-type]


# Activation functions written as layers (`tanh`, `gelu`, ...): Keras' Activation(name).
# relu, leaky_relu, elu and softmax have layer classes of their own, above.
_OWN_CLASSES = {"relu", "leaky_relu", "elu", "softmax"}


def _fixed_activation_traits(name: str) -> T.Traits:
    if name == "linear":
        linear = T.Linearity.TRANSPARENT
        return T.but(
            T.ACTIVATION_LAYER, activation=name, linearity=linear, integers=T.Integers.WHOLE
        )
    return T.but(T.ACTIVATION_LAYER, activation=name)


ACTIVATION_LAYERS = tuple(
    LayerKind(
        name=name,
        keras_class="Activation",
        args=(),
        infer=identity,
        traits=_fixed_activation_traits(name),
        category="activation",
        fixed_activation=name,
        summary=f'The `{name}` activation as a layer: `Activation("{name}")`.',
    )
    for name in ACTIVATIONS
    if name not in _OWN_CLASSES
)


# ---- dropout and noise ---------------------------------------------------------------------


def rate_arg() -> Arg:
    return Arg("rate", K.FLOAT, REQUIRED, minimum=0.0, below=1.0)


# Dropout and AlphaDropout take the same arguments.
_DROPOUT_ARGS = (
    rate_arg(),
    Arg("noise_shape", K.SHAPE, None, nullable=True),
    Arg("seed", K.INT, None, nullable=True),
)

DROPOUT = LayerKind(
    name="dropout",
    keras_class="Dropout",
    args=_DROPOUT_ARGS,
    infer=identity,
    traits=T.DROPOUT,
    category="regularization",
    summary="Zeroes a fraction `rate` of inputs during training; identity at inference.",
)


ALPHA_DROPOUT = LayerKind(
    name="alpha_dropout",
    keras_class="AlphaDropout",
    args=_DROPOUT_ARGS,
    infer=identity,
    traits=T.DROPOUT,
    category="regularization",
    summary="Dropout that keeps the mean and variance of SELU activations (for self-normalising "
    "networks); identity at inference.",
)


def _spatial_dropout(rank: int, with_format: bool) -> LayerKind:
    def infer(inputs: list[Shape], args) -> Shape:
        require_rank(inputs[0], rank + 1, f"spatial_dropout{rank}d")
        return inputs[0]

    args: tuple[Arg, ...] = (rate_arg(),)
    if with_format:
        args += (data_format_arg(),)
    args += (Arg("seed", K.INT, None, nullable=True),)
    return LayerKind(
        name=f"spatial_dropout{rank}d",
        keras_class=f"SpatialDropout{rank}D",
        args=args,
        infer=infer,
        traits=T.but(T.DROPOUT, spatial_rank=rank),
        category="regularization",
        summary=f"Dropout of whole feature maps of a rank-{rank + 2} input.",
    )


SPATIAL_DROPOUT1D = _spatial_dropout(1, with_format=False)
SPATIAL_DROPOUT2D = _spatial_dropout(2, with_format=True)

GAUSSIAN_NOISE = LayerKind(
    name="gaussian_noise",
    keras_class="GaussianNoise",
    args=(
        # Keras refuses a standard deviation above 1.
        Arg("stddev", K.FLOAT, REQUIRED, minimum=0, maximum=1.0),
        Arg("seed", K.INT, None, nullable=True),
    ),
    infer=identity,
    traits=T.NOISE,
    category="regularization",
    summary="Adds zero-mean Gaussian noise during training; identity at inference.",
)

GAUSSIAN_DROPOUT = LayerKind(
    name="gaussian_dropout",
    keras_class="GaussianDropout",
    args=(rate_arg(), Arg("seed", K.INT, None, nullable=True)),
    infer=identity,
    traits=T.DROPOUT,
    category="regularization",
    summary="Multiplies by 1-centred Gaussian noise during training; identity at inference.",
)


# ---- reshaping -----------------------------------------------------------------------------


def flatten_infer(inputs: list[Shape], args) -> Shape:
    shape = inputs[0]
    if not shape:
        return shape
    return (product(shape),)


FLATTEN = LayerKind(
    name="flatten",
    keras_class="Flatten",
    args=(data_format_arg(),),
    infer=flatten_infer,
    traits=T.but(T.RESHAPING, new_layout=True),
    category="reshaping",
    summary="Flattens all axes but the batch into one.",
)


def reshape_infer(inputs: list[Shape], args) -> Shape:
    shape = inputs[0]
    target = tuple(args["target_shape"])
    unknown = [i for i, d in enumerate(target) if d == -1]
    if len(unknown) > 1:
        raise ShapeError(
            "reshape allows at most one -1 in its target",
            argument="target_shape",
            code=codes.RESHAPE_SIZE_MISMATCH,
        )
    if any(d is not None and d != -1 and d <= 0 for d in target):
        raise ShapeError(
            f"reshape target {target} has a dimension <= 0",
            argument="target_shape",
            code=codes.WINDOW_TOO_LARGE,
        )
    total = product(shape)
    known = product([d for d in target if d != -1])
    if unknown:
        if total is None or known is None:
            return tuple(None if d == -1 else d for d in target)
        if known == 0 or total % known:
            raise ShapeError(
                f"cannot reshape {format_shape(shape)} ({total} values) into {target}: "
                f"{total} is not a multiple of {known}",
                argument="target_shape",
                code=codes.RESHAPE_SIZE_MISMATCH,
            )
        return tuple(total // known if d == -1 else d for d in target)
    if total is not None and known is not None and total != known:
        raise ShapeError(
            f"cannot reshape {format_shape(shape)} ({total} values) into {target} ({known} values)",
            argument="target_shape",
            code=codes.RESHAPE_SIZE_MISMATCH,
        )
    return target


RESHAPE = LayerKind(
    name="reshape",
    keras_class="Reshape",
    args=(Arg("target_shape", K.SHAPE, REQUIRED),),
    infer=reshape_infer,
    traits=T.but(T.RESHAPING, new_layout=True),
    category="reshaping",
    summary="Reshapes to `target_shape` (batch excluded); one -1 is inferred.",
)


def permute_infer(inputs: list[Shape], args) -> Shape:
    shape = inputs[0]
    dims = tuple(args["dims"])
    if sorted(dims) != list(range(1, len(shape) + 1)):
        raise ShapeError(
            f"dims {dims} must be a permutation of 1..{len(shape)} for input {format_shape(shape)}",
            argument="dims",
            code=codes.INCOMPATIBLE_INPUT,
        )
    return tuple(shape[d - 1] for d in dims)


PERMUTE = LayerKind(
    name="permute",
    keras_class="Permute",
    args=(Arg("dims", K.SHAPE, REQUIRED),),
    infer=permute_infer,
    traits=T.but(T.RESHAPING, new_layout=True),
    category="reshaping",
    summary="Permutes the non-batch axes; `dims` counts from 1.",
)


def repeat_vector_infer(inputs: list[Shape], args) -> Shape:
    require_rank(inputs[0], 1, "repeat_vector")
    return (args["n"], inputs[0][0])


REPEAT_VECTOR = LayerKind(
    name="repeat_vector",
    keras_class="RepeatVector",
    args=(Arg("n", K.INT, REQUIRED, minimum=1),),
    infer=repeat_vector_infer,
    traits=T.but(T.RESHAPING, new_layout=True),
    category="reshaping",
    summary="Repeats a vector n times: (batch, f) -> (batch, n, f).",
)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def per_channel(value, shape: Shape, what: str, argument: str) -> None:
    """A number, or one number per channel (the last axis), as Keras broadcasts it against the
    input: a list of another length fails when the model runs, so it is NS102 here."""
    if _is_number(value):
        return
    if not isinstance(value, tuple) or not value or not all(_is_number(v) for v in value):
        raise ShapeError(
            f"{what} `{argument}` is a number or a list of numbers (one per channel), "
            f"got {value!r}",
            code=codes.WRONG_TYPE,
            argument=argument,
        )
    channels = shape[-1] if shape else None
    if len(value) != 1 and channels is not None and len(value) != channels:
        raise ShapeError(
            f"{what} `{argument}` has {len(value)} values for {channels} channels of input "
            f"{format_shape(shape)}; give one value or one per channel",
            code=codes.INCOMPATIBLE_INPUT,
            argument=argument,
        )
    if len(value) != 1 and not shape:
        raise ShapeError(
            f"{what} `{argument}` has {len(value)} values for a scalar input",
            code=codes.INCOMPATIBLE_INPUT,
            argument=argument,
        )


def rescaling_infer(inputs: list[Shape], args) -> Shape:
    (shape,) = inputs
    per_channel(args["scale"], shape, "rescaling", "scale")
    per_channel(args["offset"], shape, "rescaling", "offset")
    return shape


RESCALING = LayerKind(
    name="rescaling",
    keras_class="Rescaling",
    # A number, or a list of one per channel (broadcast against the last axis).
    args=(Arg("scale", K.ANY, REQUIRED), Arg("offset", K.ANY, 0.0)),
    infer=rescaling_infer,
    traits=T.but(T.PLAIN, rescales=True, mask=T.KEEPS_MASK),
    category="preprocessing",
    summary="x * scale + offset; each a number or one per channel.",
)

MASKING = LayerKind(
    name="masking",
    keras_class="Masking",
    args=(Arg("mask_value", K.FLOAT, 0.0),),
    infer=identity,
    traits=T.but(
        T.PLAIN,
        passes_values=True,
        integers=T.Integers.WHOLE,
        mask=T.Masking(T.MaskFlow.KEEPS, reads=False, makes=True),
    ),
    category="core",
    summary="Masks time steps whose features all equal mask_value.",
)

KINDS: tuple[LayerKind, ...] = (
    INPUT,
    DENSE,
    EMBEDDING,
    ACTIVATION,
    RELU,
    LEAKY_RELU,
    ELU,
    SOFTMAX,
    PRELU,
    *ACTIVATION_LAYERS,
    DROPOUT,
    ALPHA_DROPOUT,
    SPATIAL_DROPOUT1D,
    SPATIAL_DROPOUT2D,
    GAUSSIAN_NOISE,
    GAUSSIAN_DROPOUT,
    FLATTEN,
    RESHAPE,
    PERMUTE,
    REPEAT_VECTOR,
    RESCALING,
    MASKING,
)
