"""Published networks written in the language as their authors wrote them (keras.io's transformer
examples; MobileNetV2 is in test_language_second_edition.py): each counts exactly as Keras builds
the published code, layer by layer, and the three generated targets agree on shared random
weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from generated import (
    ROOT,
    checked,
    generate_module,
    make_inputs,
    randomise_keras_weights,
    reread_statistics,
    to_spec_layout,
    to_torch_layout,
)

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from keras import layers, ops  # noqa: E402

from netspec.language.names import camel_case  # noqa: E402

SPECS = ROOT / "tests" / "second_edition"


# ---- the published code (keras.io), as its authors wrote it ------------------------------------


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def text_transformer():
    vocab_size, maxlen, embed_dim, num_heads, ff_dim = 20000, 200, 32, 2, 32
    inputs = layers.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    x = layers.LayerNormalization(epsilon=1e-6)(inputs)
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(x, x)
    x = layers.Dropout(dropout)(x)
    res = x + inputs
    x = layers.LayerNormalization(epsilon=1e-6)(res)
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    return x + res


def timeseries_transformer():
    def build_model(
        input_shape,
        head_size,
        num_heads,
        ff_dim,
        num_transformer_blocks,
        mlp_units,
        dropout=0,
        mlp_dropout=0,
    ):
        inputs = keras.Input(shape=input_shape)
        x = inputs
        for _ in range(num_transformer_blocks):
            x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)
        x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
        for dim in mlp_units:
            x = layers.Dense(dim, activation="relu")(x)
            x = layers.Dropout(mlp_dropout)(x)
        outputs = layers.Dense(n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    n_classes = 2
    return build_model(
        (500, 1),
        head_size=256,
        num_heads=4,
        ff_dim=4,
        num_transformer_blocks=4,
        mlp_units=[128],
        mlp_dropout=0.4,
        dropout=0.25,
    )


class Patches(layers.Layer):
    def __init__(self, patch_size):
        super().__init__()
        self.patch_size = patch_size

    def call(self, images):
        input_shape = ops.shape(images)
        batch_size = input_shape[0]
        height = input_shape[1]
        width = input_shape[2]
        channels = input_shape[3]
        num_patches_h = height // self.patch_size
        num_patches_w = width // self.patch_size
        patches = keras.ops.image.extract_patches(images, size=self.patch_size)
        patches = ops.reshape(
            patches,
            (
                batch_size,
                num_patches_h * num_patches_w,
                self.patch_size * self.patch_size * channels,
            ),
        )
        return patches


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

    def call(self, patch):
        positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
        projected_patches = self.projection(patch)
        encoded = projected_patches + self.position_embedding(positions)
        return encoded


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=keras.activations.gelu)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


def vit_classifier():
    num_classes = 100
    input_shape = (32, 32, 3)
    image_size = 72
    patch_size = 6
    num_patches = (image_size // patch_size) ** 2
    projection_dim = 64
    num_heads = 4
    transformer_units = [projection_dim * 2, projection_dim]
    transformer_layers = 8
    mlp_head_units = [2048, 1024]
    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(image_size, image_size),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.02),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    # data_augmentation.layers[0].adapt(x_train): adapted on random images of CIFAR's shape
    data_augmentation.layers[0].adapt(np.random.default_rng(0).uniform(size=(8, *input_shape)))

    inputs = keras.Input(shape=input_shape)
    augmented = data_augmentation(inputs)
    patches = Patches(patch_size)(augmented)
    encoded_patches = PatchEncoder(num_patches, projection_dim)(patches)
    for _ in range(transformer_layers):
        x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        attention_output = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=projection_dim, dropout=0.1
        )(x1, x1)
        x2 = layers.Add()([attention_output, encoded_patches])
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
        encoded_patches = layers.Add()([x3, x2])
    representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    representation = layers.Flatten()(representation)
    representation = layers.Dropout(0.5)(representation)
    features = mlp(representation, hidden_units=mlp_head_units, dropout_rate=0.5)
    logits = layers.Dense(num_classes)(features)
    return keras.Model(inputs=inputs, outputs=logits)


PUBLISHED = {
    "text_transformer": text_transformer,
    "timeseries_transformer": timeseries_transformer,
    "vision_transformer": vit_classifier,
}


def spec(stem: str) -> Path:
    return SPECS / f"{stem}.ns"


def ours(stem: str):
    (graph_check,) = checked(spec(stem))
    return graph_check


def weight_shapes(graph_check) -> list[tuple]:
    return sorted(tuple(w.shape) for ws in graph_check.weights.values() for w in ws)


@pytest.mark.parametrize("stem", sorted(PUBLISHED))
def test_counts_as_keras_builds_the_published_code(stem: str) -> None:
    graph_check = ours(stem)
    keras.backend.clear_session()  # Keras' auto-names count from 0 again
    model = PUBLISHED[stem]()
    total = sum(int(np.prod(w.shape)) for ws in graph_check.weights.values() for w in ws)
    trainable = sum(
        int(np.prod(w.shape)) for ws in graph_check.weights.values() for w in ws if w.trainable
    )
    assert (total, trainable) == (
        model.count_params(),
        sum(int(np.prod(w.shape)) for w in model.trainable_weights),
    )
    assert weight_shapes(graph_check) == sorted(tuple(w.shape) for w in model.weights)
    # Every Keras layer of the published model is netspec's layer of that name, with its shape
    # and count; the published code's own layers (TransformerBlock, Patches, a Sequential) hold
    # several of netspec's, and their sublayers' weights are compared above.
    nodes = {
        n.name: (
            tuple(graph_check.shapes[n.id]),
            sum(int(np.prod(w.shape)) for w in graph_check.weights[n.id]),
        )
        for n in graph_check.graph.nodes
    }
    compared = 0
    for layer in model.layers:
        own = type(layer).__module__.startswith("keras.src.layers")
        if not own or isinstance(layer, keras.layers.InputLayer):
            continue
        want = (tuple(layer.output.shape)[1:], layer.count_params())
        assert nodes.get(layer.name) == want, layer.name
        compared += 1
    assert compared >= 5
    final = graph_check.shapes[graph_check.graph.outputs[0]]
    assert tuple(final) == tuple(model.output.shape)[1:]


def test_auto_names_count_the_layers_keras_makes_inside_attention() -> None:
    """MultiHeadAttention makes an unnamed Softmax and Dropout when built: Keras' next dropout
    and softmax are `dropout_1` and `softmax_1`, in netspec's summary as in Keras."""
    import netspec

    text = """model m {
    x = input [5, 8]
    a = multi_head_attention(2, 4, name="mha")(x, x) -> dropout(0.1) -> softmax
    b = multi_head_attention(2, 4)(x, x) -> dropout(0.1) -> dense(3) -> softmax
    output a, b
}
"""
    program = netspec.load_program(text, "m.ns")
    assert not program.diagnostics
    (graph,) = program.graphs
    keras.backend.clear_session()
    x = keras.Input((5, 8))
    a = layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    a = layers.Softmax()(layers.Dropout(0.1)(a))
    b = layers.MultiHeadAttention(2, 4)(x, x)
    b = layers.Softmax()(layers.Dense(3)(layers.Dropout(0.1)(b)))
    model = keras.Model(x, [a, b])
    ours = sorted((n.name, n.kind.keras_class) for n in graph.nodes if n.kind.name != "input")
    theirs = sorted(
        (layer.name, type(layer).__name__)
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    )
    assert ours == theirs


def copy_weights(source, target) -> None:
    """Each weight of `source` into the weight of `target` of the same name and shape, in the
    order the two models hold them (the published code orders its own layers' weights as it
    makes them, netspec as it applies them; the order within a name and shape is the same)."""
    groups: dict[tuple, list] = {}
    for variable in target.weights:
        key = (variable.path.rsplit("/", 1)[-1], tuple(variable.shape))
        groups.setdefault(key, []).append(variable)
    for variable in source.weights:
        key = (variable.path.rsplit("/", 1)[-1], tuple(variable.shape))
        groups[key].pop(0).assign(keras.ops.convert_to_numpy(variable))
    assert not any(groups.values())
    reread_statistics(target)


@pytest.mark.parametrize("stem", sorted(PUBLISHED))
def test_computes_what_the_published_code_computes(stem: str, tmp_path) -> None:
    """netspec's Keras model, its weights copied into the published model, gives its outputs:
    the language says what the published code does (the vision transformer's patches too)."""
    (graph_check,) = checked(spec(stem))
    module = generate_module(spec(stem), "keras", tmp_path)
    ours = getattr(module, f"build_{graph_check.graph.name}")()
    rng = np.random.default_rng(1)
    scaled_random_weights(ours, rng)
    theirs = PUBLISHED[stem]()
    copy_weights(ours, theirs)
    (x,) = make_inputs(graph_check.graph, rng)
    want = keras.ops.convert_to_numpy(theirs(x, training=False))
    got = keras.ops.convert_to_numpy(ours(x, training=False))
    assert got.shape == want.shape
    assert float(np.abs(got - want).max()) <= 1e-5 * max(1.0, float(np.abs(want).max()))


# ---- the three targets on shared random weights ------------------------------------------------

CONTRACT = sorted((ROOT / "tests" / "contract").glob("*.ns"))
NETWORKS = sorted(SPECS.glob("*.ns"))


def scaled_random_weights(model, rng: np.random.Generator) -> None:
    """Random non-zero weights everywhere, kernels scaled by 1/sqrt(fan in) so that deep nets
    keep activations of order 1."""
    randomise_keras_weights(model, rng)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if len(shape) >= 2 and not variable.path.endswith("embeddings"):
            fan_in = int(np.prod(shape[:-1]))
            values = keras.ops.convert_to_numpy(variable) * np.sqrt(12.0 / fan_in)
            variable.assign(values.astype(variable.dtype))
    reread_statistics(model)


@pytest.mark.parametrize("spec_path", CONTRACT + NETWORKS, ids=lambda p: p.stem)
def test_lints_without_errors_and_the_three_targets_agree(spec_path: Path, tmp_path) -> None:
    import netspec

    text = spec_path.read_text(encoding="utf-8")
    diagnostics = netspec.lint_source(text, spec_path.name)
    assert [d for d in diagnostics if d.severity.value == "error"] == []
    keras_module = generate_module(spec_path, "keras", tmp_path)
    torch_module = generate_module(spec_path, "torch", tmp_path)
    numpy_module = generate_module(spec_path, "numpy", tmp_path)
    rng = np.random.default_rng(0)
    graphs = checked(spec_path)
    assert graphs
    for graph_check in graphs:
        graph = graph_check.graph
        keras_model = getattr(keras_module, f"build_{graph.name}")()
        scaled_random_weights(keras_model, rng)
        inputs = make_inputs(graph, rng, batch=2)
        expected = keras_model(inputs if len(inputs) > 1 else inputs[0], training=False)
        expected = [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(expected)]
        weights = tmp_path / f"{graph.name}.npz"
        keras_module.save_npz(keras_model, weights)

        torch_model = getattr(torch_module, camel_case(graph.name))()
        torch_model.eval()
        torch_module.load_npz(torch_model, weights)
        with torch.no_grad():
            got_torch = torch_model(*[to_torch_layout(x) for x in inputs])
        got_torch = got_torch if isinstance(got_torch, tuple) else (got_torch,)
        numpy_model = getattr(numpy_module, camel_case(graph.name))()
        numpy_module.load_npz(numpy_model, weights)
        got_numpy = numpy_model(*inputs)
        got_numpy = got_numpy if isinstance(got_numpy, tuple) else (got_numpy,)

        assert len(expected) == len(got_torch) == len(got_numpy) == len(graph.outputs)
        for want, mine_torch, mine_numpy, node_id in zip(
            expected, got_torch, got_numpy, graph.outputs
        ):
            shape = (2, *(7 if d is None else d for d in graph_check.shapes[node_id]))
            scale = max(1.0, float(np.abs(want).max()))
            for got in (to_spec_layout(mine_torch), np.asarray(mine_numpy)):
                assert got.shape == want.shape == shape, graph.name
                assert float(np.abs(got - want).max()) / scale <= 1e-4, graph.name
