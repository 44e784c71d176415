"""The NumPy target's generators of activations, core layers, normalization and merges: each turns
one layer's resolved arguments into the expression of its output and records the helpers it calls.

spatial.py holds those of convolutions, pooling and resampling, recurrent.py those of recurrent
layers and wrappers; registry.py says which generator serves which kind."""

from __future__ import annotations

from dataclasses import replace

from netspec.targets.literals import py_literal
from netspec.targets.numpy.site import NumpyLayer, Site, Unsupported, fused, keywords

# ---- inputs and activations ----------------------------------------------------------------


def build_input(site: Site) -> NumpyLayer:
    dtype = site.arg("dtype")
    # Mixed and reduced precision compute in float32 here: numpy has no bfloat16.
    dtype = "float32" if dtype.startswith(("float", "mixed", "bfloat")) else dtype
    return site.layer(f"np.asarray({site.var}, dtype={py_literal(dtype)})")


def build_activation(site: Site) -> NumpyLayer:
    name = site.kind.fixed_activation or site.arg("activation")
    return site.layer(site.x, fused(site, name))


def build_relu(site: Site) -> NumpyLayer:
    given = [(key, site.arg(key)) for key in ("negative_slope", "max_value", "threshold")]
    defaults = {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    args = keywords([(k, v) for k, v in given if v != defaults[k]])
    return site.layer(site.call("relu", *([args] if args else [])))


def build_leaky_relu(site: Site) -> NumpyLayer:
    return site.layer(site.call("leaky_relu", py_literal(site.arg("negative_slope"))))


def build_elu(site: Site) -> NumpyLayer:
    return site.layer(site.call("elu", py_literal(site.arg("alpha"))))


def build_softmax(site: Site) -> NumpyLayer:
    if site.mask:
        raise Unsupported("a softmax layer that receives a mask adds it to its input")
    return site.layer(site.call("softmax", f"axis={py_literal(site.arg('axis'))}"))


def build_prelu(site: Site) -> NumpyLayer:
    return site.layer(site.call("prelu", site.weight("alpha")))


def build_identity(site: Site) -> NumpyLayer:
    """Dropout and noise layers: identities at inference."""
    return site.layer(site.x)


# ---- core ----------------------------------------------------------------------------------


def _refuse_lora(site: Site) -> None:
    if site.arg("lora_rank") is not None:
        raise Unsupported("lora_rank adds LoRA weights that netspec does not list")


def build_dense(site: Site) -> NumpyLayer:
    _refuse_lora(site)
    weights = f"{site.weight('kernel')}, {site.weight('bias', site.arg('use_bias'))}"
    return site.layer(site.call("dense", weights), fused(site, site.arg("activation")))


def build_embedding(site: Site) -> NumpyLayer:
    _refuse_lora(site)
    layer = site.layer(site.call("embedding", site.weight("embeddings")))
    if site.mask_var:  # mask_zero=true
        return replace(layer, mask_var=site.mask_var, mask_expr=f"{site.x} != 0")
    return layer


def build_masking(site: Site) -> NumpyLayer:
    value = py_literal(site.arg("mask_value"))
    return NumpyLayer(
        site.var,
        f"np.where({site.mask_var}[..., None], {site.x}, 0.0)",
        mask_var=site.mask_var,
        mask_expr=f"np.any({site.x} != {value}, axis=-1)",
    )


def build_reshape(site: Site) -> NumpyLayer:
    target = py_literal(tuple(site.arg("target_shape")))
    return site.layer(f"{site.x}.reshape((len({site.x}), *{target}))")


def build_permute(site: Site) -> NumpyLayer:
    return site.layer(f"np.transpose({site.x}, {py_literal((0, *site.arg('dims')))})")


def build_repeat_vector(site: Site) -> NumpyLayer:
    return site.layer(f"np.repeat({site.x}[:, None, :], {py_literal(site.arg('n'))}, axis=1)")


def build_rescaling(site: Site) -> NumpyLayer:
    scale, offset = (_per_channel(site.arg(key)) for key in ("scale", "offset"))
    return site.layer(f"np.asarray({site.x}, np.float32) * {scale} + {offset}")


def _per_channel(value) -> str:
    """A number as it is; one per channel as a float32 array (a tuple would compute in float64)."""
    if isinstance(value, tuple):
        return f"np.asarray({py_literal(value)}, np.float32)"
    return py_literal(value)


# ---- normalization -------------------------------------------------------------------------


def _affine(site: Site) -> str:
    """gamma and beta, None where scale=false or center=false leaves them out."""
    gamma = site.weight("gamma", site.arg("scale"))
    return f"{gamma}, {site.weight('beta', site.arg('center'))}"


def build_batch_norm(site: Site) -> NumpyLayer:
    stats = f"{site.weight('moving_mean')}, {site.weight('moving_variance')}"
    settings = f"epsilon={py_literal(site.arg('epsilon'))}, axis={py_literal(site.arg('axis'))}"
    return site.layer(site.call("batch_norm", stats, _affine(site), settings))


def build_layer_norm(site: Site) -> NumpyLayer:
    axes = site.arg("axis")
    axes = tuple(sorted(axes)) if isinstance(axes, tuple) else (axes,)
    settings = f"axes={py_literal(axes)}, epsilon={py_literal(site.arg('epsilon'))}"
    return site.layer(site.call("layer_norm", _affine(site), settings))


def build_group_norm(site: Site) -> NumpyLayer:
    axis = site.arg("axis")
    channels = site.shapes[0][axis if axis < 0 else axis - 1]
    groups = channels if site.arg("groups") == -1 else site.arg("groups")
    settings = f"groups={groups}, axis={axis}, epsilon={py_literal(site.arg('epsilon'))}"
    return site.layer(site.call("group_norm", _affine(site), settings))


def build_unit_norm(site: Site) -> NumpyLayer:
    return site.layer(site.call("unit_norm", f"axis={py_literal(site.arg('axis'))}"))


# ---- merges --------------------------------------------------------------------------------


def _aligned(site: Site) -> tuple[str, ...]:
    """Keras' merges give a lower-rank input new axes after the batch, then broadcast."""
    rank = max(len(s) for s in site.shapes)
    return tuple(
        x if len(s) == rank else f"{x}[:, {', '.join(['None'] * (rank - len(s)))}]"
        for x, s in zip(site.inputs, site.shapes)
    )


def build_add(site: Site) -> NumpyLayer:
    return site.layer(" + ".join(_aligned(site)))


def build_subtract(site: Site) -> NumpyLayer:
    first, second = _aligned(site)
    return site.layer(f"{first} - {second}")


def build_multiply(site: Site) -> NumpyLayer:
    return site.layer(" * ".join(_aligned(site)))


def build_average(site: Site) -> NumpyLayer:
    inputs = _aligned(site)
    return site.layer(f"({' + '.join(inputs)}) / {len(inputs)}")


def _fold(function: str, inputs: tuple[str, ...]) -> str:
    """`function(function(a, b), c)`: a two-argument numpy function over every input."""
    first, *rest = inputs
    return f"{function}(" * len(rest) + first + "".join(f", {x})" for x in rest)


def build_maximum(site: Site) -> NumpyLayer:
    return site.layer(_fold("np.maximum", _aligned(site)))


def build_minimum(site: Site) -> NumpyLayer:
    return site.layer(_fold("np.minimum", _aligned(site)))


def build_concat(site: Site) -> NumpyLayer:
    axis = py_literal(site.arg("axis"))
    return site.layer(f"np.concatenate([{', '.join(site.inputs)}], axis={axis})")


def build_dot(site: Site) -> NumpyLayer:
    axes = site.arg("axes")
    pair = tuple(axes) if isinstance(axes, tuple) else (axes, axes)
    ranks = [len(s) + 1 for s in site.shapes]
    full = tuple(a % r for a, r in zip(pair, ranks))
    settings = f"axes={py_literal(full)}, normalize={site.arg('normalize')}"
    return site.layer(site.call("dot", site.inputs[1], settings))
