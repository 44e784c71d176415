"""Attention layer kinds and the maps transformers are made of: multi_head_attention, attention,
additive_attention, einsum_dense and position_embedding."""

from __future__ import annotations

import re

from netspec import codes
from netspec.layers import traits as T
from netspec.layers.base import (
    REQUIRED,
    Arg,
    Args,
    Dim,
    LayerKind,
    Shape,
    ShapeError,
    ValueKind,
    Weight,
)
from netspec.layers.common import (
    activation_arg,
    constraint,
    format_shape,
    initializer,
    known_last,
    regularizer,
    require_min_rank,
    weight_args,
)

K = ValueKind

# What attention does to a Keras mask: it reads the query's and the value's, and passes the
# query's on (Keras' compute_mask returns the query's mask).
_ATTENTION_MASK = T.Masking(T.MaskFlow.KEEPS, reads=True, makes=False)
# Attention weighs the values by a function of the query and the keys: a product of its inputs,
# not a linear map (NS201).
ATTENTION = T.but(
    T.PLAIN, linearity=T.Linearity.NONLINEAR, mask=_ATTENTION_MASK, merge=T.Merge.PRODUCT
)


def _query_value_key(inputs: list[Shape], what: str) -> tuple[Shape, Shape, Shape]:
    if len(inputs) not in (2, 3):
        raise ShapeError(
            f"{what} takes a query and a value, and optionally a key: 2 or 3 inputs, got "
            f"{len(inputs)}",
            code=codes.INCOMPATIBLE_INPUT,
        )
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    return query, value, key


def _steps_must_match(value: Shape, key: Shape, what: str) -> None:
    """Keras pairs each key with a value: every axis but the features must agree."""
    if len(value) != len(key) or value[:-1] != key[:-1]:
        raise ShapeError(
            f"{what} pairs each key with a value: their shapes must match but for the last axis, "
            f"got value {format_shape(value)} and key {format_shape(key)}",
            code=codes.MERGE_SHAPE_MISMATCH,
        )


# ---- multi_head_attention ------------------------------------------------------------------


def _mha_shapes(inputs: list[Shape], args: Args) -> tuple[Shape, Shape, Shape]:
    query, value, key = _query_value_key(inputs, "multi_head_attention")
    for shape, role in ((query, "query"), (value, "value"), (key, "key")):
        require_min_rank(shape, 2, f"multi_head_attention's {role}")
    if len(query) != len(value):
        raise ShapeError(
            f"multi_head_attention needs a query and a value of one rank, got query "
            f"{format_shape(query)} and value {format_shape(value)}",
            code=codes.MERGE_SHAPE_MISMATCH,
        )
    _steps_must_match(value, key, "multi_head_attention")
    axes = args["attention_axes"]
    if axes is not None:
        rank = len(query) + 1
        for axis in (axes,) if isinstance(axes, int) else axes:
            # Attention runs over axes between the batch and the features.
            if not (-rank < axis < rank) or axis % rank in (0, rank - 1):
                raise ShapeError(
                    f"attention_axes {axis} is not an axis between the batch and the features of "
                    f"the query {format_shape(query)}",
                    code=codes.INCOMPATIBLE_INPUT,
                    argument="attention_axes",
                )
    return query, value, key


def _output_dims(args: Args, query: Shape) -> tuple[Dim, ...]:
    out = args["output_shape"]
    if out is None:
        return (query[-1],)
    dims = (out,) if isinstance(out, int) else tuple(out)
    if not dims or None in dims:
        raise ShapeError(
            f"multi_head_attention output_shape {out!r} gives the size of each output axis; "
            "every size must be known",
            code=codes.INCOMPATIBLE_INPUT,
            argument="output_shape",
        )
    return dims


def mha_infer(inputs: list[Shape], args: Args) -> Shape:
    query, _, _ = _mha_shapes(inputs, args)
    return query[:-1] + _output_dims(args, query)


def mha_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    query, value, key = _mha_shapes(inputs, args)
    heads, key_dim = args["num_heads"], args["key_dim"]
    value_dim = args["value_dim"] if args["value_dim"] is not None else key_dim
    out = _output_dims(args, query)
    if None in out:
        known_last(query, "multi_head_attention")
    bias = args["use_bias"]
    found: list[Weight] = []

    def projection(name: str, features: int, width: int) -> None:
        found.append(Weight(f"{name}/kernel", (features, heads, width)))
        if bias:
            found.append(Weight(f"{name}/bias", (heads, width)))

    projection("query", known_last(query, "multi_head_attention's query"), key_dim)
    projection("key", known_last(key, "multi_head_attention's key"), key_dim)
    if args["use_gate"]:
        projection("gate", query[-1], value_dim)
    projection("value", known_last(value, "multi_head_attention's value"), value_dim)
    found.append(Weight("attention_output/kernel", (heads, value_dim, *out)))
    if bias:
        found.append(Weight("attention_output/bias", tuple(out)))
    return found


MULTI_HEAD_ATTENTION = LayerKind(
    name="multi_head_attention",
    keras_class="MultiHeadAttention",
    args=(
        Arg("num_heads", K.INT, REQUIRED, minimum=1),
        Arg("key_dim", K.INT, REQUIRED, minimum=1),
        Arg("value_dim", K.INT, None, nullable=True, minimum=1),
        Arg("dropout", K.FLOAT, 0.0, minimum=0, below=1),
        Arg("use_bias", K.BOOL, True),
        Arg("output_shape", K.SIZES, None, nullable=True),
        Arg("attention_axes", K.AXIS, None, nullable=True),
        Arg("sliding_window", K.INT, None, nullable=True, minimum=1),
        Arg("flash_attention", K.BOOL, None, nullable=True),
        *weight_args("kernel", "bias"),
        Arg("use_gate", K.BOOL, False),
        Arg("seed", K.INT, None, nullable=True),
    ),
    infer=mha_infer,
    weights=mha_weights,
    aliases=("mha",),
    min_inputs=2,
    max_inputs=3,
    inputs_as_arguments=True,
    inner_auto_names=("softmax", "dropout"),
    traits=ATTENTION,
    category="transformer",
    summary="Multi-head attention of a query over a value (and key): "
    "`multi_head_attention(heads, key_dim)(query, value)`.",
)


# ---- attention and additive_attention ------------------------------------------------------


def _dot_shapes(inputs: list[Shape], what: str) -> tuple[Shape, Shape, Shape]:
    query, value, key = _query_value_key(inputs, what)
    for shape, role in ((query, "query"), (value, "value"), (key, "key")):
        require_min_rank(shape, 2, f"{what}'s {role}")
    _steps_must_match(value, key, what)
    # Keras' scores are a batched matmul: axes before the steps pair one to one, as the batch.
    if len(query) != len(key) or not all(
        a is None or b is None or a == b for a, b in zip(query[:-2], key[:-2])
    ):
        raise ShapeError(
            f"{what} attends within each slice of the axes before the steps: query "
            f"{format_shape(query)} and key {format_shape(key)} need one rank and those axes equal",
            code=codes.MERGE_SHAPE_MISMATCH,
        )
    q, k = query[-1], key[-1]
    if q is not None and k is not None and q != k:
        raise ShapeError(
            f"{what} compares each query with each key, so they need one size: query "
            f"{format_shape(query)} has {q} features, key {format_shape(key)} has {k}",
            code=codes.MERGE_SHAPE_MISMATCH,
        )
    return query, value, key


def _attention_infer(what: str):
    def infer(inputs: list[Shape], args: Args) -> Shape:
        query, value, _ = _dot_shapes(inputs, what)
        return query[:-1] + value[-1:]

    return infer


def attention_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    _dot_shapes(inputs, "attention")
    found = []
    if args["use_scale"]:
        found.append(Weight("scale", ()))
    if args["score_mode"] == "concat":
        found.append(Weight("concat_score_weight", ()))
    return found


def additive_attention_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    query, _, _ = _dot_shapes(inputs, "additive_attention")
    if not args["use_scale"]:
        return []
    return [Weight("scale", (known_last(query, "additive_attention"),))]


ATTENTION_LAYER = LayerKind(
    name="attention",
    keras_class="Attention",
    args=(
        Arg("use_scale", K.BOOL, False),
        Arg("score_mode", K.CHOICE, "dot", choices=("dot", "concat")),
        Arg("dropout", K.FLOAT, 0.0, minimum=0, below=1),
        Arg("seed", K.INT, None, nullable=True),
    ),
    infer=_attention_infer("attention"),
    weights=attention_weights,
    min_inputs=2,
    max_inputs=3,
    traits=ATTENTION,
    category="transformer",
    summary="Dot-product (Luong) attention of a query over a value: `attention()(query, value)`.",
)

ADDITIVE_ATTENTION = LayerKind(
    name="additive_attention",
    keras_class="AdditiveAttention",
    args=(
        Arg("use_scale", K.BOOL, True),
        Arg("dropout", K.FLOAT, 0.0, minimum=0, below=1),
    ),
    infer=_attention_infer("additive_attention"),
    weights=additive_attention_weights,
    min_inputs=2,
    max_inputs=3,
    traits=ATTENTION,
    category="transformer",
    summary="Additive (Bahdanau) attention of a query over a value: "
    "`additive_attention()(query, value)`.",
)


# ---- einsum_dense --------------------------------------------------------------------------

_PLAIN_EQUATION = re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)")
_LEFT_ELIDED = re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)")
_RIGHT_ELIDED = re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]{2,})\.\.\.")


def _equation_error(message: str, argument: str = "equation") -> ShapeError:
    return ShapeError(message, code=codes.INCOMPATIBLE_INPUT, argument=argument)


def parse_equation(equation: str) -> tuple[str, str, str, str]:
    """(input, kernel, output, elided side: "" | "left" | "right") of an EinsumDense equation,
    in the three forms Keras accepts: `ab,bc->ac`, `...b,bc->...c`, `ab...,bc->ac...`."""
    text = equation.replace(" ", "")
    for pattern, side in ((_PLAIN_EQUATION, ""), (_LEFT_ELIDED, "left"), (_RIGHT_ELIDED, "right")):
        match = pattern.fullmatch(text)
        if match:
            return match.group(1), match.group(2), match.group(3), side
    raise _equation_error(
        f"einsum_dense equation {equation!r} is not of the form `ab,bc->ac`, `...b,bc->...c` "
        "or `ab...,bc->ac...`"
    )


def einsum_layout(
    shape: Shape, args: Args
) -> tuple[tuple[Dim, ...], tuple[Dim, ...] | None, tuple[Dim, ...]]:
    """(kernel shape, bias shape or None, output shape) as Keras' EinsumDense builds them; the
    shapes here leave the batch out."""
    source, kernel_spec, target, side = parse_equation(args["equation"])
    full = (None, *shape)
    elided = len(full) - len(source)
    if elided < 0 or (elided > 0 and not side) or (side and elided < 1):
        raise ShapeError(
            f"einsum_dense equation {args['equation']!r} names {len(source)} input axes, but "
            f"the input {format_shape(shape)} has {len(full)}",
            code=codes.WRONG_RANK,
        )
    given = args["output_shape"]
    out = [given] if isinstance(given, int) else list(given)
    left = full[1:elided] if side == "left" else ()
    right = full[len(full) - elided :] if side == "right" else ()
    out = [full[0], *left, *out, *right]
    if side == "left":
        in_map = {d: i + elided - len(full) for i, d in enumerate(source)}
        out_map = {d: i + elided - len(out) for i, d in enumerate(target)}
    else:
        in_map = {d: i for i, d in enumerate(source)}
        out_map = {d: i for i, d in enumerate(target)}
    if len(out) != len(target) + elided:
        raise _equation_error(
            f"einsum_dense output_shape {given!r} gives {len(out) - 1 - elided} sizes; output "
            f"`{target}` needs {len(target) - (0 if side == 'left' else 1)} (the batch left out)",
            argument="output_shape",
        )
    for letter in source:
        if letter in out_map:
            got, want = out[out_map[letter]], full[in_map[letter]]
            if got is not None and want is not None and got != want:
                raise _equation_error(
                    f"einsum_dense output axis `{letter}` is {got} in output_shape but {want} in "
                    f"the input {format_shape(shape)}",
                    argument="output_shape",
                )
    for letter in target:
        if letter not in source and letter not in kernel_spec:
            raise _equation_error(f"einsum_dense output axis `{letter}` is in neither operand")
    kernel: list[Dim] = []
    for letter in kernel_spec:
        if letter in in_map:
            kernel.append(full[in_map[letter]])
        elif letter in out_map:
            kernel.append(out[out_map[letter]])
        else:
            raise _equation_error(
                f"einsum_dense kernel axis `{letter}` is in neither the input nor the output"
            )
    bias: tuple[Dim, ...] | None = None
    axes = args["bias_axes"]
    if axes is not None:
        for letter in axes:
            if letter not in target:
                raise _equation_error(
                    f"einsum_dense bias axis `{letter}` is not an output axis of `{target}`",
                    argument="bias_axes",
                )
        first = min(target.find(letter) for letter in axes)
        sizes = [out[out_map[c]] if c in axes else 1 for c in target[first:]]
        if side == "right":
            sizes += [1] * elided
        bias = tuple(sizes)
    return tuple(kernel), bias, tuple(out[1:])


def einsum_dense_infer(inputs: list[Shape], args: Args) -> Shape:
    return einsum_layout(inputs[0], args)[2]


def einsum_dense_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    kernel, bias, _ = einsum_layout(inputs[0], args)
    for dims, name in ((kernel, "kernel"), (bias or (), "bias")):
        if None in dims:
            raise ShapeError(
                f"einsum_dense needs a known size for every axis of its {name}, got "
                f"{format_shape(dims, batch=False)} from input {format_shape(inputs[0])}",
                code=codes.UNKNOWN_DIMENSION,
            )
    rank = args.get("lora_rank")
    found = [Weight("kernel", kernel, trainable=not rank)]  # type: ignore[arg-type]
    if bias is not None:
        found.append(Weight("bias", bias))  # type: ignore[arg-type]
    if rank:
        found += [
            Weight("lora_kernel_a", (*kernel[:-1], rank)),  # type: ignore[arg-type]
            Weight("lora_kernel_b", (rank, kernel[-1])),  # type: ignore[arg-type]
        ]
    return found


EINSUM_DENSE = LayerKind(
    name="einsum_dense",
    keras_class="EinsumDense",
    args=(
        Arg("equation", K.STRING, REQUIRED),
        Arg("output_shape", K.SIZES, REQUIRED),
        activation_arg(),
        Arg("bias_axes", K.STRING, None, nullable=True),
        initializer("kernel_initializer", "glorot_uniform"),
        initializer("bias_initializer", "zeros"),
        regularizer("kernel_regularizer"),
        regularizer("bias_regularizer"),
        constraint("kernel_constraint"),
        constraint("bias_constraint"),
        Arg("lora_rank", K.INT, None, nullable=True, minimum=1),
        Arg("lora_alpha", K.FLOAT, None, nullable=True),
    ),
    infer=einsum_dense_infer,
    weights=einsum_dense_weights,
    traits=T.LEARNED_MAP,
    category="transformer",
    summary='A dense layer written as an einsum: `einsum_dense("abc,cd->abd", (None, 64))`.',
)


# ---- position_embedding --------------------------------------------------------------------


def _position_shape(inputs: list[Shape], args: Args) -> Shape:
    (shape,) = inputs
    require_min_rank(shape, 2, "position_embedding")
    steps, table = shape[-2], args["sequence_length"]
    if steps is not None and steps > table:
        raise ShapeError(
            f"position_embedding holds {table} positions but its input has {steps} steps "
            f"{format_shape(shape)}; give sequence_length >= {steps}",
            code=codes.INCOMPATIBLE_INPUT,
            argument="sequence_length",
        )
    return shape


def position_embedding_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    shape = _position_shape(inputs, args)
    return [
        Weight("embeddings", (args["sequence_length"], known_last(shape, "position_embedding")))
    ]


POSITION_EMBEDDING = LayerKind(
    name="position_embedding",
    keras_class="PositionEmbedding",
    args=(
        Arg("sequence_length", K.INT, REQUIRED, minimum=1),
        initializer("initializer", "glorot_uniform"),
    ),
    infer=_position_shape,
    weights=position_embedding_weights,
    # keras_hub's layer: its output is the learned table cut to the input's steps, whatever the
    # input's values; it keeps the input's mask.
    traits=T.but(T.PLAIN, linearity=T.Linearity.NONLINEAR, mask=T.KEEPS_MASK, shape_only=True),
    category="transformer",
    summary="keras_hub's PositionEmbedding: learned position vectors shaped like its input, "
    "to be added to it.",
)


KINDS: tuple[LayerKind, ...] = (
    MULTI_HEAD_ATTENTION,
    ATTENTION_LAYER,
    ADDITIVE_ATTENTION,
    EINSUM_DENSE,
    POSITION_EMBEDDING,
)
