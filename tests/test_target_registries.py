"""Each target has a registry keyed by layer kind: every catalog kind has a generator or an
explicit refusal with the reason users read, never both, never neither."""

from __future__ import annotations

import importlib

import pytest

from netspec.layers import catalog
from netspec.targets.base import TARGETS

KIND_NAMES = {kind.name for kind in catalog.all_kinds()}


def registry(target: str):
    return importlib.import_module(f"netspec.targets.{target}.registry")


@pytest.mark.parametrize("target", TARGETS)
def test_every_kind_is_generated_or_refused_exactly_once(target: str) -> None:
    module = registry(target)
    generated, refused = set(module.GENERATORS), set(module.UNSUPPORTED)
    assert generated & refused == set(), "a kind both generated and refused"
    assert KIND_NAMES - generated - refused == set(), "kinds neither generated nor refused"
    assert (generated | refused) - KIND_NAMES == set(), "entries for kinds the catalog lacks"


@pytest.mark.parametrize("target", TARGETS)
def test_every_refusal_gives_a_reason(target: str) -> None:
    for kind, reason in registry(target).UNSUPPORTED.items():
        assert isinstance(reason, str) and len(reason.split()) >= 3, kind
