"""The table that follows the reports of several runs: one line per run, its worst finding."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import SEVERITY_RANK
from ..numbers import fx
from ..report import Report, RunReport


def worst_finding(run: RunReport):
    """The most severe finding of a run (first in report order on ties), or None."""
    return min(run.findings, key=lambda f: SEVERITY_RANK[f.severity], default=None)


def render_summary(report: Report, console: Console | None = None) -> None:
    if console is None:
        width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))
        console = Console(highlight=False, width=width)
    table = Table(title=f"{len(report.runs) + len(report.errors)} runs", title_justify="left")
    table.add_column("run", overflow="fold")  # names are what tells the runs apart: never cut them
    for col in ("format", "length", "findings", "worst finding", "keep", "lr verdict"):
        table.add_column(col)
    for run in report.runs:
        worst = worst_finding(run)
        counts = {s: sum(f.severity == s for f in run.findings) for s in SEVERITY_RANK}
        tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
        table.add_row(Text(run.name or run.source), run.format, f"{run.num_points} {run.x_axis}s", tally,
                      Text(f"{worst.severity} {worst.code} {worst.name}") if worst else Text("–"),
                      _keep(run), _lr(run))
    for err in report.errors:
        table.add_row(Text(err.source), "–", "–", "unreadable", Text(err.message), "–", "–")
    console.print(table)


def _keep(run: RunReport) -> str:
    """The epoch recommend-stop keeps (the log's own numbering), 'none' for a run with nothing to keep."""
    rec = run.recommendation
    if rec is None:
        return "–"
    if rec.epoch is None:
        return "none"
    return f"{run.x_axis} {fx(rec.epoch)}"


def _lr(run: RunReport) -> str:
    verdict = run.lr_verdict
    return verdict.verdict.replace("_", " ") if verdict is not None else "–"
