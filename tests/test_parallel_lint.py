"""Many files in one run: spread over processes, the output is the one process's, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.app import parallel
from netspec.app.cli import main
from netspec.app.parallel import MIN_FILES_PER_WORKER, lint_all, worker_count
from netspec.config.settings import find_settings

# Files of every sort a run meets: clean, with warnings, with errors in shapes, bad syntax, and
# one that asks (in its folder's pyproject.toml) for fewer codes.
SPECS = (
    "model m{i} {{\n    input [{n}]\n    dense(4, relu)\n    dense(1)\n}}\n",
    "model m{i} {{\n    input [{n}]\n    dense(4)\n    dense(3)\n    dense(1)\n}}\n",
    "model m{i} {{\n    input [4, 4, {n}]\n    conv2d(8, 5)\n    flatten\n    dense(1)\n}}\n",
    "model m{i} {{\n    input [{n}]\n    dense(4, relu\n}}\n",
    "model m{i} {{\n    input [{n}]\n    dense(4, bogus)\n    dropout(0.5)\n}}\n",
)


def make_specs(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        sub = folder / ("quiet" if i % 7 == 0 else f"group{i % 3}")
        sub.mkdir(exist_ok=True)
        path = sub / f"spec{i:03d}.ns"
        path.write_text(SPECS[i % len(SPECS)].format(i=i, n=2 + i % 5), encoding="utf-8")
        paths.append(path)
    (folder / "quiet" / "pyproject.toml").write_text(
        '[tool.netspec]\nignore = ["NS201"]\n', encoding="utf-8"
    )
    (folder / "group1" / "broken.ns").write_bytes(b"model m { input [2] }\n\xff\n")
    return paths


def test_lint_all_gives_the_same_diagnostics_with_one_and_with_two_workers(tmp_path) -> None:
    paths = make_specs(tmp_path, 40)
    settings = [find_settings(str(tmp_path / "group0" / "x.ns")), find_settings(str(paths[0]))]
    tasks = [(p.read_text(encoding="utf-8"), str(p), i % 2) for i, p in enumerate(paths)]
    serial = lint_all(tasks, settings, workers=1)
    spread = lint_all(tasks, settings, workers=2)
    assert spread == serial
    # Every sort of file had its say: syntax, shapes, rules, each in its own file's place.
    assert {"NS001", "NS101", "NS201"} <= {d.code for found in serial for d in found}
    assert all(d.path == task[1] for task, found in zip(tasks, serial) for d in found)


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "sarif"])
def test_the_command_prints_the_same_report_with_one_and_with_many_workers(
    tmp_path, capsys, monkeypatch, fmt
) -> None:
    make_specs(tmp_path, 3 * MIN_FILES_PER_WORKER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 3)
    assert worker_count(3 * MIN_FILES_PER_WORKER) == 3
    many = main(["lint", "--format", fmt, "."]), *capsys.readouterr()
    monkeypatch.setattr(parallel, "available_cpus", lambda: 1)
    one = main(["lint", "--format", fmt, "."]), *capsys.readouterr()
    assert many == one
    assert one[0] == 1 and "NS001" in one[1] and "NS201" in one[1]


def test_few_files_or_one_core_take_one_process() -> None:
    assert worker_count(MIN_FILES_PER_WORKER - 1, cpus=8) == 1
    assert worker_count(10_000, cpus=1) == 1
    assert worker_count(10 * MIN_FILES_PER_WORKER, cpus=4) == 4


def test_a_pool_that_cannot_start_leaves_the_work_to_this_process(tmp_path, monkeypatch) -> None:
    paths = make_specs(tmp_path, 8)
    settings = [find_settings(str(paths[0]))]
    tasks = [(p.read_text(encoding="utf-8"), str(p), 0) for p in paths]

    def no_processes():
        raise OSError("fork: resource temporarily unavailable")

    monkeypatch.setattr(parallel, "_context", no_processes)
    assert lint_all(tasks, settings, workers=2) == lint_all(tasks, settings, workers=1)
