"""The public surface: load logs, analyse them, recommend where to stop, compare, plot.

The CLI is a thin layer over these functions: it parses options (and the config file), calls them,
and hands the result to a renderer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Iterable, Mapping, ParamSpec, Sequence

from .errors import InputError, UsageError
from .model import Run
from .readers import FORMATS, load
from .report import Report, RunReport, summarise_run

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .lr import SweepReport
    from .recommend import Recommendation

__all__ = ["FORMATS", "analyze", "analyze_run", "compare", "load", "load_many", "plot", "recommend_stop"]

Settings = Mapping[str, Any]  # check (code or name) -> {setting: value} or a resolved Check.Settings


def _as_runs(logs: Iterable[str | Path | Run] | str | Path | Run) -> list[str | Path | Run]:
    return [logs] if isinstance(logs, (str, Path, Run)) else list(logs)


def recommend_stop(log: str | Path | Run, monitors: list[str] | None = None, *, fail_on: str = "never",
                   settings: Settings | None = None, severities: Mapping[str, str] | None = None,
                   format: str | None = None, segment: int | None = None,
                   directions: dict[str, str] | None = None, **kwargs: Any) -> Recommendation:
    """Which epoch to keep and when to stop; see :func:`curvecheck.recommend.recommend_stop`.

    With ``fail_on`` ('error', 'warning', 'info'), the checks run once (with ``settings`` and
    ``severities``) and the findings at that level are kept in ``failing_findings``, so that
    :meth:`Recommendation.exit_code` can decide the exit status.
    """
    from .checks import run_checks
    from .findings import at_level
    from .recommend import recommend_stop as _recommend

    run = log if isinstance(log, Run) else load(log, format, segment=segment, directions=directions)
    rec = _recommend(run, monitors, **kwargs)
    if fail_on != "never":
        findings, _notes = run_checks(run, settings=settings, severities=severities)
        rec.failing_findings = at_level(findings, fail_on)
    return rec


def compare(logs: Iterable[str | Path | Run], labels: Sequence[str | None] | None = None, metric: str | None = None,
            *, settings: Settings | None = None, severities: Mapping[str, str] | None = None) -> SweepReport:
    """Rank the runs of a learning-rate sweep; see :func:`curvecheck.lr.compare_runs`."""
    from .checks import run_checks
    from .lr import compare_runs

    runs: list[Run] = []
    for log in logs:  # a folder or glob stands for every run below it
        runs.extend([log] if isinstance(log, Run) else load_many(log, on_error="raise")[0])
    return compare_runs(runs, [run_checks(r, settings=settings, severities=severities)[0] for r in runs],
                        list(labels) if labels is not None else None, metric)


P = ParamSpec("P")


def _one_context(analyse: Callable[Concatenate[Run, P], RunReport]) -> Callable[Concatenate[Run, P], RunReport]:
    """Run ``analyse(run, ...)`` in :func:`curvecheck.checks.base.shared_context`: the checks, the
    recommendation and the LR verdict of one analysis share the run's curves and findings."""
    @functools.wraps(analyse)
    def wrapper(run: Run, *args: P.args, **kwargs: P.kwargs) -> RunReport:
        from .checks.base import shared_context

        with shared_context(run):
            return analyse(run, *args, **kwargs)
    return wrapper


@_one_context
def analyze_run(run: Run, select: list[str] | None = None, ignore: list[str] | None = None,
                settings: Settings | None = None, severities: Mapping[str, str] | None = None, *,
                live: bool = False, monitors: list[str] | None = None, strategy: str = "auto",
                max_points: int | None = None) -> RunReport:
    """Summarise one loaded run and run the diagnostics on it.

    ``select``/``ignore`` take check codes (``CC201``), code prefixes (``CC2``) or names
    (``overfitting``); by default every check runs. ``settings`` sets checks' thresholds
    (``{"plateau": {"min_epochs": 10}}``, by name or code); ``severities`` overrides a check's
    severity (``{"CC203": "info"}``). ``live``, ``monitors`` and ``strategy`` shape the
    recommendation (see :func:`recommend_stop`). A curve with more than ``max_points`` finite points
    is judged on a sample of them (:mod:`curvecheck.reduce`; None: its default, 0: never); the report
    says so (``report.reduced``, a note). The summary and the recommendation always read every point.
    """
    from .checks import RunContext, run_checks, select_checks, too_short_note
    from .lr import lr_verdict
    from .recommend import recommend_stop as _recommend

    report = summarise_run(run)
    chosen = select_checks(select, ignore)
    # every check runs once: the LR verdict needs all findings, the report shows the chosen ones
    findings, notes = run_checks(run, settings=settings, severities=severities, max_points=max_points)
    report.reduced = RunContext(run, max_points).reduction()
    report.notes.extend(n for n in notes if n.kind != "too_short")  # too_short is told for the chosen checks
    codes = {c.code for c in chosen}
    report.findings = [f for f in findings if f.code in codes]
    note = too_short_note(run, chosen)
    if note:
        report.notes.append(note)
    try:
        report.recommendation = _recommend(run, monitors, strategy=strategy, live=live)
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
            settings: Settings | None = None, severities: Mapping[str, str] | None = None,
            x: str | None = None, columns: dict[str, str] | None = None, jobs: int | None = 1,
            on_error: str = "raise", progress=None, live: bool = False, monitors: list[str] | None = None,
            strategy: str = "auto", max_points: int | None = None) -> Report:
    """Load (if needed) and analyse logs; returns a :class:`~curvecheck.report.Report`, one run report per run.

    Folders and globs yield every run below them. ``jobs`` processes analyse runs in parallel (None:
    all cores). A log that cannot be read raises its :class:`~curvecheck.errors.InputError`, or with
    ``on_error="collect"`` is listed in ``report.errors`` while the others are analysed. Options are
    checked before any log is read, so a bad option raises in both modes. ``live``, ``monitors`` and
    ``strategy`` shape each run's recommendation (see :func:`recommend_stop`). Runs passed as
    :class:`~curvecheck.model.Run` are analysed in this process and kept in ``report.loaded``.
    Curves longer than ``max_points`` are judged on a sample of their points (see :func:`analyze_run`).
    """
    from .checks import resolve_settings, resolve_severities, select_checks
    from .many import LoadSpec, analyze_many

    if on_error not in ("raise", "collect"):
        raise UsageError(f"on_error must be 'raise' or 'collect', got {on_error!r}")
    select_checks(select, ignore)
    resolve_settings(settings)  # bad names or types fail here, before any log is read
    resolve_severities(severities)
    items = _as_runs(logs)
    spec = LoadSpec(format, segment, dict(directions or {}), x, dict(columns or {}), select, ignore,
                    {k: dict(v) for k, v in (settings or {}).items()}, dict(severities or {}),
                    live, list(monitors) if monitors else None, strategy, max_points)
    paths = [item for item in items if not isinstance(item, Run)]
    report = analyze_many(paths, spec, jobs=jobs, progress=progress) if paths else Report(runs=[])
    loaded = [r for r in items if isinstance(r, Run)]
    report.runs = [analyze_run(r, select, ignore, settings, severities, live=live, monitors=monitors,
                               strategy=strategy, max_points=max_points) for r in loaded] + report.runs
    report.loaded = loaded
    if report.errors and on_error == "raise":
        raise InputError(None, report.errors[0].message)
    return report


def plot(logs: Iterable[str | Path | Run] | str | Path | Run, output: str | Path | None = None, *,
         report: Report | None = None, metrics: list[str] | None = None, smooth: float = 0.6, log_y: bool = False,
         grid: bool = False, size: tuple[float, float] | None = None, dpi: int = 120,
         **analyze_options: Any) -> Figure:
    """The annotated figure of one run, or several runs overlaid (``grid=True``: side by side).

    Marks come from the analysis: pass ``report`` from :func:`analyze` of loaded runs (it keeps them
    in ``report.loaded``) to reuse it, else the logs are loaded and analysed with ``analyze_options``.
    Returns a :class:`matplotlib.figure.Figure`; with ``output`` (.png, .svg, .pdf) it is also written
    there. matplotlib's global state (backend, rcParams) is never touched, so this is safe in a notebook.
    """
    from .render.plot import build_figure, save_figure

    if report is None or len(report.loaded) != len(report.runs):
        load_options = {k: analyze_options.pop(k) for k in ("format", "segment", "directions", "x", "columns")
                        if k in analyze_options}
        runs: list[Run] = []
        for log in _as_runs(logs):
            runs.extend([log] if isinstance(log, Run) else load_many(log, on_error="raise", **load_options)[0])
        report = analyze(runs, directions=load_options.get("directions"), **analyze_options)
    fig = build_figure(report.loaded, report.runs, metrics=metrics, smooth=smooth, log_y=log_y, grid=grid,
                       size=size, sweep=_sweep_of(report.loaded, report.runs))
    if output is not None:
        save_figure(fig, Path(output), dpi=dpi)
    return fig


def _sweep_of(runs: list[Run], reports: list[RunReport]) -> SweepReport | None:
    """The sweep ranking of several analysed runs (as `compare` ranks them), None for one run or no ranking."""
    from .errors import UsageError
    from .lr import compare_runs

    if len(runs) < 2:
        return None
    try:
        return compare_runs(runs, [r.findings for r in reports])
    except UsageError:
        return None
