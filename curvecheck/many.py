"""Many runs at once: expand folders and globs into runs, name them, analyse them in parallel processes.

One unreadable run is reported (a :class:`~curvecheck.report.RunError`, its one-line message) and
the others go on. Results come back in the order the runs were found, whatever the process that
analysed them, so the same logs and options give the same report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .model import Run
from .report import Report, RunError, RunReport

# below this many runs, starting worker processes costs more than it saves
_MIN_RUNS_FOR_PROCESSES = 8


@dataclass(frozen=True)
class LoadSpec:
    """How to read each log (the ``load`` options), picklable for worker processes."""

    format: str | None = None
    segment: int | None = None
    directions: dict[str, str] = field(default_factory=dict)
    x: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    select: list[str] | None = None
    ignore: list[str] | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # check thresholds, as analyze_run takes
    severities: dict[str, str] = field(default_factory=dict)
    live: bool = False  # the recommendation's options (analyze_run)
    monitors: list[str] | None = None
    strategy: str = "auto"
    max_points: int | None = None  # longer curves judged on a sample (curvecheck.reduce; None: its default)


def discover(logs: Iterable[str | Path]) -> list[tuple[Path, str, RunError | None]]:
    """(path, unique name, error) for every run the arguments name, in argument order; ``error`` is
    set for an argument (or a folder below one) that names no readable run."""
    from .readers.discovery import expand, run_names

    entries = expand(list(logs))
    names = iter(run_names([p for p, why in entries if why is None]))
    return [(p, next(names), None) if why is None else (p, str(p), RunError(str(p), f"{p}: {why}"))
            for p, why in entries]


def _load(path: Path, name: str, spec: LoadSpec) -> Run:
    from .readers import load

    run = load(path, spec.format, segment=spec.segment, directions=spec.directions, x=spec.x,
               columns=spec.columns)
    run.name = name
    return run


def load_many(logs: Iterable[str | Path], spec: LoadSpec | None = None) -> tuple[list[Run], list[RunError]]:
    """Every run below the given files, folders and globs, read in this process."""
    spec = spec or LoadSpec()
    runs: list[Run] = []
    errors: list[RunError] = []
    for path, name, problem in discover(logs):
        if problem is not None:
            errors.append(problem)
            continue
        try:
            runs.append(_load(path, name, spec))
        except InputError as exc:
            errors.append(RunError(str(path), str(exc)))
    return runs, errors


def _analyze_one(job: tuple[Path, str, LoadSpec]) -> RunReport | RunError:
    import warnings

    from .api import analyze_run

    path, name, spec = job
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # overflow in absurd logs is reported, not warned
    try:
        return analyze_run(_load(path, name, spec), spec.select, spec.ignore, spec.settings or None,
                           spec.severities or None, live=spec.live, monitors=spec.monitors, strategy=spec.strategy,
                           max_points=spec.max_points)
    except InputError as exc:
        return RunError(str(path), str(exc))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def analyze_many(logs: Iterable[str | Path], spec: LoadSpec | None = None, *, jobs: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Report:
    """Analyse every run the arguments name, ``jobs`` processes at a time (default: all cores).

    ``progress(done, total)`` is called as runs finish (the CLI draws a bar with it).
    """
    spec = spec or LoadSpec()
    found = discover(logs)
    jobs_list = [(path, name, spec) for path, name, problem in found if problem is None]
    workers = min(jobs or default_jobs(), len(jobs_list))
    analysed: list[RunReport | RunError]
    reads_stdin = any(str(path) == "-" for path, _name, _spec in jobs_list)  # stdin belongs to this process
    if workers <= 1 or len(jobs_list) < _MIN_RUNS_FOR_PROCESSES or reads_stdin:
        analysed = []
        for i, job in enumerate(jobs_list):
            analysed.append(_analyze_one(job))
            if progress:
                progress(i + 1, len(jobs_list))
    else:
        analysed = _in_processes(jobs_list, workers, progress)
    done = iter(analysed)
    results = [problem if problem is not None else next(done) for _path, _name, problem in found]
    report = Report(runs=[r for r in results if isinstance(r, RunReport)])
    report.errors = [r for r in results if isinstance(r, RunError)]  # in argument order
    return report


def _in_processes(jobs_list, workers: int, progress) -> list[RunReport | RunError]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # chunks: a few per worker, so one slow run does not leave the other cores idle, and at most 16 runs
    # (~0.1 s of small runs): the last chunks end together, and a chunk costs ~1 ms to send and collect
    chunk = max(1, min(16, len(jobs_list) // (workers * 4)))
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    results: list[RunReport | RunError] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for i, res in enumerate(pool.map(_analyze_one, jobs_list, chunksize=chunk)):
            results.append(res)
            if progress:
                progress(i + 1, len(jobs_list))
    return results
