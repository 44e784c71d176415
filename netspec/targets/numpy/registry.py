"""The NumPy target's registry: the generator of each catalog kind, or the reason it has none.

A generator takes the layer's Site and returns its NumpyLayer; it states everything the target
needs of its kind (the helper it calls, the weights it reads, how its arguments are written)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from netspec.layers import ops as operations
from netspec.layers.catalog import all_kinds
from netspec.targets.numpy import attention, ops, spatial
from netspec.targets.numpy.operations import build_operation
from netspec.targets.numpy.recurrent import build_bidirectional, build_rnn, build_time_distributed
from netspec.targets.numpy.site import NumpyLayer, Site, Unsupported

Generator = Callable[[Site], NumpyLayer]


def build_layer(site: Site) -> NumpyLayer:
    """The NumpyLayer of one site; a wrapper builds its inner layer through here too."""
    generator = GENERATORS.get(site.kind.name)
    if generator is None:
        raise Unsupported(UNSUPPORTED.get(site.kind.name, f"no numpy code for `{site.kind.name}`"))
    return generator(site)


def _time_distributed(site: Site) -> NumpyLayer:
    return build_time_distributed(site, build_layer)


GENERATORS: Mapping[str, Generator] = MappingProxyType(
    {
        "input": ops.build_input,
        # activations
        "activation": ops.build_activation,
        **{k.name: ops.build_activation for k in all_kinds() if k.fixed_activation},
        "relu": ops.build_relu,
        "leaky_relu": ops.build_leaky_relu,
        "elu": ops.build_elu,
        "softmax": ops.build_softmax,
        "prelu": ops.build_prelu,
        # dropout and noise: identities at inference
        **{k.name: ops.build_identity for k in all_kinds() if k.traits.in_training_only},
        # core
        "dense": ops.build_dense,
        "embedding": ops.build_embedding,
        "masking": ops.build_masking,
        "flatten": spatial.build_flatten,
        "reshape": ops.build_reshape,
        "permute": ops.build_permute,
        "repeat_vector": ops.build_repeat_vector,
        "rescaling": ops.build_rescaling,
        # convolutions
        "conv1d": spatial.build_conv,
        "conv2d": spatial.build_conv,
        "conv3d": spatial.build_conv,
        "depthwise_conv2d": spatial.build_depthwise_conv2d,
        "separable_conv2d": spatial.build_separable_conv2d,
        "conv1d_transpose": spatial.build_conv_transpose,
        "conv2d_transpose": spatial.build_conv_transpose,
        # pooling, padding, cropping, resampling
        "max_pool1d": spatial.build_pool,
        "max_pool2d": spatial.build_pool,
        "avg_pool1d": spatial.build_pool,
        "avg_pool2d": spatial.build_pool,
        "max_pool3d": spatial.build_pool,
        "avg_pool3d": spatial.build_pool,
        "global_avg_pool1d": spatial.build_global_pool,
        "global_avg_pool2d": spatial.build_global_pool,
        "global_max_pool1d": spatial.build_global_pool,
        "global_max_pool2d": spatial.build_global_pool,
        "global_avg_pool3d": spatial.build_global_pool,
        "global_max_pool3d": spatial.build_global_pool,
        "zero_pad1d": spatial.build_zero_pad,
        "zero_pad2d": spatial.build_zero_pad,
        "cropping1d": spatial.build_cropping,
        "cropping2d": spatial.build_cropping,
        "upsampling1d": spatial.build_upsampling1d,
        "upsampling2d": spatial.build_upsampling2d,
        # normalization
        "batch_norm": ops.build_batch_norm,
        "layer_norm": ops.build_layer_norm,
        "group_norm": ops.build_group_norm,
        "unit_norm": ops.build_unit_norm,
        # recurrent layers and wrappers
        "simple_rnn": build_rnn,
        "lstm": build_rnn,
        "gru": build_rnn,
        "bidirectional": build_bidirectional,
        "time_distributed": _time_distributed,
        # merges
        "add": ops.build_add,
        "subtract": ops.build_subtract,
        "multiply": ops.build_multiply,
        "average": ops.build_average,
        "maximum": ops.build_maximum,
        "minimum": ops.build_minimum,
        "concat": ops.build_concat,
        "dot": ops.build_dot,
        # the second edition's kinds (random augmentations are identities, above)
        "zero_pad3d": spatial.build_zero_pad,
        "cropping3d": spatial.build_cropping,
        "upsampling3d": attention.build_upsampling3d,
        "conv3d_transpose": spatial.build_conv_transpose,
        "normalization": attention.build_normalization,
        "resizing": attention.build_resizing,
        "center_crop": attention.build_center_crop,
        "multi_head_attention": attention.build_multi_head_attention,
        "attention": attention.build_attention,
        "additive_attention": attention.build_additive_attention,
        "einsum_dense": attention.build_einsum_dense,
        "position_embedding": attention.build_position_embedding,
        # operations on values (`x * 0.5`, `ops.sqrt(x)`)
        **{k.name: build_operation for k in operations.KINDS},
    }
)

# Kinds the NumPy target refuses, with the reason users read (every catalog kind has a generator
# today; a new kind goes here until it has one).
UNSUPPORTED: Mapping[str, str] = MappingProxyType({})
