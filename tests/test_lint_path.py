"""The lint path stays light: no jinja2, black, numpy or framework is imported to lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_lint_imports_no_code_generation_or_framework_module() -> None:
    probe = (
        "import sys, netspec.app.cli\n"
        "code = netspec.app.cli.main(['lint', '--quiet', *sys.argv[1:]])\n"
        "heavy = [m for m in ('jinja2', 'black', 'numpy', 'keras', 'torch', 'tensorflow') "
        "if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    examples = [str(p) for p in sorted((ROOT / "examples").glob("*.ns"))]
    result = subprocess.run(
        [sys.executable, "-c", probe, *examples], capture_output=True, text=True, timeout=120
    )
    assert "HEAVY=" in result.stderr, result.stderr
    assert result.stderr.split("HEAVY=")[-1].strip() == ""
