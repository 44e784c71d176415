"""The reference pages generated from code are up to date (refresh: python -m netspec.app.docs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netspec.app.docs import pages

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(pages()))
def test_generated_page_is_current(name: str) -> None:
    path = DOCS / name
    assert path.exists(), f"docs/{name} is missing: run python -m netspec.app.docs"
    assert (
        path.read_text(encoding="utf-8") == pages()[name]
    ), f"docs/{name} is stale: run python -m netspec.app.docs"


def test_every_layer_kind_is_documented() -> None:
    from netspec.layers import catalog

    text = (DOCS / "layers.md").read_text(encoding="utf-8")
    for kind in catalog.all_kinds():
        assert f"`{kind.name}`" in text


def test_the_noqa_example_of_the_configuration_page_lints_clean() -> None:
    """Its `# noqa: NS201` stands on the layer NS201 underlines (the one to change)."""
    from netspec.api import lint_source

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```netspec\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        assert lint_source(block, "example.ns") == []
