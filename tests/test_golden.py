"""Golden files of generated code: a template change must show in review.

Refresh them with `python tests/golden/refresh.py` and review the diff.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "golden_refresh", Path(__file__).resolve().parent / "golden" / "refresh.py"
)
refresh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refresh)

CASES = [(e, t) for t in refresh.available_targets() for e in refresh.EXAMPLES]


@pytest.mark.parametrize(("example", "target"), CASES, ids=[f"{e}-{t}" for e, t in CASES])
def test_generated_code_matches_the_golden_file(example: str, target: str) -> None:
    path = refresh.golden_path(example, target)
    assert path.exists(), f"no golden file {path.name}: run python tests/golden/refresh.py"
    assert refresh.generate(example, target) == path.read_text(
        encoding="utf-8"
    ), f"{path.name} is stale: run python tests/golden/refresh.py and review the diff"


@pytest.mark.parametrize(("example", "target"), CASES[:2], ids=[f"{e}-{t}" for e, t in CASES[:2]])
def test_generation_is_deterministic(example: str, target: str) -> None:
    assert refresh.generate(example, target) == refresh.generate(example, target)


def test_every_kinds_traits_match_the_reviewed_table() -> None:
    """A new kind, or a changed trait, shows in review as a line of tests/golden/traits.txt."""
    assert refresh.TRAITS.exists(), "no tests/golden/traits.txt: run python tests/golden/refresh.py"
    assert refresh.traits_table() == refresh.TRAITS.read_text(
        encoding="utf-8"
    ), "traits.txt is stale: run python tests/golden/refresh.py and review the diff"
