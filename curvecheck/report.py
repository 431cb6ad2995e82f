"""What ``analyze`` returns: plain dataclasses that serialise to the versioned JSON document.

Schema version 1: ``{"schema_version": 1, "runs": [RunReport...]}``. Later versions may add keys
(findings, recommendation, lr_verdict are reserved on every run) but never remove or rename one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .findings import at_level
from .model import Note, Run, Segment, Series, _num
from .reduce import Reduction
from .signal import best_index

SCHEMA_VERSION = 1

_KIND_ORDER = {k: i for i, k in enumerate(
    ("loss", "iou", "dice", "f1", "accuracy", "precision", "recall", "auc", "map", "other", "lr"))}
_SPLIT_ORDER = {"train": 0, "val": 1, "test": 2}


@dataclass
class SeriesSummary:
    """First, best and last value of one series, with the epochs (log's own numbers) they occur at."""

    name: str
    kind: str
    split: str
    direction: str
    points: int
    first: float | None
    best: float | None
    best_epoch: float | None
    last: float | None
    last_epoch: float | None
    nan_epochs: list[float]
    paired_with: str | None = None
    is_signal: bool = True
    sparkline_values: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "split": self.split, "direction": self.direction,
            "points": self.points, "first": _num(self.first), "best": _num(self.best),
            "best_epoch": _num(self.best_epoch), "last": _num(self.last),
            "last_epoch": _num(self.last_epoch), "nan_epochs": [_num(e) for e in self.nan_epochs],
            "paired_with": self.paired_with,
        }


@dataclass
class RunReport:
    source: str
    format: str
    x_axis: str
    num_points: int
    epoch_base: int
    x_first: float | None
    x_last: float | None
    series: list[SeriesSummary]
    notes: list[Note]
    segments: list[Segment]
    selected_segment: int | None
    findings: list = field(default_factory=list)
    recommendation: Any = None
    lr_verdict: Any = None
    name: str = ""  # unique short label among the runs of one report
    framework: str = "generic"
    # how the log's framework numbers its epochs, when another count could be confused with it
    numbering: str = ""
    # long series judged on a sample of their points (curvecheck.reduce); written only when there are
    reduced: Reduction | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source, "name": self.name or self.source, "framework": self.framework,
            "format": self.format, "x_axis": self.x_axis,
            "num_points": self.num_points, "epoch_base": self.epoch_base, "numbering": self.numbering,
            "x_first": _num(self.x_first), "x_last": _num(self.x_last),
            "series": [s.to_dict() for s in self.series],
            "notes": [n.to_dict() for n in self.notes],
            "segments": [s.to_dict() for s in self.segments],
            "selected_segment": self.selected_segment,
            "findings": [f.to_dict() for f in self.findings],
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "lr_verdict": self.lr_verdict.to_dict() if self.lr_verdict else None,
        }
        if self.reduced is not None:
            out["reduced"] = self.reduced.to_dict()
        return out


@dataclass
class RunError:
    """A log that could not be read: the others in the same report are still analysed."""

    source: str
    message: str  # the one-line error, naming the file and the problem

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "message": self.message}


@dataclass
class Report:
    runs: list[RunReport]
    schema_version: int = SCHEMA_VERSION
    errors: list[RunError] = field(default_factory=list)
    # the loaded runs behind ``runs`` (same order), for plots; not part of the JSON document
    loaded: list[Run] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.schema_version, "runs": [r.to_dict() for r in self.runs],
                "errors": [e.to_dict() for e in self.errors]}

    def exit_code(self, fail_on: str = "error") -> int:
        """The command's exit status, decided here once: 2 when a log could not be read, 1 when a
        finding reaches ``fail_on`` ('error', 'warning', 'info'; 'never' disables), else 0."""
        if self.errors:
            return 2
        return 1 if any(at_level(r.findings, fail_on) for r in self.runs) else 0


def summarise_series(series: Series, partner: Series | None) -> SeriesSummary:
    finite = series.finite
    first_i = int(np.argmax(finite)) if finite.any() else None
    best_i = best_index(series.values, series.direction)
    n = len(series)
    return SeriesSummary(
        name=series.name, kind=series.kind, split=series.split, direction=series.direction, points=n,
        first=float(series.values[first_i]) if first_i is not None else None,
        best=float(series.values[best_i]) if best_i is not None else None,
        best_epoch=float(series.x[best_i]) if best_i is not None else None,
        last=float(series.values[-1]) if n else None,
        last_epoch=float(series.x[-1]) if n else None,
        nan_epochs=series.x[~finite].tolist(),
        paired_with=partner.name if partner is not None else None,
        is_signal=series.is_signal,
        sparkline_values=series.values.tolist(),
    )


def _order_key(s: Series) -> tuple:
    return (_KIND_ORDER.get(s.kind, 50), s.info.base, _SPLIT_ORDER.get(s.split, 9), s.name)


def summarise_run(run: Run) -> RunReport:
    from .advice import callback_framework, epoch_numbering

    ordered = sorted(run.series.values(), key=_order_key)
    # the span of the log's own epochs or steps: step-level series (Lightning's train_loss_step, at
    # fractional epochs) are not what num_points counts either
    xs = [s.x for s in run.series.values() if len(s) and not s.step_level] or \
        [s.x for s in run.series.values() if len(s)]
    allx = np.concatenate(xs) if xs else np.array([])
    return RunReport(
        source=run.source, name=run.name or run.source, framework=run.framework, format=run.format,
        x_axis=run.x_axis, num_points=run.num_points,
        epoch_base=run.epoch_base,
        x_first=float(allx.min()) if allx.size else None, x_last=float(allx.max()) if allx.size else None,
        series=[summarise_series(s, run.partner(s.name)) for s in ordered],
        notes=list(run.notes), segments=list(run.segments), selected_segment=run.selected_segment,
        numbering=epoch_numbering(callback_framework(run), run.x_axis, run.epoch_base),
    )
