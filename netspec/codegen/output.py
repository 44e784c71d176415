"""Writing generated files as build tools expect: atomically, and only when the content changes."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path


def read_existing(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_if_changed(path: Path, content: str) -> bool:
    """Write `content` to `path` unless it is already there. Returns True when it wrote.

    A temporary file in the same folder is renamed over the target, so a reader never sees half
    a file and a failed write leaves the old file untouched.
    """
    if read_existing(path) == content:
        return False
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def unified_diff(old: str | None, new: str, path: str, label: str = "generated") -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} (on disk)" if old is not None else "/dev/null",
        tofile=f"{path} ({label})",
    )
    return "".join(lines)
