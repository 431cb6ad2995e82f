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

from .checks.base import slope_t
from .checks.never_learned import COLLAPSE_SIGNALS, CRAWL_FALLING_SHARE, CRAWL_SATURATED_VS_PRIOR, crawling_loss
from .findings import SEVERITY_RANK, Finding, evidence_dict, json_safe
from .model import Run, Series
from .schedule import describe_schedule
from .numbers import fmt, fx
from .signal import best_index, median, noise_level, per_evaluation, rolling_median, tensorboard_smooth
from .vocab import LR_VERDICTS as VERDICTS  # noqa: F401  (re-exported)

_LR_IN_NAME = re.compile(r"(?:^|[^a-z])(?:lr|learning[_-]?rate)[_=-]?((?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)",
                         re.IGNORECASE)


@dataclass
class LRVerdict:
    verdict: str
    lr: float | None
    lr_source: str | None
    evidence: list[str] = field(default_factory=list)
    signals: list[LRSignal] = field(default_factory=list)
    # the LR in effect at the event a too_high verdict rests on (the first NaN loss, the start of a
    # divergence or of a frozen loss), when the log has an LR column and it differs from ``lr``
    event_lr: float | None = None
    event: str | None = None  # where: "at epoch 12, the first NaN loss"

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"verdict": self.verdict, "lr": self.lr, "lr_source": self.lr_source,
                          "evidence": self.evidence, "signals": [s.to_dict() for s in self.signals],
                          "event_lr": self.event_lr, "event": self.event})


def lr_of_run(run: Run, label: str | None = None) -> tuple[float | None, str | None]:
    """The run's learning rate as a sweep sets it: from a label, the lr column(s), or the file name.

    From a column it is the first value, or the peak when the LR warms up to it (the first value of
    a warm-up is a fraction of the LR the user chose). With several LR columns (one per parameter
    group: Ultralytics' bias group warms *down* from 0.1) it is the median of the columns' values.
    """
    if label is not None:
        return float(label), "label"
    columns = [s for s in run.series.values() if s.kind == "lr" and s.finite.any()]
    columns = [s for s in columns if not s.step_level] or columns  # Lightning's lr-Adam_step repeats lr-Adam
    if columns:
        picked = [_set_lr(s) for s in columns]
        value = sorted(v for v, _ in picked)[(len(picked) - 1) // 2]  # the (lower) median: one column's own value
        if len(columns) == 1:
            return value, f"{columns[0].name} column ({picked[0][1]})"
        return value, f"median of {len(columns)} LR columns ({', '.join(s.name for s in columns)})"
    m = _LR_IN_NAME.search(Path(run.source).name) or _LR_IN_NAME.search(str(run.source))
    if m:
        try:
            return float(m.group(1)), "file name"
        except ValueError:
            pass
    return None, None


def _set_lr(lr: Series) -> tuple[float, str]:
    """(value, how it was read) of one LR column: its peak after a warm-up, else its first value."""
    schedule = describe_schedule(lr)
    v = lr.values[lr.finite]
    # a warm-up reaches its peak and then holds or decays; a ramp that peaks at the end is an LR
    # range test (or a divergence run): its first value is the one set
    if schedule.warm_up and int(np.argmax(v)) < v.shape[0] - 1:
        return float(v.max()), "peak after warm-up"
    return float(v[0]), "first value"


@dataclass
class LRSignal:
    """One structured reason behind a verdict: what was seen (``name``), which way it points
    (``points_to``: too_high, too_low or ok), the numbers, and a sentence for the user."""

    name: str
    points_to: str
    text: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"name": self.name, "points_to": self.points_to, "text": self.text,
                          "numbers": self.numbers})


@dataclass(frozen=True)
class LRThresholds:
    """How the curve-shape signals are judged (documented here, shared by analyze and compare)."""

    k_sigma: float = 3.0  # changes within this many noise sigmas are no change
    rel_level: float = 0.005  # ... nor within this share of the loss level
    zigzag_flips: float = 0.5  # share of epochs where the direction of the training loss changes
    zigzag_vs_trend: float = 0.5  # detrended swings as a share of how far the trend moves
    zigzag_vs_level: float = 0.1  # ... and as a share of the loss level
    jump_ratio: float = 2.0  # a training loss at this many times its running best is unstable
    jump_vs_scale: float = 0.2  # ... when the jump is at least this share of the run's improvement
    zigzag_min_progress_left: float = 0.1  # a zigzag counts while the loss is above this share of its start
    slow_start_share: float = 0.35  # less than this share of the improvement in the first quarter is slow
    fast_start_share: float = 0.5  # at least this share in the first quarter is fast early progress
    still_improving_share: float = 0.1  # the last quarter still brings this share of the improvement
    max_epoch_points: int = 200  # longer per-step training curves are averaged into epoch-like bins
    sweep_lr_ratio: float = 2.0  # in a sweep, LRs closer than this factor are the same setting
    explosion_ratio: float = 100.0  # a first epoch this many times the next ones blew the network up
    crawl_falling_share: float = CRAWL_FALLING_SHARE  # a loss lower than the epoch before this often still moves
    saturated_vs_prior: float = CRAWL_SATURATED_VS_PRIOR  # ... unless at this many times the prior's cross-entropy


THRESHOLDS = LRThresholds()


@dataclass
class TrainingCurve:
    """The training loss as the LR verdict sees it: finite points, averaged into bins when it was
    logged per optimizer step (minibatch noise is not an epoch spike)."""

    name: str
    values: np.ndarray
    binned_from: int | None = None  # the number of logged points when the curve was binned

    @property
    def n(self) -> int:
        return int(self.values.shape[0])


def training_curve(run: Run, t: LRThresholds = THRESHOLDS) -> TrainingCurve | None:
    """The first training loss with at least 5 finite points (binned when logged per step)."""
    loss = next((s for s in run.signals() if s.kind == "loss" and s.split == "train" and s.finite.sum() >= 5), None)
    if loss is None:
        return None
    x, v = loss.x[loss.finite], loss.values[loss.finite]
    val = next((s for s in run.signals() if s.kind == "loss" and s.split == "val" and s.finite.sum() >= 5), None)
    binned = per_evaluation(x, v, val.x[val.finite] if val is not None else None, t.max_epoch_points)
    if binned is not None:
        return TrainingCurve(loss.name, binned[1], v.shape[0])
    return TrainingCurve(loss.name, v)


def _tolerance(v: np.ndarray, t: LRThresholds) -> float:
    sigma = noise_level(v)
    return max(t.k_sigma * (sigma if np.isfinite(sigma) else 0.0), t.rel_level * abs(float(median(v))))


def _progress_shares(v: np.ndarray) -> tuple[float, float] | None:
    """(share of the improvement made in the first quarter, share made in the last quarter), on the
    running median; None when the loss did not improve."""
    trend = rolling_median(v, 5)
    start, best = trend[0], float(np.nanmin(trend))
    total = start - best
    if not total > 0:
        return None
    q = max(1, v.shape[0] // 4)
    early = (start - float(np.nanmin(trend[: q + 1]))) / total
    late = (float(np.nanmin(trend[: -q])) - best) / total
    return early, late


def shape_signals(run: Run, t: LRThresholds = THRESHOLDS) -> list[LRSignal]:
    """What the training loss's shape says about the learning rate (no findings needed)."""
    c = training_curve(run, t)
    if c is None or c.n < 5:
        return []
    v = c.values
    out: list[LRSignal] = []
    tol = _tolerance(v, t)
    trend = rolling_median(v, 5)
    _slope, slope_t_value = slope_t(np.arange(v.shape[0], dtype=float), v)
    steady_descent = slope_t_value < -t.k_sigma and np.mean(np.diff(v) < 0) >= 0.8
    if float(np.nanmin(trend[1:])) >= v[0] - tol and not steady_descent:
        out.append(LRSignal("never_below_start", "too_high",
                            f"{c.name} never got below its first value {fmt(v[0])} (best running median "
                            f"{fmt(float(np.nanmin(trend[1:])))}, tolerance {fmt(tol)})",
                            {"first": v[0], "best_trend": float(np.nanmin(trend[1:])), "tolerance": tol}))
    after = float(np.median(v[1:3]))
    if c.binned_from is None and after > 0 and v[0] >= t.explosion_ratio * after:
        out.append(LRSignal("first_epoch_explosion", "too_high",
                            f"{c.name} exploded in the first epoch: {fmt(v[0])}, {v[0] / after:.3g}x the next epochs' "
                            f"{fmt(after)}", {"first": v[0], "next": after, "ratio": v[0] / after}))
    q = max(1, c.n // 4)
    end_level = float(median(v[-q:]))
    if end_level > float(median(v[:q])) + tol and end_level > float(np.nanmin(trend)) + 2 * tol:
        out.append(LRSignal("rising", "too_high",
                            f"{c.name} ends higher than it was in the first quarter ({fmt(end_level)} vs "
                            f"{fmt(float(median(v[:q])))})", {"end_level": end_level}))
    if run.x_axis == "step" and c.binned_from is None:
        # each point may be a single minibatch: its noise says nothing about the LR (too few points to bin)
        return out + _speed(run, c, t)
    return out + _zigzag(c, t) + _instability(c, t) + _speed(run, c, t)


def _zigzag(c: TrainingCurve, t: LRThresholds) -> list[LRSignal]:
    """Epoch-to-epoch swings that are large against the trend they ride on (after the first fifth)."""
    v = c.values[c.n // 5:]
    if v.shape[0] < 8:
        return []
    # a centred 5-point mean as the trend: a running median follows a period-2 zigzag instead of averaging it
    trend = np.convolve(v, np.ones(5), "same") / np.convolve(np.ones_like(v), np.ones(5), "same")
    resid = v - trend
    swing = 1.4826 * float(median(np.abs(resid - median(resid))))
    d = np.diff(v)
    flips = float(np.mean(np.sign(d[1:]) != np.sign(d[:-1])))
    moved = float(np.nanmax(trend) - np.nanmin(trend))
    level = abs(float(median(v)))
    first = float(c.values[0])
    if first >= 10 * float(median(c.values[1:3])):
        first = float(median(c.values[1:3]))  # a first-epoch explosion is not where the run started
    if level < t.zigzag_min_progress_left * abs(first):
        return []  # near convergence, batch-to-batch noise is large against a tiny loss: not the LR's doing
    if flips >= t.zigzag_flips and swing >= t.zigzag_vs_trend * moved and swing >= t.zigzag_vs_level * level:
        return [LRSignal("zigzag", "too_high",
                         f"{c.name} zigzags: swings of {fmt(swing)} around its trend ({swing / level:.0%} of its level, "
                         f"{swing / moved if moved else float('inf'):.2g}x how far the trend moves), direction changes "
                         f"at {flips:.0%} of epochs: steps too large for a smooth descent",
                         {"swing": swing, "trend_moved": moved, "level": level, "direction_changes": flips})]
    return []


def _instability(c: TrainingCurve, t: LRThresholds) -> list[LRSignal]:
    """A training loss that jumps to >= jump_ratio x its running best mid-run and comes back."""
    v = c.values
    scale = float(v[0] - v.min())
    head = max(1, c.n // 10)
    best = np.minimum.accumulate(v)
    jumps = [i for i in range(head + 1, c.n - 1)
             if v[i] >= t.jump_ratio * best[i - 1] and v[i] - best[i - 1] >= max(t.jump_vs_scale * scale, 1e-12)
             and float(np.min(v[i + 1:])) <= v[i] - 0.5 * (v[i] - best[i - 1])]  # recovered (else: divergence)
    if not jumps:
        return []
    i = max(jumps, key=lambda j: v[j] - best[j - 1])
    rise = v[i] - best[i - 1]
    share = f" ({rise / scale:.0%} of the run's improvement)" if scale > 0 else ""
    return [LRSignal("instability", "too_high",
                     f"{c.name} jumped to {fmt(v[i])} mid-run, {v[i] / best[i - 1]:.1f}x its running best "
                     f"{fmt(best[i - 1])}{share}, then recovered",
                     {"index": i, "value": v[i], "running_best": best[i - 1], "ratio": v[i] / best[i - 1],
                      "jumps": len(jumps)})]


def _speed(run: Run, c: TrainingCurve, t: LRThresholds) -> list[LRSignal]:
    """Slow from the start and still improving at the end (too low), or fast early progress (ok)."""
    if c.n < 8:
        return []
    shares = _progress_shares(c.values)
    if shares is None:
        return []
    early, late = shares
    q = max(4, c.n // 4)
    _slope, tv = slope_t(np.arange(q, dtype=float), c.values[-q:])
    still = late >= t.still_improving_share and tv < -2
    numbers = {"first_quarter_share": early, "last_quarter_share": late, "last_quarter_slope_t": tv}
    if early < t.slow_start_share and still and not _validation_done(run, t):
        return [LRSignal("slow_start", "too_low",
                         f"{c.name} made only {early:.0%} of its progress in the first quarter of the run and "
                         f"{late:.0%} in the last (still falling, t = {tv:.1f}): slow from the start and still "
                         f"improving at the end", numbers)]
    if early >= t.fast_start_share:
        return [LRSignal("fast_start", "ok",
                         f"{c.name} made {early:.0%} of its progress in the first quarter"
                         + (" and is still improving at the end" if still else ""), numbers)]
    return []


def _validation_done(run: Run, t: LRThresholds) -> bool:
    """True when the validation curve (loss, else first metric) made its progress early or stopped
    improving: then a slowly falling training loss is not a too-low LR (pretrained models,
    heavy augmentation)."""
    val = next((s for s in run.signals() if s.split == "val" and s.kind == "loss" and s.finite.sum() >= 8), None)
    val = val or next((s for s in run.signals() if s.split == "val" and s.direction in ("min", "max")
                       and s.finite.sum() >= 8), None)
    if val is None:
        return False
    v = val.values[val.finite]
    shares = _progress_shares(v if val.direction == "min" else -v)
    if shares is None:
        return True
    early, late = shares
    return early >= t.fast_start_share or late < t.still_improving_share


def _big_spikes(run: Run, ev: dict[str, Any], t: LRThresholds) -> int:
    """How many of CC103's spikes rise by at least jump_vs_scale of the run's improvement: near
    convergence, a jump of a tiny loss to 3x its level is small against the progress made."""
    c = training_curve(run, t)
    scale = float(c.values[0] - c.values.min()) if c is not None else 0.0
    return sum(1 for value, level in zip(ev.get("values", []), ev.get("local_level", []))
               if value - level >= t.jump_vs_scale * scale)


def _crawl(run: Run, t: LRThresholds) -> LRSignal | None:
    """A loss that falls at nearly every epoch by steps too small to leave its starting level: an LR
    too low, not a frozen network (:func:`curvecheck.checks.never_learned.crawl`, the one definition)."""
    found = crawling_loss(run, t.k_sigma, t.crawl_falling_share)
    if found is None:
        return None
    s, falling, tv = found
    v = s.values[s.finite]
    return LRSignal("crawl", "too_low",
                    f"{s.name} still falls at {falling:.0%} of epochs (t = {tv:.1f}), by steps too small "
                    f"to leave its start ({fmt(v[0])} -> {fmt(v[-1])}): the network is not frozen, the "
                    f"steps are too small", {"falling_share": falling, "slope_t": tv, "first": v[0],
                                             "last": v[-1]})


def _saturated(s: LRSignal, t: LRThresholds) -> bool:
    """A frozen loss far above what predicting the class prior costs: confident wrong outputs that large
    steps pushed the network into, not a network that barely left its start."""
    prior, level = s.numbers.get("prior_entropy"), s.numbers.get("frozen_level")
    return prior is not None and level is not None and level > t.saturated_vs_prior * prior


def finding_signals(run: Run, findings: list[Finding], t: LRThresholds = THRESHOLDS) -> list[LRSignal]:
    """What the diagnostics' findings say about the learning rate (read from their typed evidence)."""
    out: list[LRSignal] = []
    for f in findings:
        if f.code == "CC201":
            out.append(LRSignal("overfits", "ok", "the model trained far enough to overfit: the LR was high enough "
                                "to make progress"))
            continue
        if f.code not in ("CC101", "CC102", "CC103", "CC301") and f.kind != "never_learned":
            continue  # nothing about the LR (the evidence is not converted: a deep copy per finding)
        ev = evidence_dict(f.evidence)
        if f.code == "CC102":
            out.append(LRSignal("divergence", "too_high", f"divergence: {f.message}", ev))
        elif f.code == "CC101" and f.severity == "error":
            out.append(LRSignal("non_finite", "too_high", f"non-finite loss: {f.message}", ev))
        elif f.kind == "never_learned" and ev.get("signal") in COLLAPSE_SIGNALS:
            out.append(LRSignal("collapse", "too_high", f"the network never learned: {f.message}", ev))
        elif f.code == "CC103" and run.x_axis == "epoch" and any(
                _split_of(run, s) == "train" for s in f.series) and _big_spikes(run, ev, t) >= 2:
            out.append(LRSignal("training_spikes", "too_high", f"training-loss spikes: {f.message}", ev))
        elif f.code == "CC301":
            helped = [d for d in ev.get("drops") or [] if d.get("helped")]
            if helped:
                epochs = ", ".join(fx(d["epoch"]) for d in helped)
                out.append(LRSignal("lr_drops_helped", "ok", f"LR drops helped at epoch(s) {epochs}: the initial LR "
                                    f"was at the high end of what works", {"epochs": [d["epoch"] for d in helped]}))
    return out


def _split_of(run: Run, name: str) -> str | None:
    s = run.series.get(name)
    return s.split if s is not None else None


def _oscillation_signal(findings: list[Finding]) -> list[LRSignal]:
    """Validation oscillation, counted only when training is unstable too (else it is the val set)."""
    out = []
    for f in findings:
        if f.code != "CC203":
            continue
        ratios = [v.get("val_over_train_noise") for v in evidence_dict(f.evidence).get("series", {}).values()
                  if isinstance(v, dict)]
        if all(r is None or r < 2 for r in ratios):
            out.append(LRSignal("val_oscillation", "too_high",
                                f"validation oscillates as well: {f.message.split('.')[0]}"))
    return out


# Signals of a loss that stays at its start; with a loss still falling at nearly every epoch they mean
# steps too small to move it, not a network the LR froze.
FROZEN_SIGNALS = ("collapse", "never_below_start")


def lr_signals(run: Run, findings: list[Finding], t: LRThresholds = THRESHOLDS) -> list[LRSignal]:
    """Every structured signal about the LR of one run: from findings and from the training loss."""
    signals = finding_signals(run, findings, t) + shape_signals(run, t)
    frozen = [s for s in signals if s.name in FROZEN_SIGNALS]
    if frozen and all(s.name in FROZEN_SIGNALS for s in signals if s.points_to == "too_high"):
        crawl = None if any(_saturated(s, t) for s in frozen) else _crawl(run, t)
        if crawl is not None:  # a loss stuck near its start that keeps falling: too small steps
            signals = [s for s in signals if s not in frozen] + [crawl]
    if any(s.points_to == "too_high" for s in signals):
        signals += _oscillation_signal(findings)
    return signals


def lr_verdict(run: Run, findings: list[Finding], label: str | None = None) -> LRVerdict:
    """A verdict on the learning rate of one run, from structured signals (never from message text).

    too_high: divergence, NaN, a collapse (CC104), a first epoch 100x the next ones, a training loss that
    never gets below its start or rises, a zigzag large against its trend, a mid-run jump to 2x its
    running best that recovers, training-loss spikes large against the run's improvement; validation
    oscillation counts only with one of those. too_low: slow from the start and still improving at the
    end, or a loss stuck at its start that still falls at nearly every epoch (a crawl, unless it sits far
    above the prior's cross-entropy). ok otherwise; unknown when too short, without a loss, or when
    the run never learned (CC104) for a reason its curves do not lay on the LR (a metric at a trivial
    value while the loss fell): never "ok" for a run that learned nothing.
    """
    lr, source = lr_of_run(run, label)
    if run.num_points < 5:
        return LRVerdict("unknown", lr, source, ["too short to judge"])
    signals = lr_signals(run, findings)
    high = [s for s in signals if s.points_to == "too_high"]
    low = [s for s in signals if s.points_to == "too_low"]
    ok = [s for s in signals if s.points_to == "ok"]
    if high:
        verdict = LRVerdict("too_high", lr, source, [s.text for s in high], high + low)
        _quote_event_lr(run, verdict, high)
        return verdict
    never = next((f for f in findings if f.kind == "never_learned"), None)
    crawl = [s for s in low if s.name == "crawl"]  # it never learned *because* the steps were too small
    if never is not None and not crawl:
        # it never learned, and nothing blames the LR (the loss fell, to what predicting the prior costs):
        # "ok" would send the user the wrong way, "too low/high" would guess
        return LRVerdict("unknown", lr, source, [
            f"the run never learned the task ({never.message}), and its curves do not blame the learning rate: "
            "look at the data first (class balance, labels, the metric's threshold), then the LR"])
    if low:
        return LRVerdict("too_low", lr, source, [s.text for s in low], low)
    if not any(s.kind == "loss" and s.finite.any() for s in run.signals()):
        return LRVerdict("unknown", lr, source, ["no finite loss curve"])
    nothing = ("no sign of a too-high (divergence, NaN, collapse, zigzag, instability) or too-low (slow from the "
               "start and still improving at the end) learning rate")
    return LRVerdict("ok", lr, source, [s.text for s in ok] or [nothing], ok)


# where each too_high signal happened (the evidence field holding the log's epoch) and what it was
_EVENT_X = (("non_finite", "first_epoch", "the first NaN/inf loss"),
            ("divergence", "best_epoch", "where the divergence began"),
            ("collapse", "frozen_from", "where the loss froze"))


def _quote_event_lr(run: Run, verdict: LRVerdict, high: list[LRSignal]) -> None:
    """Set ``event_lr``: the LR at the first too_high signal with an epoch, from the run's LR column
    (the last LR logged at or before that epoch). Left unset when it equals the first LR."""
    lr = run.lr_series()
    if lr is None or not lr.finite.any():
        return
    for name, key, what in _EVENT_X:
        signal = next((s for s in high if s.name == name and s.numbers.get(key) is not None), None)
        if signal is None:
            continue
        x = float(signal.numbers[key])
        at = np.nonzero((lr.x <= x) & lr.finite)[0]
        if not at.size:
            return
        value = float(lr.values[at[-1]])
        if verdict.lr is None or not math.isclose(value, verdict.lr, rel_tol=1e-6):
            verdict.event_lr, verdict.event = value, f"at {run.x_axis} {fx(x)}, {what}"
        return


# --- sweeps -------------------------------------------------------------------------------------

# Signals that mean a run failed outright (as opposed to learning slowly or noisily).
FAILED_SIGNALS = ("collapse", "non_finite", "divergence")


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
    name: str = ""  # unique among the compared runs (parent folders added when file names repeat)
    own_verdict: str = ""  # the single-run verdict, before the sweep's context
    failed: bool = False  # collapsed, NaN or diverged
    findings: dict[str, int] = field(default_factory=dict)  # number of findings per severity

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

    def exit_code(self, fail_on: str = "error") -> int:
        """1 when a run of the sweep has a finding at ``fail_on`` or worse ('never' disables), else 0."""
        if fail_on == "never":
            return 0
        if fail_on not in SEVERITY_RANK:
            from .errors import UsageError

            raise UsageError(f"fail-on must be one of error, warning, info, never; got {fail_on!r}")
        return int(any(n and SEVERITY_RANK[sev] <= SEVERITY_RANK[fail_on] for e in self.entries for sev, n in e.findings.items()))


def unique_names(sources: list[str]) -> list[str]:
    """Short names that tell runs apart: the file name, with as many parent folders as it takes
    (``lr_0.1/metrics.csv``, ``lr_0.3/metrics.csv``) when file names repeat."""
    parts = [Path(src.rstrip("/")).parts or (src,) for src in sources]
    depth = 1
    while depth < max(len(p) for p in parts):
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
        depth += 1
    return ["/".join(p[-depth:]) for p in parts]


def _sweep_metric(runs: list[Run], metric: str | None) -> tuple[str, str]:
    if metric:
        s = runs[0].series.get(metric)
        if s is None:
            from .errors import UsageError

            raise UsageError(f"--metric {metric}: not in {runs[0].source}")
        return metric, s.direction
    # the framework's own score when every run has it (Ultralytics' fitness), else the first validation
    # metric all runs share, else the validation loss
    common = set.intersection(*[set(r.series) for r in runs])
    first = runs[0]
    own = first.meta.get("monitor")
    if own in common and all(r.meta.get("monitor") == own for r in runs):
        return own, first.series[own].direction
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


def _smoothed(run: Run, name: str, smooth: float) -> np.ndarray | None:
    s = run.series.get(name)
    if s is None or not s.finite.any():
        return None
    return tensorboard_smooth(s.values, smooth)


def compare_runs(runs: list[Run], findings: list[list[Finding]], labels: list[str | None] | None = None,
                 metric: str | None = None, smooth: float = 0.6) -> SweepReport:
    """Rank runs of a sweep by their best smoothed validation metric and judge each LR in context.

    Each run first gets its own verdict; then the sweep decides: the winner is ok when it learned; a
    run that collapsed, went NaN or diverged while others learned is too high; a run whose best over
    all its epochs is no better than what the winner reached in its first quarter is too low (LR below
    the winner's) or too high (above it).
    """
    labels = labels or [None] * len(runs)
    name, direction = _sweep_metric(runs, metric)
    sign = 1.0 if direction == "max" else -1.0
    entries, curves = [], []
    for run, fs, label, short in zip(runs, findings, labels, unique_names([r.source for r in runs])):
        verdict = lr_verdict(run, fs, label)
        sm = _smoothed(run, name, smooth)
        best = best_epoch = None
        i = best_index(run.series[name].values, direction, smooth) if sm is not None else None
        if sm is not None and i is not None:
            best, best_epoch = float(sm[i]), float(run.series[name].x[i])
        counts: dict[str, int] = {}
        for f in fs:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        entries.append(SweepEntry(run.source, verdict.lr, verdict.lr_source, name, best, best_epoch,
                                  verdict.verdict, verdict.evidence, name=short, own_verdict=verdict.verdict,
                                  failed=any(sg.name in FAILED_SIGNALS for sg in verdict.signals), findings=counts))
        curves.append(sm)
    ranked = sorted([e for e in entries if e.best is not None and math.isfinite(e.best)],
                    key=lambda e: -sign * (e.best or 0.0))
    for i, e in enumerate(ranked, 1):
        e.rank = i
    top = ranked[0] if ranked else None
    _judge_in_context(entries, curves, top, sign)
    summary, bracketed = _sweep_summary(entries, top, name)
    return SweepReport(entries, name, direction, top.source if top else None, top.lr if top else None,
                       bracketed, summary)


def _judge_in_context(entries: list[SweepEntry], curves: list[np.ndarray | None], top: SweepEntry | None,
                      sign: float) -> None:
    """Turn single-run verdicts into sweep verdicts (see :func:`compare_runs`)."""
    winner = min((e for e in entries if e.rank and not e.failed), key=lambda e: e.rank, default=None)
    if winner is None:
        return  # nothing learned: every run keeps its own verdict
    curve = curves[entries.index(winner)]
    assert curve is not None
    early = float(np.nanmax(sign * curve[: max(1, curve.shape[0] // 4) + 1]))
    for e in entries:
        if e is winner:
            if e.verdict != "ok":
                e.evidence = [f"the best run of the sweep (its own signals said {e.verdict.replace('_', ' ')})"]
            e.verdict = "ok"
        elif e.failed:
            e.verdict = "too_high"
        elif e.best is not None and e.lr is not None and winner.lr is not None and sign * e.best <= early:
            why = (f"its best {e.metric} {fmt(e.best)} over all its epochs is no better than what lr {winner.lr:g} "
                   f"reached in its first quarter ({fmt(sign * early)})")
            if not _distinct_lrs(e.lr, winner.lr):
                # same LR (or nearly): the difference lies elsewhere (data, model, seed), not in the LR
                e.evidence = [*e.evidence, f"{why}, at nearly the same LR (within {THRESHOLDS.sweep_lr_ratio:g}x): "
                                           "not an LR effect"]
                continue
            e.verdict = "too_low" if e.lr < winner.lr else "too_high"
            e.evidence = [why, *e.evidence]
    if top is not None and top is not winner:
        top.evidence = ["ranked first on its metric, but it collapsed, went NaN or diverged"] + top.evidence


def _distinct_lrs(a: float | None, b: float | None) -> bool:
    """Two LRs a sweep set apart (at least ``sweep_lr_ratio`` between them), not the same setting."""
    if a is None or b is None or a <= 0 or b <= 0:
        return a != b
    return max(a, b) / min(a, b) >= THRESHOLDS.sweep_lr_ratio


def _sweep_summary(entries: list[SweepEntry], top: SweepEntry | None, metric: str) -> tuple[list[str], bool | None]:
    summary: list[str] = []
    bracketed = None
    if top is None:
        return summary, bracketed
    where = f" at epoch {fx(top.best_epoch)}" if top.best_epoch is not None else ""
    summary.append(f"best: {top.name}" + (f" (lr {top.lr:g})" if top.lr is not None else "")
                   + f" with smoothed {metric} {fmt(top.best or 0.0)}{where}")
    # LRs within sweep_lr_ratio of the best are the same setting: they neither bracket it nor extend the range
    lrs = [e.lr for e in entries if e.lr is not None and (e is top or _distinct_lrs(e.lr, top.lr))]
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
        tag = f"lr {e.lr:g}" if e.lr is not None else e.name
        if e.verdict in ("too_high", "too_low"):
            reason = e.evidence[0].split(": ", 1)[0] if e.evidence else ""  # the signal's name, not its numbers
            summary.append(f"{tag}: {e.verdict.replace('_', ' ')}" + (f" ({reason})" if reason else ""))
    return summary, bracketed
