"""Every catalog kind states every trait a rule or a target asks about, and the traits agree with
the kind's own arguments: a window names arguments the kind has, a mask made "when an argument is
true" names a boolean argument, a wrapper takes a layer."""

from __future__ import annotations

import dataclasses

import pytest

from netspec.layers import catalog
from netspec.layers.base import ValueKind
from netspec.layers.traits import (
    ACTIVATION_ARGUMENT,
    Integers,
    Linearity,
    MaskFlow,
    Masking,
    Merge,
    Normalization,
    Pooling,
    Regularization,
    Traits,
    Window,
    Wrapper,
)

KINDS = catalog.all_kinds()

# What each field may hold; None is allowed only where it is listed.
FIELD_TYPES = {
    "linearity": (Linearity,),
    "factorised": (bool,),
    "weak_nonlinearity": (bool,),
    "activation": (str, type(None)),
    "activation_layer": (bool,),
    "recurrent": (bool,),
    "normalization": (Normalization, type(None)),
    "rescales": (bool,),
    "pooling": (Pooling, type(None)),
    "window": (Window, type(None)),
    "regularization": (Regularization,),
    "passes_values": (bool,),
    "new_layout": (bool,),
    "integers": (Integers,),  # or a function of the arguments giving one
    "mask": (Masking,),
    "wrapper": (Wrapper,),
    "merge": (Merge,),
    "spatial_rank": (int, type(None)),
    "shape_only": (bool,),
}


def test_the_table_covers_every_trait() -> None:
    assert set(FIELD_TYPES) == {f.name for f in dataclasses.fields(Traits)}


def test_no_trait_can_be_left_out() -> None:
    """Traits has no defaults: a kind that leaves one out does not construct."""
    required = [
        f.name
        for f in dataclasses.fields(Traits)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    assert sorted(required) == sorted(FIELD_TYPES)
    with pytest.raises(TypeError):
        Traits(linearity=Linearity.MAP)  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_trait_is_set_and_of_its_type(kind) -> None:
    traits = kind.traits
    assert isinstance(traits, Traits)
    for name, types in FIELD_TYPES.items():
        value = getattr(traits, name)
        if name == "integers" and callable(value):
            continue
        assert isinstance(value, types), f"{kind.name}.{name} = {value!r}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_traits_agree_with_the_arguments(kind) -> None:
    traits = kind.traits
    window = traits.window
    if window is not None or traits.pooling is not None:
        assert traits.spatial_rank in (1, 2, 3)
    if window is not None:
        assert kind.arg(window.size) is not None
        assert window.dilation is None or kind.arg(window.dilation) is not None
        assert kind.arg("strides") is not None and kind.arg("padding") is not None
    if isinstance(traits.mask.makes, str):
        arg = kind.arg(traits.mask.makes)
        assert arg is not None and arg.kind is ValueKind.BOOL
    if traits.wrapper is not Wrapper.NONE:
        assert kind.arg("layer") is not None and kind.arg("layer").kind is ValueKind.LAYER
    if traits.activation == ACTIVATION_ARGUMENT:
        assert kind.arg("activation") is not None
    if traits.regularization is Regularization.DROPOUT:
        assert kind.arg("rate") is not None
    if traits.regularization is Regularization.NOISE:
        assert kind.arg("stddev") is not None
    if traits.weak_nonlinearity or traits.recurrent:
        assert traits.linearity is Linearity.NONLINEAR
    if traits.factorised:
        assert traits.linearity is Linearity.MAP
    if traits.recurrent:
        assert traits.mask.flow is MaskFlow.SEQUENCES
    assert (traits.merge is not Merge.NONE) == kind.is_merge


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_integers_answer_for_the_default_arguments(kind) -> None:
    defaults = {a.name: a.default for a in kind.args if not a.required}
    assert isinstance(kind.traits.integers_for(defaults), Integers)
