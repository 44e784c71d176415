"""Templates give the generated modules their shape; what a layer kind becomes is stated in Python,
in each target's registry, and no template restates it kind by kind."""

from __future__ import annotations

import re

import pytest

from netspec.layers import catalog
from netspec.targets.base import TARGETS, environment, templates_dir

MACRO = re.compile(r"{%-?\s*macro\s+([a-z0-9_]+)\s*\(")
KIND_NAMES = {kind.name for kind in catalog.all_kinds()}
TEMPLATES = sorted(path.name for path in templates_dir().glob("*.jinja"))


def test_templates_ship_with_the_package() -> None:
    assert templates_dir().is_dir()
    assert TEMPLATES, f"no templates in {templates_dir()}"


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_has_its_module_template(target: str) -> None:
    # get_template parses it too: a syntax error in a template fails here, not in `netspec gen`.
    assert environment().get_template(f"{target}.py.jinja") is not None


@pytest.mark.parametrize("target", TARGETS)
def test_no_target_keeps_a_template_of_layer_kinds(target: str) -> None:
    assert not (templates_dir() / f"{target}_layers.jinja").exists()


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_template_has_a_macro_named_for_a_layer_kind(name: str) -> None:
    text = (templates_dir() / name).read_text(encoding="utf-8")
    assert set(MACRO.findall(text)) & KIND_NAMES == set()
