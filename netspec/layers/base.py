"""The layer-kind entry: arguments with Keras' order and defaults, shape and weight functions."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netspec import codes
from netspec.layers.traits import Linearity, Traits

Dim = int | None
Shape = tuple[Dim, ...]  # without the batch dimension


class Required:
    """The default of an argument that has none."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = Required()


@dataclass(frozen=True)
class LayerSpec:
    """A layer used as a value (`bidirectional(lstm(64))`), resolved like a layer statement."""

    kind: str
    args: Mapping[str, Any]
    name: str
    explicit: frozenset[str] = frozenset()
    # The catalog entry of `kind`, set by lowering: a wrapper's shape function reads its inner
    # layer's through it, without a look-up in the catalog that imports the wrappers.
    entry: LayerKind | None = field(default=None, compare=False, repr=False)

    def __hash__(self) -> int:
        return hash((self.kind, self.name))


@dataclass(frozen=True)
class CallValue:
    """A call used as a value, e.g. `l2(1e-4)` or `he_normal(seed=1)`."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


class ValueKind(enum.Enum):
    """What an argument accepts; lowering checks values against it (NS006, NS002)."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"  # one of `choices`
    INT_TUPLE = "int tuple"  # an int or an n-tuple of ints (`rank` says n)
    PADDING_PAIRS = "padding"  # int, n-tuple of ints or n-tuple of pairs
    SHAPE = "shape"  # a tuple of ints (reshape target, permute dims)
    SIZES = "sizes"  # an int or a tuple of ints and Nones (an output shape, batch left out)
    AXIS = "axis"  # an int or a tuple of ints
    ACTIVATION = "activation"
    INITIALIZER = "initializer"
    REGULARIZER = "regularizer"
    CONSTRAINT = "constraint"
    LAYER = "layer"
    DTYPE = "dtype"
    STRING = "string"
    ANY = "any"


@dataclass(frozen=True)
class Arg:
    """One constructor argument of a Keras layer."""

    name: str
    kind: ValueKind
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    rank: int = 0  # for INT_TUPLE and PADDING_PAIRS: how many spatial dimensions
    minimum: float | None = None  # inclusive lower bound of a number
    below: float | None = None  # exclusive upper bound of a number
    maximum: float | None = None  # inclusive upper bound of a number
    nullable: bool = False  # None allowed
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Weight:
    """A variable of a layer: its path below the layer's name, its Keras shape, trainable or not."""

    name: str
    shape: tuple[int, ...]
    trainable: bool = True

    @property
    def size(self) -> int:
        total = 1
        for dim in self.shape:
            total *= dim
        return total


class ShapeError(Exception):
    """A layer's input does not fit it. `argument` names the argument at fault, if one is."""

    def __init__(
        self, message: str, *, code: str = codes.INCOMPATIBLE_INPUT, argument: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.argument = argument


Args = Mapping[str, Any]
InferFn = Callable[[list[Shape], Args], Shape]
WeightsFn = Callable[[list[Shape], Args], list[Weight]]


def no_weights(inputs: list[Shape], args: Args) -> list[Weight]:
    return []


@dataclass(frozen=True)
class LayerKind:
    """One entry of the catalog: everything netspec knows about a layer kind."""

    name: str  # the spec's snake_case name: `max_pool2d`
    keras_class: str  # `MaxPooling2D`
    args: tuple[Arg, ...]  # in Keras' positional order
    infer: InferFn
    weights: WeightsFn = no_weights
    aliases: tuple[str, ...] = ()
    category: str = "core"
    summary: str = ""
    min_inputs: int = 1
    max_inputs: int = 1  # merges take several
    # Keras calls it on its inputs as separate arguments, `layer(query, value, key)`, where
    # merges (and Attention) take one list of them.
    inputs_as_arguments: bool = False
    # The auto-names Keras gives layers this one makes inside itself, unnamed, when it is built
    # (MultiHeadAttention's Softmax and Dropout): they take a number from Keras' counters, so the
    # next `dropout` of the model is `dropout_1`.
    inner_auto_names: tuple[str, ...] = ()
    fixed_activation: str | None = None  # `relu` as a layer is Activation-like with this name
    traits: Traits = field(kw_only=True)  # what rules and targets ask of it (layers/traits.py)

    @property
    def linearity(self) -> Linearity:
        return self.traits.linearity

    @functools.cached_property
    def auto_name(self) -> str:
        """The prefix Keras gives an unnamed layer of this class (`MaxPooling2D` -> `max_pooling2d`)."""
        return keras_snake_case(self.keras_class)

    @property
    def is_merge(self) -> bool:
        return self.max_inputs > 1

    def arg(self, name: str) -> Arg | None:
        for arg in self.args:
            if arg.name == name:
                return arg
        return None


def keras_snake_case(name: str) -> str:
    """The prefix Keras derives from a class name: `Conv2D` -> `conv2d`, `ReLU` -> `re_lu`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# Arguments every Keras layer accepts (base `Layer.__init__`); `name` is handled by lowering.
COMMON_ARGS: tuple[Arg, ...] = (
    Arg("trainable", ValueKind.BOOL, True),
    Arg("dtype", ValueKind.DTYPE, None, nullable=True),
    Arg("autocast", ValueKind.BOOL, True),
)
