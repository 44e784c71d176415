"""Keras activations in PyTorch: as an expression (`activation=` of a layer) or as a module."""

from __future__ import annotations

from collections.abc import Callable

from netspec.targets.base import GenerationError
from netspec.targets.torch.emit import Emitter, torch_dim

# name -> expression on `e` (and `d`, the torch dim of the spec's last axis). Keras 3 defaults:
# gelu exact, leaky_relu slope 0.2, hard_sigmoid = relu6(x + 3) / 6, elu and celu alpha 1.
_EXPRESSIONS: dict[str, Callable[[str, int], str]] = {
    "linear": lambda e, d: e,
    "relu": lambda e, d: f"torch.relu({e})",
    "relu6": lambda e, d: f"F.relu6({e})",
    "sigmoid": lambda e, d: f"torch.sigmoid({e})",
    "tanh": lambda e, d: f"torch.tanh({e})",
    "softmax": lambda e, d: f"torch.softmax({e}, dim={d})",
    "log_softmax": lambda e, d: f"torch.log_softmax({e}, dim={d})",
    "elu": lambda e, d: f"F.elu({e})",
    "celu": lambda e, d: f"F.celu({e})",
    "selu": lambda e, d: f"F.selu({e})",
    "gelu": lambda e, d: f"F.gelu({e})",
    "exponential": lambda e, d: f"torch.exp({e})",
    "hard_sigmoid": lambda e, d: f"F.hardsigmoid({e})",
    "hard_silu": lambda e, d: f"F.hardswish({e})",
    "hard_swish": lambda e, d: f"F.hardswish({e})",
    "hard_tanh": lambda e, d: f"F.hardtanh({e})",
    "hard_shrink": lambda e, d: f"F.hardshrink({e}, 0.5)",
    "soft_shrink": lambda e, d: f"F.softshrink({e}, 0.5)",
    "tanh_shrink": lambda e, d: f"F.tanhshrink({e})",
    "leaky_relu": lambda e, d: f"F.leaky_relu({e}, 0.2)",
    "log_sigmoid": lambda e, d: f"F.logsigmoid({e})",
    "mish": lambda e, d: f"F.mish({e})",
    "silu": lambda e, d: f"F.silu({e})",
    "swish": lambda e, d: f"F.silu({e})",
    "softplus": lambda e, d: f"F.softplus({e})",
    "softsign": lambda e, d: f"F.softsign({e})",
    "sparse_plus": lambda e, d: f"_sparse_plus({e})",
    "sparse_sigmoid": lambda e, d: f"_sparse_sigmoid({e})",
    "squareplus": lambda e, d: f"_squareplus({e})",
    "sparsemax": lambda e, d: f"_sparsemax({e}, dim={d})",
}
# The activations computed by a function the generated module defines (see torch.py.jinja).
_HELPERS = {
    name: f"_{name}" for name in ("sparse_plus", "sparse_sigmoid", "squareplus", "sparsemax")
}

# name -> (torch module class, its arguments) for activations written as layers; `{d}` is the
# torch dim of the spec's last axis. The others are written as expressions in forward.
_MODULES: dict[str, tuple[str, str]] = {
    "linear": ("nn.Identity", ""),
    "relu": ("nn.ReLU", ""),
    "relu6": ("nn.ReLU6", ""),
    "sigmoid": ("nn.Sigmoid", ""),
    "tanh": ("nn.Tanh", ""),
    "softmax": ("nn.Softmax", "dim={d}"),
    "log_softmax": ("nn.LogSoftmax", "dim={d}"),
    "elu": ("nn.ELU", ""),
    "celu": ("nn.CELU", ""),
    "selu": ("nn.SELU", ""),
    "gelu": ("nn.GELU", ""),
    "hard_sigmoid": ("nn.Hardsigmoid", ""),
    "hard_silu": ("nn.Hardswish", ""),
    "hard_swish": ("nn.Hardswish", ""),
    "hard_tanh": ("nn.Hardtanh", ""),
    "hard_shrink": ("nn.Hardshrink", "0.5"),
    "soft_shrink": ("nn.Softshrink", "0.5"),
    "tanh_shrink": ("nn.Tanhshrink", ""),
    "leaky_relu": ("nn.LeakyReLU", "0.2"),
    "log_sigmoid": ("nn.LogSigmoid", ""),
    "mish": ("nn.Mish", ""),
    "silu": ("nn.SiLU", ""),
    "swish": ("nn.SiLU", ""),
    "softplus": ("nn.Softplus", ""),
    "softsign": ("nn.Softsign", ""),
}


def _check(name: str, layer: str) -> None:
    if name not in _EXPRESSIONS:
        raise GenerationError(f"{layer}: activation `{name}` is not supported by the torch target")


def activation_expr(name: str | None, expr: str, rank: int, e: Emitter) -> str:
    """`expr` with the Keras activation `name` applied (None and linear: unchanged)."""
    if name is None or name == "linear":
        return expr
    _check(name, e.name)
    if name in _HELPERS:
        e.helper(_HELPERS[name])
    return _EXPRESSIONS[name](expr, torch_dim(-1, rank))


def activate(e: Emitter, expr: str) -> str:
    """The layer's own `activation=` on its output expression."""
    return activation_expr(e.args.get("activation"), expr, e.out_rank, e)


# Activation modules that can overwrite their input (`inplace=True`).
_IN_PLACE = frozenset({"nn.ReLU", "nn.ReLU6", "nn.LeakyReLU"})


def in_place(e: Emitter, cls: str, args: str) -> str:
    """The module's arguments, with inplace=True where it may overwrite its input (read by
    this layer alone, and by no backward pass): a tensor less alive at a time."""
    if cls not in _IN_PLACE or not e.overwrite_input:
        return args
    return f"{args}, inplace=True" if args else "inplace=True"


def gen_activation(e: Emitter) -> None:
    """`activation(name)` and the activations written as layers (`tanh`, `gelu`, ...)."""
    name = e.view.kind.fixed_activation or e.args["activation"]
    if name is None:
        name = "linear"
    _check(name, e.name)
    dim = torch_dim(-1, e.out_rank)
    if name in _MODULES:
        cls, args = _MODULES[name]
        module = e.module(cls, in_place(e, cls, args.format(d=dim)))
        e.assign(f"{module}({e.x})")
    else:
        e.assign(activation_expr(name, e.x, e.out_rank, e))


def gen_relu(e: Emitter) -> None:
    """Keras' ReLU layer: max_value, negative_slope and threshold, as keras.activations.relu."""
    cap, slope, threshold = e.args["max_value"], e.args["negative_slope"], e.args["threshold"]
    if threshold == 0 and slope == 0 and cap is None:
        module = e.module("nn.ReLU", in_place(e, "nn.ReLU", ""))
    elif threshold == 0 and slope == 0 and cap == 6:
        module = e.module("nn.ReLU6", in_place(e, "nn.ReLU6", ""))
    elif threshold == 0 and slope == 0 and cap > 0:  # torch's Hardtanh needs max_val > min_val
        module = e.module("nn.Hardtanh", f"0.0, {float(cap)!r}")
    elif threshold == 0 and cap is None:
        module = e.module("nn.LeakyReLU", repr(float(slope)))
    else:
        e.helper("_relu")
        e.assign(
            f"_relu({e.x}, negative_slope={float(slope)!r}, max_value={cap!r}, "
            f"threshold={float(threshold)!r})"
        )
        return
    e.assign(f"{module}({e.x})")


def gen_leaky_relu(e: Emitter) -> None:
    module = e.module(
        "nn.LeakyReLU", in_place(e, "nn.LeakyReLU", repr(float(e.args["negative_slope"])))
    )
    e.assign(f"{module}({e.x})")


def gen_elu(e: Emitter) -> None:
    alpha = float(e.args["alpha"])
    module = e.module("nn.ELU", "" if alpha == 1.0 else f"alpha={alpha!r}")
    e.assign(f"{module}({e.x})")


def gen_softmax(e: Emitter) -> None:
    axis = e.args["axis"]
    axes = axis if isinstance(axis, tuple) else (axis,)
    dims = sorted(torch_dim(a, e.in_rank) for a in axes)
    if len(dims) == 1:
        module = e.module("nn.Softmax", f"dim={dims[0]}")
        e.assign(f"{module}({e.x})")
        return
    # Keras: exp(x - logsumexp(x, axes)) when the axis is a tuple of several axes.
    e.assign(f"torch.exp({e.x} - torch.logsumexp({e.x}, dim={tuple(dims)!r}, keepdim=True))")


def gen_prelu(e: Emitter) -> None:
    """Keras' alpha has the input's shape with the shared axes set to 1. nn.PReLU holds one
    slope per channel (dim 1): it fits a vector input, or an image with shared_axes (1, 2)."""
    (alpha,) = [w for w in e.expected.values()]
    channels = e.in_shape[-1]
    per_channel = alpha.shape in ((channels,), (1, 1, channels)) and e.in_rank in (1, 3)
    if per_channel:
        module = e.module("nn.PReLU", f"{channels}")
        e.weight("alpha", ("weight",), "reshape", "alpha_initializer")
    else:
        e.helper("PReLU")
        module = e.module("PReLU", py_shape(alpha.shape, e.in_rank))
        e.weight(
            "alpha",
            ("weight",),
            "channels_first" if e.in_rank == 3 else "copy",
            "alpha_initializer",
        )
    e.assign(f"{module}({e.x})")


def py_shape(shape: tuple[int, ...], rank: int) -> str:
    """A Keras weight shaped like the input (no batch) in the torch layout."""
    if rank == 3:
        shape = (shape[2], shape[0], shape[1])
    return repr(tuple(shape))
