"""The installed package: the grammar ships inside it, and the console script runs from any folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import netspec
from netspec.language.grammar import grammar_path

SCRIPT = shutil.which("netspec", path=str(Path(sys.executable).parent))
PACKAGE = Path(netspec.__file__).resolve().parent
INSTALLED = "site-packages" in PACKAGE.parts


@pytest.mark.skipif(not INSTALLED, reason="netspec is imported from a source tree, not installed")
def test_grammar_and_templates_ship_inside_the_installed_package() -> None:
    assert grammar_path().is_relative_to(PACKAGE)
    assert (PACKAGE / "templates" / "keras.py.jinja").is_file()


@pytest.mark.skipif(SCRIPT is None, reason="the netspec console script is not installed")
def test_console_script_from_another_folder(tmp_path: Path) -> None:
    good = tmp_path / "seed.ns"
    good.write_text(
        "model seed {\n    input [2]\n    dense(4, relu)\n    dense(3, relu)\n    dense(1)\n}\n"
    )
    bad = tmp_path / "bad.ns"
    bad.write_text("model seed {\n    input [2]\n    dense(4, relu)\n")
    run = lambda *args: subprocess.run(  # noqa: E731
        [SCRIPT, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    ok = run("lint", "seed.ns")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert run("summary", "seed.ns").returncode == 0
    failed = run("lint", "--format", "concise", "bad.ns")
    assert failed.returncode == 1
    assert failed.stdout.startswith("bad.ns:1:12: NS001 missing `}`")
    assert run("--version").stdout.strip() == f"netspec {netspec.__version__}"
