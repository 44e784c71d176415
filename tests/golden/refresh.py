"""Regenerate the golden files: `python tests/golden/refresh.py`. Review the diff, then commit.

Every change to a template or a target shows in review as a change to these files, and every
kind's traits (traits.txt) as a change to that table: a new kind's traits are read by a person,
not taken from a preset unseen.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
EXAMPLES = ("seed", "tiny_resnet", "lstm_classifier", "text_cnn")
TARGETS = ("keras", "torch", "numpy")


def available_targets() -> list[str]:
    return [t for t in TARGETS if importlib.util.find_spec(f"netspec.targets.{t}.target")]


def golden_path(example: str, target: str) -> Path:
    return GOLDEN / f"{example}_{target}.py.txt"


def generate(example: str, target: str) -> str:
    from netspec.api import generate_source

    relative = f"examples/{example}.ns"
    return generate_source((ROOT / relative).read_text(encoding="utf-8"), relative, target)


TRAITS = GOLDEN / "traits.txt"


def traits_table() -> str:
    """One line per catalog kind: each trait by name, functions of the arguments shown as such."""
    import dataclasses
    import enum

    from netspec.layers import catalog

    def shown(value: object) -> str:
        if isinstance(value, enum.Enum):
            return value.name.lower()
        if dataclasses.is_dataclass(value):
            fields = (
                f"{f.name}={shown(getattr(value, f.name))}" for f in dataclasses.fields(value)
            )
            return f"({' '.join(fields)})"
        if callable(value):
            return f"<{value.__name__}>"
        return str(value)

    lines = []
    for kind in catalog.all_kinds():
        traits = kind.traits
        fields = (f"{f.name}={shown(getattr(traits, f.name))}" for f in dataclasses.fields(traits))
        lines.append(f"{kind.name}: {' '.join(fields)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    table = traits_table()
    if not TRAITS.exists() or TRAITS.read_text(encoding="utf-8") != table:
        TRAITS.write_text(table, encoding="utf-8")
        print(f"updated {TRAITS.relative_to(ROOT)}")
    for target in available_targets():
        for example in EXAMPLES:
            path = golden_path(example, target)
            text = generate(example, target)
            old = path.read_text(encoding="utf-8") if path.exists() else None
            if old != text:
                path.write_text(text, encoding="utf-8")
                print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
