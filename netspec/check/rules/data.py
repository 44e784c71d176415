"""Rules about the values a model is fed: ids for an embedding (NS213, NS228), masks that a layer
drops (NS214), integer images fed unscaled (NS215)."""

from __future__ import annotations

from collections.abc import Iterator

from netspec.check.rules.base import Finding, RuleConfig, rule
from netspec.check.rules.graphs import aside, is_learning, known_nodes, walk_forward, wrapped_args
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Severity
from netspec.language.ir import Node
from netspec.layers.core import EMBEDDING
from netspec.layers.traits import Integers, MaskFlow

_INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _integer_input(node: Node) -> bool:
    """An input of integer or bool dtype: values an embedding takes as they are."""
    dtype = node.args.get("dtype")
    return node.is_input and (dtype in _INTEGER_DTYPES or dtype == "bool")


# ---- float into an embedding (NS213) ---------------------------------------------------------


def _keeps_whole(node: Node) -> bool:
    """Whole numbers in, whole numbers out: the layer moves, copies, pads, picks or adds values
    but does not scale them (Keras may hand them on as float32; the values stay whole)."""
    return node.kind.traits.integers_for(node.args) is not Integers.CASTS


def _whole(checked: CheckedGraph) -> dict[int, bool]:
    """For each node, whether its values are whole numbers (integer ids)."""
    whole: dict[int, bool] = {}
    for node in checked.graph.nodes:  # creation order is a topological order
        if node.is_input:
            whole[node.id] = _integer_input(node)
        else:
            keeps = _keeps_whole(node) and bool(node.inputs)
            whole[node.id] = keeps and all(whole.get(i, False) for i in node.inputs)
    return whole


def _float_source(
    checked: CheckedGraph, node: Node, whole: dict[int, bool]
) -> tuple[Node, list[Node]]:
    """The node that makes `node`'s input fractional, with the layers between (source first)."""
    path: list[Node] = []
    current = checked.graph.node(node.inputs[0])
    while not current.is_input and _keeps_whole(current):
        path.append(current)
        inputs = [checked.graph.node(i) for i in current.inputs]
        current = next(n for n in inputs if not whole.get(n.id, False))
    return current, path[::-1]


@rule("NS213", "float-into-embedding", Severity.WARNING)
def float_into_embedding(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An embedding is fed float values: Keras casts them to integers, truncating them.

    An embedding looks up one row per integer id. Given a float tensor, Keras' Embedding casts
    it to int32 without a word: a fraction is cut off (2.7 looks up row 2), and so a float input
    only works while every value is a whole number, which the spec does not say (float16 holds
    whole numbers exactly only up to 2048). Feeding it the output of a dense, convolution,
    dropout (which scales the values it keeps) or normalisation layer truncates real values to
    arbitrary ids. Declare the ids' input with an integer dtype (`input [None] int32`). Layers
    that only move, pad, pick or add whole numbers (flatten, reshape, padding, max pooling,
    concat, add) keep integer ids integer; bool inputs are cast to 0 and 1 and are fine.

    Bad:

    ```netspec
    model tagger {
        input [100]
        embedding(5000, 64)
        global_avg_pool1d
        dense(5, softmax)
    }
    ```

    Good:

    ```netspec
    model tagger {
        input [100] int32
        embedding(5000, 64)
        global_avg_pool1d
        dense(5, softmax)
    }
    ```
    """
    whole = _whole(checked)
    for node in known_nodes(checked):
        if node.kind is not EMBEDDING or not node.inputs or whole[node.inputs[0]]:
            continue
        source, path = _float_source(checked, node, whole)
        through = aside(path)
        if source.is_input:
            dtype = source.args.get("dtype", "float32")
            message = (
                f"{node.name} looks up ids from {source.name}, a {dtype} input{through}: Keras "
                "casts them to int32, cutting off any fraction"
            )
            help = f"declare the ids' dtype: `input [...] int32` for {source.name}"
        else:
            message = (
                f"{node.name} looks up ids from the float output of {source.name}{through}: "
                "Keras casts it to int32, truncating each value to an arbitrary id"
            )
            help = "an embedding takes integer ids: feed it an integer input, or use dense"
        yield Finding(node, message, help=help)


# ---- a mask that a layer drops (NS214) -------------------------------------------------------


def _mask_source(node: Node) -> bool:
    """Makes a mask: masking always, embedding when mask_zero is true."""
    makes = node.kind.traits.mask.makes
    return bool(node.args.get(makes)) if isinstance(makes, str) else makes


def _supports_masking(node: Node) -> bool:
    """Keras' `supports_masking`: a layer without it drops the mask it is passed, with no more
    than a warning at build time (a test checks the traits against the installed Keras)."""
    return node.kind.traits.mask.flow is not MaskFlow.DROPS


def _passes_mask(node: Node, carried: list[tuple[int, ...]]) -> bool:
    """Whether a layer that supports masking hands the mask on."""
    flow = node.kind.traits.mask.flow
    if flow is MaskFlow.ENDS:  # pooling over the masked steps, a dot product
        return False
    if flow is MaskFlow.SEQUENCES:
        return bool(wrapped_args(node.kind, node.args).get("return_sequences"))
    if flow is MaskFlow.ALL_INPUTS:  # element-wise merges (Keras' Merge.compute_mask)
        return all(carried)
    return True


def _source_text(source: Node) -> str:
    makes = source.kind.traits.mask.makes
    return f"{source.name} ({makes}=true)" if isinstance(makes, str) else source.name


@rule("NS214", "mask-ignored", Severity.WARNING)
def mask_ignored(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A mask from embedding(mask_zero=true) or masking reaches a layer that does not support masks.

    A mask marks padded time steps so that the layers after it skip them: recurrent layers
    carry their state over them, global_avg_pool1d leaves them out of the mean, the loss ignores
    them. It travels with the values through every layer that supports masking (dense,
    activations, dropout, normalisation, time_distributed, concat, recurrent layers with
    return_sequences=true). A layer that does not support it (flatten, reshape, permute,
    repeat_vector, every convolution, every pooling layer but global_avg_pool1d, padding,
    cropping, upsampling: Keras' `supports_masking`) drops it with no more than a log warning,
    and from there on the padding is data: a conv1d convolves the pad vectors, a flatten hands
    them to the dense layer after it. Either the mask was meant for a layer that never gets it,
    or mask_zero=true does nothing. Element-wise merges (add, multiply, ...) with an unmasked
    input also drop the mask, silently, as Keras does; that case is not reported.

    Bad:

    ```netspec
    model classifier {
        input [100] int32
        embedding(5000, 64, mask_zero=true)
        conv1d(64, 5, activation=relu)
        global_max_pool1d
        dense(1, sigmoid)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [100] int32
        embedding(5000, 64, mask_zero=true)
        lstm(64)
        dense(1, sigmoid)
    }
    ```
    """
    carried: dict[int, tuple[int, ...]] = {}  # the ids of the mask sources a value carries
    for node in known_nodes(checked):
        incoming = [carried.get(i, ()) for i in node.inputs]
        sources = tuple(dict.fromkeys(s for masks in incoming for s in masks))
        if _mask_source(node):
            carried[node.id] = (node.id,)
        elif not sources:
            continue
        elif not _supports_masking(node):
            yield _dropped(node, [checked.graph.node(i) for i in sources])
        elif _passes_mask(node, incoming):
            carried[node.id] = sources


def _dropped(node: Node, sources: list[Node]) -> Finding:
    named = " and ".join(_source_text(s) for s in sources[:2])
    masks = "mask" if len(sources) == 1 else "masks"
    stop = "stops" if len(sources) == 1 else "stop"
    message = (
        f"{node.name} does not support masks: the {masks} of {named} {stop} there, and "
        f"{node.name} treats the padded steps as data"
    )
    help = (
        "use layers that support masks up to the one that needs it (a recurrent layer, "
        "global_avg_pool1d), or drop the mask if none does"
    )
    return Finding(node, message, help=help)


# ---- integer images fed unscaled (NS215) -----------------------------------------------------


def _image_like(checked: CheckedGraph, node: Node) -> bool:
    """An integer input shaped like an image: rank 3 or more (batch excluded), or a uint8
    (the dtype of decoded pixels) of rank 2."""
    dtype = node.args.get("dtype")
    shape = checked.shapes.get(node.id) or ()
    if dtype not in _INTEGER_DTYPES:
        return False
    return len(shape) >= 3 or (len(shape) == 2 and dtype == "uint8")


def _unscaled(node: Node) -> bool:
    """The walk from an integer image goes on: nothing here learns or rescales (past a layer that
    sets the scale, or an embedding that reads the integers as ids, the scale no longer matters)."""
    kind = node.kind
    stops = kind.traits.rescales or kind is EMBEDDING
    return not stops and not is_learning(node)


@rule("NS215", "unscaled-integer-image", Severity.WARNING)
def unscaled_integer_image(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An integer image reaches a convolution or dense layer with no rescaling first.

    Decoded images are integers, 0 to 255 for uint8 pixels. Fed as they are to a learning
    layer, the inputs are two orders of magnitude larger than the unit scale that weight
    initialisation assumes: the first layer's outputs explode, its activations saturate or die,
    and training diverges or crawls unless the learning rate is tiny. Scale the pixels first:
    `rescaling(0.00392156862745098)` (1/255; or 1/127.5 with `offset=-1`), or a normalisation
    layer.
    Keras' convolutions do not even cast integer inputs: on the TensorFlow and PyTorch backends
    the call fails with a dtype error (dense casts them and runs, unscaled). Reported at each
    learning layer the input reaches through layers that do not rescale (padding, cropping,
    reshaping, pooling, dropout, activations, merges), for integer inputs of rank 3 or more
    (batch excluded) and uint8 inputs of rank 2 (a grey image). Float inputs are not judged:
    their range is not in the spec.

    Bad:

    ```netspec
    model classifier {
        input [32, 32, 3] uint8
        conv2d(16, 3, activation=relu)
        global_avg_pool2d
        dense(10, softmax)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [32, 32, 3] uint8
        rescaling(0.00392156862745098)
        conv2d(16, 3, activation=relu)
        global_avg_pool2d
        dense(10, softmax)
    }
    ```
    """
    consumers = checked.graph.consumers()
    for node in known_nodes(checked):
        if not node.is_input or not _image_like(checked, node):
            continue
        for layer, between in walk_forward(checked, node, consumers, _unscaled):
            if is_learning(layer):
                yield _raw_pixels(checked, node, layer, between)


def _raw_pixels(checked: CheckedGraph, source: Node, layer: Node, between: list[Node]) -> Finding:
    dtype = source.args.get("dtype")
    values = "pixel values up to 255" if dtype == "uint8" else f"raw {dtype} values"
    # Layers that only move values (flatten, reshape, cropping) hand integers on as integers.
    direct = all(n.kind.traits.integers_for(n.args) is Integers.KEEPS for n in between)
    crash = ""
    if layer.kind.traits.is_convolution and direct:
        crash = "; Keras' convolutions do not cast integers, so the call fails"
    message = (
        f"{layer.name} gets the {dtype} image {source.name}{aside(between)} unscaled: {values}, "
        f"far from the unit scale its weights are initialised for{crash}"
    )
    if dtype == "uint8":
        help = f"add rescaling(0.00392156862745098), that is 1/255, after {source.name}"
    else:
        help = f"add a rescaling or normalization layer after {source.name}"
    return Finding(layer, message, help=help)


# ---- an embedding wider than its vocabulary (NS228) ------------------------------------------


@rule("NS228", "embedding-wider-than-vocabulary", Severity.INFO)
def embedding_wider_than_vocabulary(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """An embedding's vectors are wider than the number of ids it looks up.

    An embedding of input_dim ids holds input_dim vectors, and input_dim vectors span at most
    input_dim dimensions: with output_dim larger, every layer after it sees at most input_dim
    distinct inputs per position, which input_dim dimensions (a one-hot code, at the extreme)
    carry as well. The extra width adds parameters, not capacity. It is also the mark of swapped
    arguments: Keras' order is `embedding(input_dim, output_dim)`, vocabulary size first, so
    `embedding(64, 10000)` makes 64 ids of 10000 values, where 10000 ids of 64 were meant (and
    ids of 64 or more then fail at run time).

    Bad:

    ```netspec
    model classifier {
        input [100] int32
        embedding(64, 10000)
        global_avg_pool1d
        dense(1, sigmoid)
    }
    ```

    Good:

    ```netspec
    model classifier {
        input [100] int32
        embedding(10000, 64)
        global_avg_pool1d
        dense(1, sigmoid)
    }
    ```
    """
    for node in known_nodes(checked):
        if node.kind is not EMBEDDING:
            continue
        ids, dims = node.args["input_dim"], node.args["output_dim"]
        if dims > ids:
            message = (
                f"{node.name} maps {ids} ids to {dims}-wide vectors: {ids} vectors span at most "
                f"{ids} dimensions, so {dims - ids} of the {dims} add parameters, not capacity"
            )
            help = (
                f"use output_dim of at most {ids}; if the arguments are swapped, Keras' order is "
                "embedding(input_dim=vocabulary size, output_dim=vector width)"
            )
            yield Finding(node, message, help=help)
