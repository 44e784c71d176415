"""Every target's template defines one macro per layer kind, with the same names everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netspec.layers import catalog
from netspec.targets.base import TARGETS, templates_dir

MACRO = re.compile(r"{%-?\s*macro\s+([a-z0-9_]+)\s*\(")


def macros(target: str) -> set[str]:
    text = (templates_dir() / f"{target}_layers.jinja").read_text(encoding="utf-8")
    return set(MACRO.findall(text))


KIND_MACROS = {"activation" if k.fixed_activation else k.name for k in catalog.all_kinds()}


@pytest.mark.parametrize("target", TARGETS)
def test_every_layer_kind_has_a_macro(target: str) -> None:
    assert KIND_MACROS - macros(target) == set()


def test_the_layer_macros_are_the_same_in_every_target() -> None:
    per_target = {t: macros(t) & KIND_MACROS for t in TARGETS}
    assert per_target["keras"] == per_target["torch"] == per_target["numpy"] == KIND_MACROS


def test_templates_ship_with_the_package() -> None:
    folder = templates_dir()
    assert {f"{t}.py.jinja" for t in TARGETS} <= {p.name for p in folder.iterdir()}
    assert Path(folder).is_dir()
