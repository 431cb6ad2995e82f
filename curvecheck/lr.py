"""Learning-rate verdicts: for one run (too high / too low / ok / unknown) and across an LR sweep.

Epoch logs are not an LR range test, so the verdict comes from symptoms (REFERENCE.md): divergence,
NaN, spikes, a noisy or frozen training loss (too high); slow, steady progress with no sign of
slowing (too low); and the response to LR drops. Each verdict lists the evidence it rests on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .findings import Finding, evidence_dict, json_safe
from .model import Run
from .signal import best_index, noise_level, tensorboard_smooth
from .vocab import LR_VERDICTS as VERDICTS  # noqa: F401  (re-exported)

_LR_IN_NAME = re.compile(r"(?:^|[^a-z])(?:lr|learning[_-]?rate)[_=-]?((?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)", re.I)


@dataclass
class LRVerdict:
    verdict: str
    lr: float | None
    lr_source: str | None
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"verdict": self.verdict, "lr": self.lr, "lr_source": self.lr_source,
                          "evidence": self.evidence})


def lr_of_run(run: Run, label: str | None = None) -> tuple[float | None, str | None]:
    """The run's (initial) learning rate: from a label, the lr column, or the file name."""
    if label is not None:
        return float(label), "label"
    lr = run.lr_series()
    if lr is not None and lr.finite.any():
        return float(lr.values[lr.finite][0]), f"{lr.name} column (first value)"
    m = _LR_IN_NAME.search(Path(run.source).name) or _LR_IN_NAME.search(str(run.source))
    if m:
        try:
            return float(m.group(1)), "file name"
        except ValueError:
            pass
    return None, None


def _training_loss(run: Run):
    """The first training loss with enough finite epochs to judge its shape."""
    return next((s for s in run.signals() if s.kind == "loss" and s.split == "train" and s.finite.sum() >= 8), None)


def _frozen_early(run: Run) -> str | None:
    """The training loss stops moving right after its first big drop: units died, the model predicts the prior."""
    loss = _training_loss(run)
    if loss is None:
        return None
    v = loss.values[loss.finite]
    n = v.shape[0]
    head = max(2, n // 5)
    late = v[head:]
    drop = v[0] - v[head]
    spread = float(np.ptp(late))
    if drop > 0 and spread < 0.01 * drop and late.mean() > 0.1 * v[0]:
        return (f"{loss.name} dropped from {v[0]:.4g} to {v[head]:.4g} in the first {head} epochs and then froze "
                f"(range {spread:.2g} over the remaining {late.shape[0]}): the network stopped learning, typical "
                f"of a learning rate so high that units died and it predicts the prior")
    return None


def _noisy_training(run: Run) -> str | None:
    loss = _training_loss(run)
    if loss is None:
        return None
    v = loss.values[loss.finite]
    sm = tensorboard_smooth(v, 0.6)
    span = float(np.nanmax(sm) - np.nanmin(sm))
    sigma = noise_level(v)
    d = np.diff(v)
    flips = float(np.mean(np.sign(d[1:]) != np.sign(d[:-1]))) if d.shape[0] > 2 else 0.0
    if span > 0 and sigma / span > 0.15 and flips > 0.5:
        return (f"the training loss itself zigzags (noise {sigma:.3g} = {sigma / span:.0%} of its range, direction "
                f"changes at {flips:.0%} of epochs): steps too large for a smooth descent")
    return None


def lr_verdict(run: Run, findings: list[Finding], label: str | None = None) -> LRVerdict:
    """A verdict on the learning rate of one run, from its findings and curves."""
    lr, source = lr_of_run(run, label)
    high, low, ok = [], [], []
    by_code: dict[str, list[Finding]] = {}
    for f in findings:
        by_code.setdefault(f.code, []).append(f)
    for f in by_code.get("CC102", []):
        high.append(f"divergence: {f.message}")
    for f in by_code.get("CC101", []):
        if f.severity == "error":
            high.append(f"non-finite loss: {f.message}")
    spikes = [f for f in by_code.get("CC103", []) if any("val" not in s for s in f.series)]
    if spikes and sum(len(evidence_dict(f.evidence).get("spike_epochs", [])) for f in spikes) >= 2:
        high.append(f"training-loss spikes: {spikes[0].message}")
    for text in (_frozen_early(run), _noisy_training(run)):
        if text:
            high.append(text)
    for f in by_code.get("CC203", []):
        ratios = [v.get("val_over_train_noise") for v in evidence_dict(f.evidence).get("series", {}).values()]
        # validation much noisier than training points at the validation set, not at the LR
        if high and all(r is None or r < 2 for r in ratios):
            high.append(f"validation oscillates as well: {f.message.split('.')[0]}")
    for f in by_code.get("CC206", []):
        if "No sign of slowing" in f.message or f.severity == "warning":
            low.append(f"still improving steadily at the end: {f.message}")
    for f in by_code.get("CC301", []):
        drops = evidence_dict(f.evidence).get("drops") or []
        helped = [d for d in drops if d.get("helped")]
        if helped:
            ok.append(f"LR drops helped at epoch(s) {', '.join(str(int(d['epoch'])) for d in helped)}: the initial LR "
                      f"was at the high end of what works")
    if by_code.get("CC201"):
        ok.append("the model trained far enough to overfit: the LR was high enough to make progress")
    if run.num_points < 5:
        return LRVerdict("unknown", lr, source, ["too short to judge"])
    if high:
        return LRVerdict("too_high", lr, source, high + low)
    if low:
        return LRVerdict("too_low", lr, source, low)
    if not any(s.kind == "loss" for s in run.signals()):
        return LRVerdict("unknown", lr, source, ["no loss curve"])
    return LRVerdict("ok", lr, source, ok or ["no sign of a too-high (divergence, spikes, zigzag, collapse) or "
                                              "too-low (slow steady progress at the end) learning rate"])


# --- sweeps -------------------------------------------------------------------------------------

@dataclass
class SweepEntry:
    source: str
    lr: float | None
    lr_source: str | None
    metric: str
    best: float | None
    best_epoch: float | None
    verdict: str
    evidence: list[str]
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return json_safe(self.__dict__)


@dataclass
class SweepReport:
    entries: list[SweepEntry]
    metric: str
    direction: str
    best_source: str | None
    best_lr: float | None
    bracketed: bool | None
    summary: list[str]

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"schema_version": 1, "metric": self.metric, "direction": self.direction,
                          "best_source": self.best_source, "best_lr": self.best_lr, "bracketed": self.bracketed,
                          "summary": self.summary, "runs": [e.to_dict() for e in self.entries]})


def _sweep_metric(runs: list[Run], metric: str | None) -> tuple[str, str]:
    if metric:
        s = runs[0].series.get(metric)
        if s is None:
            from .errors import UsageError

            raise UsageError(f"--metric {metric}: not in {runs[0].source}")
        return metric, s.direction
    # the first validation metric all runs share, else the validation loss
    common = set.intersection(*[set(r.series) for r in runs])
    first = runs[0]
    for kind in ("iou", "dice", "f1", "map", "accuracy", "auc"):
        for s in first.signals():
            if s.kind == kind and s.split == "val" and s.name in common:
                return s.name, s.direction
    for s in first.signals():
        if s.kind == "loss" and s.split == "val" and s.name in common:
            return s.name, "min"
    for s in first.signals():
        if s.kind == "loss" and s.name in common:
            return s.name, "min"
    from .errors import UsageError

    raise UsageError("the runs share no validation metric or loss to compare")


def compare_runs(runs: list[Run], findings: list[list[Finding]], labels: list[str | None] | None = None,
                 metric: str | None = None, smooth: float = 0.6) -> SweepReport:
    """Rank runs of a sweep by their best smoothed validation metric and judge each run's LR."""
    labels = labels or [None] * len(runs)
    name, direction = _sweep_metric(runs, metric)
    entries = []
    for run, fs, label in zip(runs, findings, labels):
        verdict = lr_verdict(run, fs, label)
        s = run.series.get(name)
        best = best_epoch = None
        if s is not None and s.finite.any():
            sm = tensorboard_smooth(s.values, smooth)
            i = best_index(s.values, "max" if direction == "max" else "min", smooth)
            if i is not None:
                best, best_epoch = float(sm[i]), float(s.x[i])
        entries.append(SweepEntry(run.source, verdict.lr, verdict.lr_source, name, best, best_epoch,
                                  verdict.verdict, verdict.evidence))
    ranked = sorted([e for e in entries if e.best is not None and math.isfinite(e.best)],
                    key=lambda e: -(e.best or 0.0) if direction == "max" else (e.best or 0.0))
    for i, e in enumerate(ranked, 1):
        e.rank = i
    summary, bracketed = [], None
    top = ranked[0] if ranked else None
    if top is not None:
        summary.append(f"best: {Path(top.source).name} (lr {top.lr:g}) with smoothed {name} {top.best:.4g} at "
                       f"epoch {top.best_epoch:g}" if top.lr is not None else
                       f"best: {Path(top.source).name} with smoothed {name} {top.best:.4g}")
        lrs = [e.lr for e in entries if e.lr is not None]
        if top.lr is not None and len(lrs) >= 3:
            if top.lr >= max(lrs):
                bracketed = False
                summary.append(f"the best LR {top.lr:g} is the largest tried: try larger ones "
                               f"(e.g. {top.lr * 3:g}, {top.lr * 10:g}) to bracket it")
            elif top.lr <= min(lrs):
                bracketed = False
                summary.append(f"the best LR {top.lr:g} is the smallest tried: try smaller ones "
                               f"(e.g. {top.lr / 3:g}, {top.lr / 10:g}) to bracket it")
            else:
                bracketed = True
                summary.append(f"the best LR {top.lr:g} is bracketed by smaller and larger LRs that did worse")
    for e in entries:
        tag = f"lr {e.lr:g}" if e.lr is not None else Path(e.source).name
        if e.verdict == "too_high":
            summary.append(f"{tag}: too high ({e.evidence[0].split(':')[0]})")
        elif e.verdict == "too_low":
            summary.append(f"{tag}: too low (still improving steadily when it ended)")
    return SweepReport(entries, name, direction, top.source if top else None, top.lr if top else None,
                       bracketed, summary)
