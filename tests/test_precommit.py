"""The pre-commit hook, run for real with `pre-commit try-repo` on a temporary repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
    "pre-commit"
)

pytestmark = pytest.mark.skipif(
    PRE_COMMIT is None or not (ROOT / ".git").exists(),
    reason="pre-commit is not installed, or the project is not a git checkout",
)


def git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=netspec", "-c", "user.email=ci@example.invalid", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_netspec_lint_hook_passes_good_specs_and_fails_bad_ones(tmp_path: Path) -> None:
    repo = tmp_path / "specs"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "good.ns").write_text("model m {\n    input [2]\n    dense(4, relu)\n    dense(1)\n}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "good")
    home = tmp_path / "cache"
    env = {
        "PRE_COMMIT_HOME": str(home),
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
    }
    run = lambda: subprocess.run(  # noqa: E731
        [PRE_COMMIT, "try-repo", str(ROOT), "netspec-lint", "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    good = run()
    assert good.returncode == 0, good.stdout + good.stderr
    (repo / "bad.ns").write_text("model m {\n    input [2]\n    dense(4)\n")
    git(repo, "add", ".")
    bad = run()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "NS001" in bad.stdout
