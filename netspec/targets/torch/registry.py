"""The PyTorch target's registry: the generator of every layer kind, or the reason it has none.

A kind's entry is the one place that says how torch writes it; tests/test_target_registries.py
checks that every catalog kind is in exactly one of GENERATORS and UNSUPPORTED.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from netspec.layers import catalog, ops
from netspec.layers.catalog import LayerKind
from netspec.targets.base import GenerationError
from netspec.targets.torch import attention, layers, spatial
from netspec.targets.torch.activations import (
    gen_activation,
    gen_elu,
    gen_leaky_relu,
    gen_prelu,
    gen_relu,
    gen_softmax,
)
from netspec.targets.torch.emit import Generator
from netspec.targets.torch.operations import gen_operation
from netspec.targets.torch.recurrent import RecurrentLayer, gen_bidirectional, gen_time_distributed

_BY_KIND: dict[str, Generator] = {
    # core
    "dense": layers.gen_dense,
    "embedding": layers.gen_embedding,
    # activations with arguments of their own
    "activation": gen_activation,
    "relu": gen_relu,
    "leaky_relu": gen_leaky_relu,
    "elu": gen_elu,
    "softmax": gen_softmax,
    "prelu": gen_prelu,
    # regularization
    "dropout": layers.gen_dropout,
    "alpha_dropout": layers.gen_alpha_dropout,
    "spatial_dropout1d": layers.gen_spatial_dropout1d,
    "spatial_dropout2d": layers.gen_spatial_dropout2d,
    "gaussian_noise": layers.gen_gaussian_noise,
    "gaussian_dropout": layers.gen_gaussian_dropout,
    # reshaping and values
    "flatten": layers.gen_flatten,
    "reshape": layers.gen_reshape,
    "permute": layers.gen_permute,
    "repeat_vector": layers.gen_repeat_vector,
    "rescaling": attention.gen_rescaling,
    "masking": layers.gen_masking,
    # convolutions
    "conv1d": spatial.gen_conv,
    "conv2d": spatial.gen_conv,
    "conv3d": spatial.gen_conv,
    "depthwise_conv2d": spatial.gen_depthwise_conv2d,
    "separable_conv2d": spatial.gen_separable_conv2d,
    "conv1d_transpose": spatial.gen_conv_transpose,
    "conv2d_transpose": spatial.gen_conv_transpose,
    # pooling
    "max_pool1d": spatial.gen_pool,
    "max_pool2d": spatial.gen_pool,
    "avg_pool1d": spatial.gen_pool,
    "avg_pool2d": spatial.gen_pool,
    "max_pool3d": spatial.gen_pool,
    "avg_pool3d": spatial.gen_pool,
    "global_avg_pool1d": spatial.gen_global_pool,
    "global_avg_pool2d": spatial.gen_global_pool,
    "global_max_pool1d": spatial.gen_global_pool,
    "global_max_pool2d": spatial.gen_global_pool,
    "global_avg_pool3d": spatial.gen_global_pool,
    "global_max_pool3d": spatial.gen_global_pool,
    # padding, cropping, upsampling
    "zero_pad1d": spatial.gen_zero_pad1d,
    "zero_pad2d": spatial.gen_zero_pad2d,
    "cropping1d": spatial.gen_cropping1d,
    "cropping2d": spatial.gen_cropping2d,
    "upsampling1d": spatial.gen_upsampling1d,
    "upsampling2d": spatial.gen_upsampling2d,
    # normalization
    "batch_norm": layers.gen_batch_norm,
    "layer_norm": layers.gen_layer_norm,
    "group_norm": layers.gen_group_norm,
    "unit_norm": layers.gen_unit_norm,
    # recurrent layers and wrappers
    "simple_rnn": RecurrentLayer("nn.RNN"),
    "lstm": RecurrentLayer("nn.LSTM", cell_state=True),
    "gru": RecurrentLayer("nn.GRU", kernel_conversion="gru_kernel", bias_conversion="gru_bias"),
    "bidirectional": gen_bidirectional,
    "time_distributed": gen_time_distributed,
    # merges
    "add": layers.gen_add,
    "subtract": layers.gen_subtract,
    "multiply": layers.gen_multiply,
    "average": layers.gen_average,
    "maximum": layers.gen_maximum,
    "minimum": layers.gen_minimum,
    "concat": layers.gen_concat,
    "dot": layers.gen_dot,
    # the second edition's kinds
    "zero_pad3d": attention.gen_zero_pad3d,
    "cropping3d": attention.gen_cropping3d,
    "upsampling3d": attention.gen_upsampling3d,
    "conv3d_transpose": spatial.gen_conv_transpose,
    "normalization": attention.gen_normalization,
    "resizing": attention.gen_resizing,
    "center_crop": attention.gen_center_crop,
    "random_flip": attention.gen_identity,
    "random_rotation": attention.gen_identity,
    "random_zoom": attention.gen_identity,
    "random_translation": attention.gen_identity,
    "random_contrast": attention.gen_identity,
    "multi_head_attention": attention.gen_multi_head_attention,
    "attention": attention.gen_attention,
    "additive_attention": attention.gen_additive_attention,
    "einsum_dense": attention.gen_einsum_dense,
    "position_embedding": attention.gen_position_embedding,
}

# The activations written as layers (`tanh`, `gelu`, ...) are one generator: the kind names it.
_ACTIVATION_LAYERS: dict[str, Generator] = {
    kind.name: gen_activation for kind in catalog.all_kinds() if kind.fixed_activation
}

# Operations on values (`x * 0.5`, `ops.sqrt(x)`): the operator or torch function, no module.
_OPERATIONS: dict[str, Generator] = {kind.name: gen_operation for kind in ops.KINDS}

GENERATORS: Mapping[str, Generator] = MappingProxyType(
    {**_BY_KIND, **_ACTIVATION_LAYERS, **_OPERATIONS}
)

UNSUPPORTED: Mapping[str, str] = MappingProxyType(
    {
        # The model makes its inputs the arguments of forward() (model_context); the language
        # never lets an input stand inside another layer, where a generator would be asked for.
        "input": "an input is an argument of the module's forward(), not a layer to apply",
    }
)


def generator_for(kind: LayerKind) -> Generator:
    """The generator of `kind`; GenerationError with the reason when torch has none."""
    generator = GENERATORS.get(kind.name)
    if generator is None:
        reason = UNSUPPORTED.get(kind.name, "the torch target has no generator for it")
        raise GenerationError(
            f"layer kind `{kind.name}` is not supported by the torch target: {reason}"
        )
    return generator
