"""Linting many files in one run: the files spread over a pool of processes (as ruff spreads them
over threads), the diagnostics returned in the order of the files, as one process gives them."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from netspec.api import lint_source
from netspec.config.settings import Settings
from netspec.diagnostics import Diagnostic

# A worker costs a process start (a fork: a few milliseconds; a spawn: an import of netspec, a
# tenth of a second) and a file of a few layers about a millisecond: a pool pays off from tens
# of files per worker.
MIN_FILES_PER_WORKER = 32
# Each worker takes its files in a few batches, so that one slow file does not hold the others.
BATCHES_PER_WORKER = 4


# One file to lint: its text, the path shown, and which of the run's settings apply (an index
# into the settings given to `lint_all`, so that each is sent to a worker once).
LintTask = tuple[str, str, int]


def available_cpus() -> int:
    """The cores this process may run on (its affinity where the platform tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(len(affinity(0)), 1)
    return os.cpu_count() or 1


def worker_count(files: int, cpus: int | None = None) -> int:
    """How many processes to lint `files` files with: one when there are few."""
    cpus = available_cpus() if cpus is None else cpus
    return max(1, min(cpus, files // MIN_FILES_PER_WORKER))


def lint_all(
    tasks: Sequence[LintTask], settings: Sequence[Settings], workers: int | None = None
) -> list[list[Diagnostic]]:
    """Each task's diagnostics, in the order of `tasks`, whatever the number of workers (by
    default as many as pay off for this many files on this machine)."""
    if workers is None:
        workers = worker_count(len(tasks))
    if workers <= 1 or len(tasks) < 2:
        return [_lint(task, settings) for task in tasks]
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    batch = max(1, len(tasks) // (workers * BATCHES_PER_WORKER))
    # What the parent has built (modules, the parser) is shared with forked workers; frozen, the
    # collector leaves it alone and the pages are not copied when a collection would touch them.
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_context(),
            initializer=_remember,
            initargs=(tuple(settings),),
        ) as pool:
            return list(pool.map(_lint_in_worker, tasks, chunksize=batch))
    except (OSError, BrokenProcessPool):
        # No processes to be had (a limit on them, a sandbox) or a worker lost: one process
        # gives the same report, only later.
        return [_lint(task, settings) for task in tasks]
    finally:
        gc.unfreeze()


def _context():
    """Fork where it is safe and cheap (Linux: the workers start with netspec imported and the
    parser built); elsewhere the platform's default (spawn on macOS and Windows)."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _lint(task: LintTask, settings: Sequence[Settings]) -> list[Diagnostic]:
    text, path, index = task
    return lint_source(text, path, settings=settings[index])


_worker_settings: tuple[Settings, ...] = ()


def _remember(settings: tuple[Settings, ...]) -> None:
    global _worker_settings
    _worker_settings = settings


def _lint_in_worker(task: LintTask) -> list[Diagnostic]:
    return _lint(task, _worker_settings)
