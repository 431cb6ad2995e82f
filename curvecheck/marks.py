"""What the plot draws, computed from the analysis: the plot turns these into shapes and computes
nothing itself. Built from findings' epochs and evidence fields (never their message text), the
report's per-series best epochs and the recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .findings import evidence_dict
from .report import RunReport


@dataclass
class Span:
    """An interval on the x axis, about some series (empty: every panel)."""

    start: float
    end: float
    series: list[str] = field(default_factory=list)
    severity: str = "warning"


@dataclass
class Marks:
    keep: float | None = None  # the recommended epoch
    best: dict[str, float] = field(default_factory=dict)  # series -> best epoch (raw, as in the report table)
    overfitting: list[Span] = field(default_factory=list)  # series = [train, val]
    plateaus: list[Span] = field(default_factory=list)  # one per stalled series
    spikes: dict[str, list[float]] = field(default_factory=dict)  # series -> spike epochs
    lr_drops: list[float] = field(default_factory=list)
    nan: dict[str, list[float]] = field(default_factory=dict)  # series -> non-finite epochs
    restart: float | None = None  # where a resumed run's last segment starts


def build_marks(report: RunReport) -> Marks:
    marks = Marks(keep=report.recommendation.epoch if report.recommendation is not None else None)
    # a run that never learned has no epoch worth a star (its "best" is noise around a frozen level)
    learned = report.recommendation is None or report.recommendation.usable
    for s in report.series:
        if s.best_epoch is not None and learned:
            marks.best[s.name] = s.best_epoch
        if s.nan_epochs:
            marks.nan[s.name] = list(s.nan_epochs)
    for f in report.findings:
        ev = evidence_dict(f.evidence)
        span = (f.epochs.get("start"), f.epochs.get("end"))
        if f.kind == "overfitting" and span[0] is not None:
            marks.overfitting.append(Span(span[0], span[1], list(f.series), f.severity))
        elif f.kind == "plateau" and span[0] is not None:
            since = ev.get("stalled_since") or {}
            for name in f.series:
                marks.plateaus.append(Span(since.get(name, span[0]), span[1], [name], f.severity))
        elif f.kind == "spike":
            for name in f.series:
                marks.spikes.setdefault(name, []).extend(ev.get("spike_epochs", []))
        elif f.kind == "lr_schedule":
            marks.lr_drops += [d["epoch"] for d in ev.get("drops", [])]
    if len(report.segments) >= 2 and report.selected_segment is None:
        last = report.segments[-1]
        if last.x_start > report.segments[0].x_start:  # a resume: the joined view has a seam
            marks.restart = last.x_start
    return marks
