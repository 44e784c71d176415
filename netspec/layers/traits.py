"""What a rule or a target may ask of a layer kind, stated once in its catalog entry.

Every field of `Traits` is required: a kind states each of them (mostly through one of the family
presets at the end of this module, which state them all), so no module keeps a list of kind names
of its own and a new kind cannot leave one out. `category` stays a docs heading only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

Args = Mapping[str, Any]


class Linearity(enum.Enum):
    """How a layer kind bears on the linear-collapse rule (NS201).

    MAP: a learned linear (affine) map that mixes features: two in a row collapse into one.
    TRANSPARENT: keeps a linear chain linear without mixing features by itself (dropout, flatten,
      reshape, padding, average pooling, batch norm at inference, rescaling).
    NONLINEAR: breaks the chain (activations, max pooling, recurrent layers, normalisation that
      divides by a statistic of its input, multiplicative merges).
    """

    MAP = "map"
    TRANSPARENT = "transparent"
    NONLINEAR = "nonlinear"


class Integers(enum.Enum):
    """What a kind does to integer values (token ids, pixels) it is given."""

    KEEPS = "keeps"  # hands an integer tensor on as integers: it only moves or picks values
    WHOLE = "whole"  # may cast to float, but the values stay whole numbers (pad, max, add, ...)
    CASTS = "casts"  # computes new values (scales, averages, learns)


class MaskFlow(enum.Enum):
    """What becomes of a Keras mask (from `masking` or `embedding(mask_zero=true)`) at a kind."""

    DROPS = "drops"  # supports_masking is False: Keras drops the mask (with a warning)
    KEEPS = "keeps"  # passes the mask on unchanged
    ENDS = "ends"  # takes the mask and passes none on (pooling over steps, a dot product)
    ALL_INPUTS = "all inputs"  # element-wise merges: a mask only when every input has one
    ANY_INPUT = "any input"  # concatenation: a mask when any input has one
    SEQUENCES = "sequences"  # recurrent layers: passed on only with return_sequences


@dataclass(frozen=True)
class Masking:
    """A kind's mask behaviour: whether it makes one, what it does with one, and whether what it
    computes depends on it (a recurrent layer skips masked steps; softmax leaves them out)."""

    flow: MaskFlow
    reads: bool
    makes: bool | str  # True: always (masking); an argument name: when that argument is true
    # Reads it only for what it learns in training (batch norm's batch statistics): inference,
    # and so a forward pass, does not depend on it.
    training_only: bool = False

    @property
    def reads_at_inference(self) -> bool:
        return self.reads and not self.training_only


class Regularization(enum.Enum):
    """Layers that act in training only."""

    NONE = "none"
    DROPOUT = "dropout"  # zeroes (or scales) values at random: a rate
    NOISE = "noise"  # adds noise: a standard deviation
    AUGMENTATION = "augmentation"  # transforms inputs at random (flips, rotations, zooms, contrast)


class Pooling(enum.Enum):
    """What a pooling kind takes of each window (or of everything, for global pooling)."""

    MAX = "max"
    AVERAGE = "average"


class Normalization(enum.Enum):
    """What a normalisation kind computes its statistics over."""

    BATCH = "batch"  # each feature over the batch (moving statistics at inference)
    LAYER = "layer"  # each example over its features
    GROUP = "group"  # each example over groups of channels
    UNIT = "unit"  # each example's L2 norm


class Wrapper(enum.Enum):
    """Kinds that apply the layer given as their `layer` argument."""

    NONE = "none"
    PER_STEP = "per step"  # time_distributed: the inner layer on every step, one set of weights
    BOTH_DIRECTIONS = "both directions"  # bidirectional: the inner recurrent layer twice


class Merge(enum.Enum):
    """What a merge computes from its inputs (NONE for a kind of one input)."""

    NONE = "none"
    SUM = "sum"  # add, subtract
    MEAN = "mean"  # average: a mean of probability distributions is one
    STACK = "stack"  # concat: the inputs side by side, each value kept as it is
    PRODUCT = "product"  # multiply, dot: one input weights the other, as attention does
    EXTREMUM = "extremum"  # maximum, minimum


@dataclass(frozen=True)
class Window:
    """The window of a convolution or pooling kind: which arguments give its geometry."""

    size: str  # the argument holding the window size: `kernel_size`, `pool_size`
    dilation: str | None  # the argument holding the dilation, if the kind has one
    transposed: bool  # a transposed convolution: the window spreads each input over the output


# The `activation` trait of kinds that apply the function given as their `activation` argument.
ACTIVATION_ARGUMENT = "<the activation argument>"


@dataclass(frozen=True, kw_only=True)
class Traits:
    """Everything a rule or a target asks about a kind. All required: see the presets below."""

    linearity: Linearity
    factorised: bool  # a map that is one factor of a larger one: depthwise (per channel) conv
    weak_nonlinearity: bool  # nonlinear but no activation: max pooling, norms, max/min merges
    activation: str | None  # the function applied last: a name, ACTIVATION_ARGUMENT, or None
    activation_layer: bool  # an activation written as a layer
    recurrent: bool  # steps through time with a state (its `activation` acts inside the cell)
    normalization: Normalization | None
    rescales: bool  # sets the scale of its values (rescaling, normalisation)
    pooling: Pooling | None  # pooling kinds, global ones included
    window: Window | None  # convolutions and windowed pooling (not global pooling)
    regularization: Regularization
    passes_values: bool  # one input whose values it moves, copies, pads or (at inference) passes
    new_layout: bool  # its positions mean something else than its input's (flatten, embedding)
    integers: Integers | Callable[[Args], Integers]  # a function of the arguments where they decide
    mask: Masking
    wrapper: Wrapper
    merge: Merge
    spatial_rank: int | None  # the spatial axes it works on, where fixed (conv3d: 3; dense: None)
    # Its output depends on its input's shape only, never on its values (position_embedding).
    shape_only: bool

    def integers_for(self, args: Args) -> Integers:
        return self.integers(args) if callable(self.integers) else self.integers

    @property
    def is_pooling(self) -> bool:
        return self.pooling is not None

    @property
    def is_global_pooling(self) -> bool:
        return self.pooling is not None and self.window is None

    @property
    def is_convolution(self) -> bool:
        return self.window is not None and self.pooling is None

    @property
    def in_training_only(self) -> bool:
        return self.regularization is not Regularization.NONE


# ---- family presets: each states every trait; a kind changes what differs with `but` ----------

NO_MASK = Masking(MaskFlow.DROPS, reads=False, makes=False)
KEEPS_MASK = Masking(MaskFlow.KEEPS, reads=False, makes=False)

PLAIN = Traits(
    linearity=Linearity.TRANSPARENT,
    factorised=False,
    weak_nonlinearity=False,
    activation=None,
    activation_layer=False,
    recurrent=False,
    normalization=None,
    rescales=False,
    pooling=None,
    window=None,
    regularization=Regularization.NONE,
    passes_values=False,
    new_layout=False,
    integers=Integers.CASTS,
    mask=NO_MASK,
    wrapper=Wrapper.NONE,
    merge=Merge.NONE,
    spatial_rank=None,
    shape_only=False,
)


def but(traits: Traits, **changes: Any) -> Traits:
    """`traits` with some fields changed: `but(RESHAPING, integers=Integers.WHOLE)`."""
    return replace(traits, **changes)


INPUT = PLAIN
# dense, conv: a learned map, then the layer's own `activation` argument.
LEARNED_MAP = but(PLAIN, linearity=Linearity.MAP, activation=ACTIVATION_ARGUMENT)
ACTIVATION_LAYER = but(PLAIN, linearity=Linearity.NONLINEAR, activation_layer=True, mask=KEEPS_MASK)
DROPOUT = but(PLAIN, regularization=Regularization.DROPOUT, passes_values=True, mask=KEEPS_MASK)
NOISE = but(DROPOUT, regularization=Regularization.NOISE)
# Moves, copies or pads values: flatten, reshape, padding, cropping, upsampling.
RESHAPING = but(PLAIN, passes_values=True, integers=Integers.KEEPS)
POOLING = but(PLAIN, integers=Integers.CASTS)
NORMALIZATION = but(PLAIN, rescales=True, mask=KEEPS_MASK)
RECURRENT = but(
    PLAIN,
    linearity=Linearity.NONLINEAR,
    recurrent=True,
    mask=Masking(MaskFlow.SEQUENCES, reads=True, makes=False),
)
MERGE = but(PLAIN, mask=Masking(MaskFlow.ALL_INPUTS, reads=False, makes=False))


def window(size: str = "kernel_size", *, dilation: bool = True, transposed: bool = False) -> Window:
    """The Window of a kind whose geometry arguments have Keras' usual names."""
    return Window(size, "dilation_rate" if dilation else None, transposed)
