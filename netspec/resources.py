"""Where the files that ship beside the code live: the grammar and the templates."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str, marker: str) -> Path:
    """The folder `name` (`grammar`, `templates`) holding `marker`: inside the installed package,
    or at the root of a source checkout."""
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if (candidate / marker).is_file():
            return candidate
    raise FileNotFoundError(f"netspec's {name}/ folder not found next to the netspec package")
