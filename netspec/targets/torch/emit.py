"""What the PyTorch target's layer functions write into: modules, forward lines, weight entries.

Layout: a tensor of rank 4 with the batch (an image, spec shape (H, W, C)) is held channels first,
(N, C, H, W), as PyTorch code keeps it; every other tensor keeps the spec's own layout. Spec ranks
below never count the batch: `rank == 3` is the channels-first case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from netspec.layers import catalog
from netspec.layers.base import keras_snake_case
from netspec.layers.catalog import CallValue, LayerKind, LayerSpec, Shape, Weight
from netspec.targets.base import GenerationError
from netspec.targets.literals import py_literal

IMAGE_RANK = 3  # spec rank (batch excluded) of the tensors held channels first

# The functions and classes torch.py.jinja defines when a generator asks for them by name.
HELPERS = frozenset(
    {
        "_same_padding",
        "_relu",
        "_sparse_plus",
        "_sparse_sigmoid",
        "_squareplus",
        "_sparsemax",
        "GaussianNoise",
        "GaussianDropout",
        "PReLU",
        "SeparableConv2d",
        "KerasCrossEntropy",
        "KerasBinaryCrossEntropy",
        "MultiHeadAttention",
        "Attention",
        "AdditiveAttention",
        "EinsumDense",
        "PositionEmbedding",
        "Normalization",
    }
)


# ---- layouts -------------------------------------------------------------------------------


def torch_order(rank: int) -> tuple[int, ...]:
    """The spec's axes (batch = 0) in the order the torch tensor holds them."""
    return (0, 3, 1, 2) if rank == IMAGE_RANK else tuple(range(rank + 1))


def torch_dim(axis: int, rank: int) -> int:
    """The torch dimension of a Keras axis (batch = 0, negatives count from the end); the last
    dimension is written -1, as torch code does."""
    dim = channel_dim(axis, rank)
    return -1 if dim == rank else dim


def channel_dim(axis: int, rank: int) -> int:
    """The torch dimension of a Keras axis, counted from the front."""
    return torch_order(rank).index(axis % (rank + 1))


def to_spec(expr: str, rank: int) -> str:
    """A torch-layout tensor in the spec's layout (channels last)."""
    return f"{atom(expr)}.permute(0, 2, 3, 1)" if rank == IMAGE_RANK else expr


def from_spec(expr: str, rank: int) -> str:
    """A spec-layout tensor in the torch layout (channels first for images)."""
    return f"{atom(expr)}.permute(0, 3, 1, 2)" if rank == IMAGE_RANK else expr


def atom(expr: str) -> str:
    """`expr`, parenthesised when an operator stands outside all brackets and strings."""
    depth, quote = 0, ""
    for index, char in enumerate(expr):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char in "+-*/@<>=!&|%" and not (index == 0 and char == "-"):
            return f"({expr})"
    return expr


def dims_literal(dims: Sequence[int]) -> str:
    return py_literal(tuple(dims)) if len(dims) != 1 else str(dims[0])


# ---- what the template gets ----------------------------------------------------------------


@dataclass(frozen=True)
class TorchModule:
    """One attribute made in `__init__`: `self.<attr> = <cls>(<args>)`."""

    attr: str
    cls: str  # the torch class: `nn.Linear`, or a helper class of the module (`GaussianNoise`)
    args: str  # the constructor's arguments, rendered
    frozen: bool = False  # trainable=false: requires_grad_(False)
    fixed: tuple[str, ...] = ()  # parameters Keras does not have (center=false): held constant

    @property
    def constructor(self) -> str:
        return f"{self.cls}({self.args})"


@dataclass(frozen=True)
class WeightEntry:
    """One Keras weight and the torch tensors it becomes."""

    key: str  # Keras' path without the model prefix: `dense/kernel`
    paths: tuple[str, ...]  # torch state_dict keys
    conversion: str  # how the Keras array becomes them (see `_to_torch` in the template)
    shape: tuple[int, ...]  # the Keras shape
    initializer: Any  # Keras' initializer: a name, or (name, {options})

    @property
    def literal(self) -> str:
        """One line of the weight table (kept as is: black does not format the table)."""
        parts = (self.key, self.paths, self.conversion, self.shape, self.initializer)
        return f"{value_literal(parts[0])}: ({', '.join(value_literal(p) for p in parts[1:])})"


def value_literal(value: Any) -> str:
    """py_literal with dicts (for initializer options): the weight table is not formatted by
    black."""
    if isinstance(value, dict):
        items = ", ".join(f"{value_literal(k)}: {value_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, tuple):
        items = ", ".join(value_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return py_literal(value)


# ---- the layer being generated -------------------------------------------------------------


@dataclass(frozen=True)
class LayerView:
    """A layer statement or a layer used as a value (the inner layer of a wrapper)."""

    kind: LayerKind
    args: Mapping[str, Any]
    name: str

    @staticmethod
    def of_spec(spec: LayerSpec) -> LayerView:
        kind = catalog.lookup(spec.kind)
        assert kind is not None
        return LayerView(kind, spec.args, spec.name)


Generator = Callable[["Emitter"], None]


@dataclass
class ModelBuilder:
    """Everything one model's forward pass and `__init__` collect."""

    taken: set[str]  # identifiers the forward pass may not use for temporaries
    # The target's registry lookup: a wrapper generates its inner layer through it.
    generator_for: Callable[[LayerKind], Generator]
    modules: list[TorchModule] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    weights: list[WeightEntry] = field(default_factory=list)

    def temp(self, hint: str) -> str:
        """A local name for a value used at once: `hint`, or `hint_2`, ... when a layer or the
        module holds that name. Temporaries are not reserved: the next layer may reuse one."""
        name, counter = hint, 1
        while name in self.taken:
            counter += 1
            name = f"{hint}_{counter}"
        return name


class Emitter:
    """One layer: its input variables and shapes, where its output goes, its weights."""

    def __init__(
        self,
        builder: ModelBuilder,
        view: LayerView,
        attr: str,
        inputs: Sequence[str],
        in_shapes: Sequence[Shape],
        out_shape: Shape,
        out_var: str,
        weights: Sequence[Weight],
        key_prefix: str,
        frozen: bool = False,
        integer_input: bool = False,
        overwrite_input: bool = False,
    ) -> None:
        self.builder = builder
        self.view = view
        self.attr = attr
        self.inputs = list(inputs)
        self.in_shapes = list(in_shapes)
        self.out_shape = out_shape
        self.out_var = out_var
        self.expected = {w.name: w for w in weights}
        self.key_prefix = key_prefix
        self.frozen = frozen or view.args.get("trainable") is False
        self.registered: list[str] = []
        self.integer_input = integer_input  # the first input holds integers (ids)
        # The input is read by this layer alone and no backward pass reads it (lifetimes.py):
        # an activation may compute in place.
        self.overwrite_input = overwrite_input

    # -- reading the layer --
    @property
    def args(self) -> Mapping[str, Any]:
        return self.view.args

    @property
    def name(self) -> str:
        return self.view.name

    @property
    def x(self) -> str:
        return self.inputs[0]

    @property
    def in_shape(self) -> Shape:
        return self.in_shapes[0]

    @property
    def in_rank(self) -> int:
        return len(self.in_shapes[0])

    @property
    def out_rank(self) -> int:
        return len(self.out_shape)

    def fail(self, reason: str) -> GenerationError:
        return GenerationError(f"{self.name}: {reason}")

    # -- writing --
    def module(self, cls: str, args: str) -> str:
        """Make `self.<attr> = cls(args)` in `__init__`; returns `self.<attr>` for the forward
        pass."""
        self.builder.modules.append(TorchModule(self.attr, cls, args, self.frozen))
        return f"self.{self.attr}"

    def fix(self, params: Sequence[str]) -> None:
        """Hold parameters of the module just made constant (Keras has no such weight)."""
        if params:
            last = self.builder.modules[-1]
            self.builder.modules[-1] = replace(last, fixed=tuple(params))

    def line(self, text: str) -> None:
        self.builder.lines.append(text)

    def assign(self, expr: str) -> None:
        self.line(f"{self.out_var} = {expr}")

    def temp(self, hint: str) -> str:
        return self.builder.temp(hint)

    def helper(self, name: str) -> None:
        """Have the module define the helper function or class `name` (one of HELPERS)."""
        if name not in HELPERS:  # the template would not define it: never write broken code
            raise self.fail(f"internal error: torch.py.jinja defines no helper `{name}`")
        self.builder.helpers.add(name)

    def weight(self, name: str, paths: Sequence[str], conversion: str, init: Any) -> None:
        """Map the Keras weight `name` (below the layer) onto torch tensors below the attribute.

        `init` is the name of the layer argument holding its initializer, or the initializer."""
        weight = self.expected.get(name)
        if weight is None:  # the catalog and this target disagree: never write wrong code
            raise self.fail(f"internal error: no Keras weight `{name}` in {sorted(self.expected)}")
        by_argument = isinstance(init, str) and init in self.args
        initializer = keras_initializer(self.args[init]) if by_argument else init
        self.builder.weights.append(
            WeightEntry(
                key=f"{self.key_prefix}{name}",
                paths=tuple(f"{self.attr}.{p}" for p in paths),
                conversion=conversion,
                shape=weight.shape,
                initializer=initializer,
            )
        )
        self.registered.append(name)

    def check_weights(self) -> None:
        missing = sorted(set(self.expected) - set(self.registered))
        if missing:
            raise self.fail(f"internal error: Keras weights not mapped: {', '.join(missing)}")


# ---- initializers --------------------------------------------------------------------------

# Keras' positional order of each initializer's arguments (seeds are not carried over: torch
# draws from its own generator, seeded with torch.manual_seed).
_INITIALIZER_ARGS = {
    "constant": ("value",),
    "random_normal": ("mean", "stddev", "seed"),
    "random_uniform": ("minval", "maxval", "seed"),
    "truncated_normal": ("mean", "stddev", "seed"),
    "variance_scaling": ("scale", "mode", "distribution", "seed"),
    "orthogonal": ("gain", "seed"),
    "identity": ("gain",),
}
_INITIALIZER_ALIASES = {"uniform": "random_uniform", "normal": "random_normal"}


def keras_initializer(value: Any) -> Any:
    """A spec's initializer as data for the generated module: `"he_normal"` or
    `("random_normal", {"stddev": 0.02})`."""
    if isinstance(value, CallValue):
        name = _canonical_initializer(value.name)
        names = _INITIALIZER_ARGS.get(name, ("seed",))
        options = dict(zip(names, value.args))
        options.update(dict(value.kwargs))
        options.pop("seed", None)
        return (name, options) if options else name
    return _canonical_initializer(str(value))


def _canonical_initializer(name: str) -> str:
    snake = keras_snake_case(name)
    return _INITIALIZER_ALIASES.get(snake, snake)
