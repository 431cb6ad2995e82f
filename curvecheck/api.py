"""The public surface: load logs, analyse them. The CLI is a thin layer over these functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from .model import Run
from .readers import FORMATS, load
from .report import Report, RunReport, summarise_run

__all__ = ["FORMATS", "load", "load_many", "analyze", "analyze_run", "recommend_stop", "compare"]


def recommend_stop(log: str | Path | Run, monitors: list[str] | None = None, **kwargs):
    """Which epoch to keep and when to stop; see :func:`curvecheck.recommend.recommend_stop`."""
    from .recommend import recommend_stop as _recommend

    run = log if isinstance(log, Run) else load(log)
    return _recommend(run, monitors, **kwargs)


def compare(logs: Iterable[str | Path | Run], labels: list[str | None] | None = None, metric: str | None = None):
    """Rank the runs of a learning-rate sweep; see :func:`curvecheck.lr.compare_runs`."""
    from .checks import run_checks
    from .lr import compare_runs

    runs: list[Run] = []
    for log in logs:  # a folder or glob stands for every run below it
        runs.extend([log] if isinstance(log, Run) else load_many(log, on_error="raise")[0])
    return compare_runs(runs, [run_checks(r)[0] for r in runs], labels, metric)


def analyze_run(run: Run, select: list[str] | None = None, ignore: list[str] | None = None,
                settings: Mapping[str, Mapping[str, Any]] | None = None,
                severities: Mapping[str, str] | None = None) -> RunReport:
    """Summarise one loaded run and run the diagnostics on it.

    ``select``/``ignore`` take check codes (``CC201``), code prefixes (``CC2``) or names
    (``overfitting``); by default every check runs. ``settings`` sets checks' thresholds
    (``{"plateau": {"min_epochs": 10}}``, by name or code); ``severities`` overrides a check's
    severity (``{"CC203": "info"}``).
    """
    from .checks import run_checks, select_checks, too_short_note
    from .errors import UsageError
    from .lr import lr_verdict
    from .recommend import recommend_stop

    report = summarise_run(run)
    chosen = select_checks(select, ignore)
    # every check runs once: the LR verdict needs all findings, the report shows the chosen ones
    findings, notes = run_checks(run, settings=settings, severities=severities)
    report.notes.extend(n for n in notes if n.kind != "too_short")  # too_short is told for the chosen checks
    codes = {c.code for c in chosen}
    report.findings = [f for f in findings if f.code in codes]
    note = too_short_note(run, chosen)
    if note:
        report.notes.append(note)
    try:
        report.recommendation = recommend_stop(run)
    except UsageError:
        report.recommendation = None  # nothing to monitor (e.g. metrics without a direction)
    report.lr_verdict = lr_verdict(run, findings)
    return report


def load_many(logs: Iterable[str | Path] | str | Path, format: str | None = None, *, segment: int | None = None,
              directions: dict[str, str] | None = None, x: str | None = None,
              columns: dict[str, str] | None = None, on_error: str = "collect"):
    """Every run below the given files, folders ('logdir/') and globs ('runs/*/metrics.csv').

    Returns ``(runs, errors)``: runs carry unique ``name``s (parent folders are added where file
    names repeat); ``errors`` lists the logs that could not be read (``on_error="raise"`` raises the
    first instead).
    """
    from .errors import InputError
    from .many import LoadSpec
    from .many import load_many as _load_many

    if isinstance(logs, (str, Path)):
        logs = [logs]
    spec = LoadSpec(format, segment, dict(directions or {}), x, dict(columns or {}))
    runs, errors = _load_many(logs, spec)
    if errors and on_error == "raise":
        raise InputError(None, errors[0].message)
    return runs, errors


def analyze(logs: Iterable[str | Path | Run] | str | Path | Run, *, format: str | None = None,
            segment: int | None = None, directions: dict[str, str] | None = None,
            select: list[str] | None = None, ignore: list[str] | None = None,
            settings: Mapping[str, Mapping[str, Any]] | None = None,
            severities: Mapping[str, str] | None = None, x: str | None = None,
            columns: dict[str, str] | None = None, jobs: int | None = 1, on_error: str = "raise",
            progress=None) -> Report:
    """Load (if needed) and analyse logs; returns a :class:`~curvecheck.report.Report`, one run report per run.

    Folders and globs yield every run below them. ``jobs`` processes analyse runs in parallel (None:
    all cores). A log that cannot be read raises its :class:`~curvecheck.errors.InputError`, or with
    ``on_error="collect"`` is listed in ``report.errors`` while the others are analysed.
    """
    from .errors import InputError
    from .many import LoadSpec, analyze_many

    if isinstance(logs, (str, Path, Run)):
        logs = [logs]
    items = list(logs)
    spec = LoadSpec(format, segment, dict(directions or {}), x, dict(columns or {}), select, ignore,
                    {k: dict(v) for k, v in (settings or {}).items()}, dict(severities or {}))
    paths = [item for item in items if not isinstance(item, Run)]
    report = analyze_many(paths, spec, jobs=jobs, progress=progress) if paths else Report(runs=[])
    report.runs = [analyze_run(r, select, ignore, settings, severities)
                   for r in items if isinstance(r, Run)] + report.runs
    if report.errors and on_error == "raise":
        raise InputError(None, report.errors[0].message)
    return report
