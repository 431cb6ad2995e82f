"""Which epoch to keep, when training should have stopped, and early-stopping settings for next time.

All epochs are the log's own numbers. Keras CSVLogger counts epochs from 0 while Keras prints
"Epoch 1/N" for it and ModelCheckpoint formats ``{epoch}`` as index + 1: the checkpoint path is
built the way ModelCheckpoint builds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .context import default_monitor
from .errors import UsageError
from .findings import Finding, evidence_dict, json_safe
from .metrics import percent_scale
from .model import Run, Series
from .numbers import fmt, fx
from .signal import best_index, local_noise, noise_level, tensorboard_smooth
from .stopping import RULES, CombinedScore, StopResult, StopRule, ThresholdRule, feed, make_rule, normalised_scores

STRATEGIES = RULES  # the stopping rules' registry (vocab.STRATEGIES lists the same names for the CLI)


@dataclass
class Recommendation:
    """What ``recommend-stop`` concludes (also ``runs[i].recommendation`` in analyze's JSON)."""

    epoch: float | None
    monitor: list[str]
    value: dict[str, float]
    strategy: str
    reason: str
    saved_epochs: int = 0
    stop_epoch: float | None = None
    cost: dict[str, float] = field(default_factory=dict)
    best_epochs: dict[str, float] = field(default_factory=dict)
    others: dict[str, float] = field(default_factory=dict)
    disagreement: list[dict] = field(default_factory=list)
    status: str = "finished"  # finished | stop_now | continue | never_learned | no_finite_monitor
    checkpoint: str | None = None
    suggested: dict[str, Any] = field(default_factory=dict)
    epoch_base: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    usable: bool = True  # False: no epoch of this run is worth keeping (it never learned)
    # how the log's framework numbers or keeps this epoch's checkpoint ("Keras calls it 'Epoch 12'...")
    keep_hint: str = ""
    # findings at the caller's --fail-on level (api.recommend_stop); decide the exit code, not in the JSON
    failing_findings: list[Finding] = field(default_factory=list, repr=False)

    def exit_code(self) -> int:
        """0 when an epoch was recommended and no finding reached --fail-on, else 1."""
        return 1 if self.epoch is None or self.failing_findings else 0

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "epoch": self.epoch, "monitor": self.monitor, "value": self.value, "strategy": self.strategy,
            "reason": self.reason, "saved_epochs": self.saved_epochs, "stop_epoch": self.stop_epoch,
            "cost": self.cost, "best_epochs": self.best_epochs, "others": self.others,
            "disagreement": self.disagreement, "status": self.status, "checkpoint": self.checkpoint,
            "suggested": self.suggested, "epoch_base": self.epoch_base, "params": self.params,
            "notes": self.notes, "usable": self.usable, "keep_hint": self.keep_hint,
        })


# --- choosing monitors --------------------------------------------------------------------------

def resolve_monitors(run: Run, names: list[str] | None, mode: str = "auto") -> list[tuple[Series, str]]:
    if not names:
        s = default_monitor(run)
        if s is None:
            raise UsageError(f"{run.source}: no loss or metric to monitor")
        names = [s.name]
    out = []
    for name in names:
        if name not in run.series:
            known = ", ".join(s.name for s in run.signals())
            raise UsageError(f"{run.source}: no series '{name}' to monitor (series: {known})")
        s = run.series[name]
        direction = mode if mode in ("min", "max") else s.direction
        if direction not in ("min", "max"):
            raise UsageError(f"cannot tell whether '{name}' should go up or down: pass --mode min or --mode max")
        out.append((s, direction))
    return out


def _goodness(s: Series, direction: str, smooth: float | None) -> np.ndarray:
    v = tensorboard_smooth(s.values, smooth) if smooth else s.values
    g = v if direction == "max" else -v
    return np.where(np.isfinite(g), g, -np.inf)


def _best(s: Series, direction: str, smooth: float | None = None) -> int:
    """The series' best index (signal.best_index: raw unless smoothed, first on ties); 0 if none."""
    index = best_index(s.values, direction, smooth or 0.0)
    return 0 if index is None else index


def _best_of_score(score: np.ndarray) -> int:
    index = best_index(score, "max")
    return 0 if index is None else index


def combined_score(monitors: list[tuple[Series, str]], weights: list[float] | None,
                   smooth: float | None) -> np.ndarray:
    """Monitors on one scale, as normalised at the end of the log (the hindsight view).

    Each is turned into "how close to its own best" in its own direction (1 at its best, 0 at the
    median of its first few values), then weighted; see :mod:`curvecheck.stopping.combined`. The
    stop rule sees the same score normalised causally (with the epochs so far only).
    """
    weights = _check_weights(monitors, weights)
    return normalised_scores(_goodness_matrix(monitors, smooth), weights)


def _check_weights(monitors: list[tuple[Series, str]], weights: list[float] | None) -> list[float]:
    weights = weights or [1.0] * len(monitors)
    if len(weights) != len(monitors):
        raise UsageError("give one --weight per --monitor")
    x = monitors[0][0].x
    for s, _direction in monitors:
        if s.x.shape != x.shape or not np.array_equal(s.x, x):
            raise UsageError(f"monitors must be logged at the same epochs ({s.name} is not)")
    return weights


def _goodness_matrix(monitors: list[tuple[Series, str]], smooth: float | None) -> np.ndarray:
    cols = [_goodness(s, d, smooth) for s, d in monitors]
    return np.where(np.isfinite(np.column_stack(cols)), np.column_stack(cols), np.nan)


# --- suggestions for the next run --------------------------------------------------------------

def suggest_settings(s: Series, direction: str, diverged: tuple[float, str] | None = None,
                     unit: str = "epoch") -> dict[str, Any]:
    """EarlyStopping / ReduceLROnPlateau settings from this run's noise and its longest fruitful stall.

    ``diverged``: (the first x past the run's divergence or NaN, what happened; :func:`divergence_x`).
    The settings then come from the part before it, with the local noise around the monitor's best
    point (:func:`curvecheck.signal.local_noise` on the points up to it): a climb to 1e6 or a fall from
    1e5 is not noise. None are given when that noise cannot be told from the trend (the last points
    before the best only fall, or there are fewer than 3).
    """
    if diverged is not None:
        return _suggest_before_divergence(s, direction, diverged[0], diverged[1], unit)
    v = s.values[s.finite]
    if v.shape[0] < 5:
        return {}
    return _settings_from(s.name, v, direction, noise_level(v), unit, "its noise sigma")


_LOCAL_WINDOW = 9  # local_noise's default window: the best point and up to 4 before it


def _suggest_before_divergence(s: Series, direction: str, limit: float, what: str, unit: str) -> dict[str, Any]:
    before = s.values[(s.x < limit) & s.finite]
    best = best_index(before, direction)
    if best is None or before.shape[0] < 5:
        return {}
    window = before[max(0, best - _LOCAL_WINDOW // 2): best + 1]
    if np.all(np.diff(window) < 0) or np.all(np.diff(window) > 0):
        return {}  # a steady trend up to the best: its wiggles are not measurable
    sigma = float(local_noise(before[: best + 1], _LOCAL_WINDOW)[best])
    if not np.isfinite(sigma):
        return {}
    return _settings_from(s.name, before, direction, sigma, unit, f"{what}: its noise sigma around its best before")


def _round_down(x: float) -> float:
    """``x`` to one significant digit, rounded down (0.26 -> 0.2): a min_delta above the threshold the
    stalls were measured with would make EarlyStopping miss improvements the patience was sized for
    (0.26 rounded to 0.3 stopped a real run at epoch 6, keeping epoch 1 instead of 15)."""
    if not x > 0 or not math.isfinite(x):
        return 0.0
    scale = 10.0 ** math.floor(math.log10(x))
    return float(f"{math.floor(x / scale + 1e-9) * scale:.1g}")


def _settings_from(name: str, v: np.ndarray, direction: str, sigma: float, unit: str, noise_words: str
                   ) -> dict[str, Any]:
    g = v if direction == "max" else -v
    span = float(g.max() - g[0])
    threshold = max(2 * sigma, 0.01 * span) if span > 0 else 2 * sigma
    anchor, last, longest = g[0], 0, 0
    # Speed (10^6 points): with threshold >= 0 every new anchor is a strict running record (the anchor
    # plus the threshold is never below an earlier value), so only records are scanned, with the same
    # float operations (the same proof as Curve.significant_bests).
    records = np.flatnonzero(g[1:] > np.maximum.accumulate(g)[:-1]) + 1 if threshold >= 0 else range(1, g.shape[0])
    for i in records:
        if g[i] > anchor + threshold:
            longest = max(longest, int(i) - last)
            anchor, last = g[i], int(i)
    patience = max(5, longest + 2)
    min_delta = _round_down(2 * sigma)
    rlr_patience = max(2, patience // 2)
    return {
        "patience": patience, "min_delta": min_delta, "noise_sigma": sigma,
        "longest_stall_before_improvement": longest,
        "reason": (f"the longest stall of {name} that was later followed by a real improvement lasted "
                   f"{longest} {unit}s, so patience {patience}; "
                   f"{noise_words} is {sigma:.3g}, so min_delta {min_delta:g} (2 sigma, rounded down) ignores noise "
                   "wiggles."),
        "keras": (f"keras.callbacks.EarlyStopping(monitor='{name}', mode='{direction}', patience={patience}, "
                  f"min_delta={min_delta:g}, restore_best_weights=True)"),
        "keras_reduce_lr": (f"keras.callbacks.ReduceLROnPlateau(monitor='{name}', mode='{direction}', "
                            f"factor=0.2, patience={rlr_patience}, min_delta={min_delta:g})"),
    }


def divergence_x(run: Run) -> tuple[float, str] | None:
    """Where the run diverged (CC102: after the best point before the climb) or went NaN/inf for good
    (CC101, a loss): (the first x of the broken part, what happened), the earliest if several; None when
    neither happened."""
    from .checks.base import RunContext
    from .checks.divergence import Divergence
    from .checks.non_finite import NonFinite

    ctx = RunContext.of(run)  # the checks' own findings when they ran with defaults
    unit = run.x_axis
    events: list[tuple[float, str]] = []
    if Divergence.applicable(run):
        for f in Divergence().findings(ctx):
            best = float(evidence_dict(f.evidence)["best_epoch"])
            events.append((float(np.nextafter(best, np.inf)), f"it diverged after {unit} {fx(best)}"))
    if NonFinite.applicable(run):
        for f in NonFinite().findings(ctx):
            ev = evidence_dict(f.evidence)
            if f.severity == "error" and not ev["recovered"]:
                events.append((float(ev["first_epoch"]), f"it went NaN/inf at {unit} {fx(ev['first_epoch'])}"))
    return min(events) if events else None


# --- the recommendation ------------------------------------------------------------------------

def checkpoint_path(template: str, epoch: float, epoch_base: int, values: dict[str, float],
                    framework: str = "keras") -> str:
    """Format a checkpoint filepath the way the log's framework does: Keras' ModelCheckpoint fills
    ``{epoch}`` 1-based (CSVLogger's epoch 0 is file 01); Lightning's ``ModelCheckpoint(filename=...)``
    and the others use the epoch as logged."""
    shown = int(epoch) + 1 if framework == "keras" and epoch_base == 0 else int(epoch)
    try:
        return template.format(epoch=shown, **values)
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(f"--checkpoint-template '{template}': {exc}") from None


def planned_epochs_of(run: Run) -> int | None:
    """The planned number of epochs when the log records it (HF ``num_train_epochs``, Ultralytics ``epochs``)."""
    planned = getattr(run, "meta", None) or {}
    value = planned.get("planned_epochs") if isinstance(planned, dict) else None
    try:
        return int(value) if value is not None and run.x_axis == "epoch" else None
    except (TypeError, ValueError):
        return None


def make_stop_rule(run: Run, mons: list[tuple[Series, str]], strategy: str = "auto", *,
                   weights: list[float] | None = None, **params) -> StopRule:
    """A fresh rule for these monitors: the rule itself for one monitor, the causal combined score
    over several. ``auto`` gets the log's planned epochs unless ``planned_epochs`` is given."""
    if strategy == "auto" and params.get("planned_epochs") is None:
        params["planned_epochs"] = planned_epochs_of(run)
    if len(mons) == 1:
        return make_rule(strategy, mode=mons[0][1], **params)
    make_rule(strategy, mode="max", **params)  # a bad setting fails here, once
    return CombinedScore(lambda mode: make_rule(strategy, mode=mode, **params), [d for _, d in mons],
                         _check_weights(mons, weights))


def run_stop_rule(run: Run, mons: list[tuple[Series, str]], strategy: str = "auto", *,
                  weights: list[float] | None = None, smooth: float | None = None, **params) -> StopRule:
    """Feed a fresh rule the log epoch by epoch (exactly as a callback would have) and return it."""
    rule = make_stop_rule(run, mons, strategy, weights=weights, **params)
    primary = mons[0][0]
    x = primary.x
    train = run.partner(primary.name)
    train_values = (np.interp(x, train.x, train.values) if train is not None and len(train) and
                    train.finite.any() else None)
    if len(mons) == 1:
        values = tensorboard_smooth(primary.values, smooth) if smooth else primary.values
    else:  # rows of monitor values; the combined rule normalises them causally
        values = np.column_stack([tensorboard_smooth(s.values, smooth) if smooth else s.values for s, _ in mons])
    feed(rule, values, train_values, x.astype(int) if strategy == "keras" else None)
    return rule


def recommend_stop(run: Run, monitors: list[str] | None = None, *, weights: list[float] | None = None,
                   mode: str = "auto", strategy: str = "auto", smooth: float | None = None,
                   conditions: list[str] | None = None, checkpoint_template: str | None = None,
                   live: bool = False, **params) -> Recommendation:
    """Recommend the epoch to keep and say when the chosen strategy would have stopped.

    ``strategy``: 'auto' (curvecheck's online rule), 'keras', 'lightning', 'gl', 'pq', 'up'
    (replays with ``params``, e.g. patience=10), or 'threshold' with ``conditions`` like
    ``['val_loss<0.1', 'val_iou>0.8']`` held for ``patience`` epochs. ``live=True`` says training is
    still running (the status is then ``stop_now`` or ``continue``); the default is a finished run.
    The answer depends only on the log's values and these options, never on the file's age.
    """
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy '{strategy}' (choose from {', '.join(STRATEGIES)})")
    if strategy == "threshold":
        unknown = sorted(set(params) - {"patience"})
        if unknown:
            raise UsageError(f"strategy 'threshold' has no setting {', '.join(unknown)} (its settings: when, patience)")
        return _threshold(run, conditions or [], params.get("patience"), checkpoint_template)
    mons = resolve_monitors(run, monitors, mode)
    names = [s.name for s, _ in mons]
    unusable = _never_learned(run, names, strategy) or _no_finite_monitor(run, mons, strategy)
    if unusable is not None:
        return unusable
    x = mons[0][0].x
    score = combined_score(mons, weights, smooth)
    if not np.isfinite(score).any():
        raise UsageError(f"{run.source}: the monitored series never has a finite value")
    hindsight = _best_of_score(score)
    primary, direction = mons[0]
    result = run_stop_rule(run, mons, strategy, weights=weights, smooth=smooth, **params).result()
    kept = hindsight if strategy == "auto" else result.kept_index
    if kept is None:
        kept = hindsight
    rec = Recommendation(epoch=float(x[kept]), monitor=names, value={s.name: float(s.values[kept]) for s, _ in mons},
                         strategy=strategy, reason="", epoch_base=run.epoch_base, params=result.params)
    _fill_comparisons(rec, run, mons, kept, smooth)
    _fill_stop(rec, run, mons, result, x, kept, hindsight, strategy, live)
    if not monitors:
        rec.notes.extend(_metric_hints(run, primary, x, kept))
        dead = [s.name for s in run.signals() if s.split == "val" and s.kind == "loss" and not s.finite.any()]
        if dead and primary.name not in dead:
            rec.notes.append(f"{dead[0]} is NaN or inf at every {run.x_axis}: monitoring {primary.name} instead.")
    diverged = divergence_x(run)
    rec.suggested = suggest_settings(primary, direction, diverged, run.x_axis)
    if primary.split != "val" and not any(s.split == "val" for s in run.signals()):
        # early stopping and ReduceLROnPlateau on the training loss keep the most-fitted model, and
        # HF's EarlyStoppingCallback cannot run without evaluation: no settings to derive
        rec.suggested = {}
        rec.notes.append(f"No validation curve: {run.x_axis} {fx(x[kept])} is only where the training loss "
                         f"is lowest, which says nothing about generalisation, and no early-stopping settings "
                         f"are derived from it. Log a validation loss to choose a checkpoint.")
    if not rec.suggested and diverged is not None:
        rec.notes.append(f"No early-stopping settings for the next run: {diverged[1]}, and before that "
                         f"{primary.name} is too short or moves too steadily to show its noise apart from its trend. Fix the "
                         "divergence first.")
    from .advice import callbacks, checkpoint_hint, curvecheck_callback

    rec.keep_hint = checkpoint_hint(run, x[kept])
    if rec.suggested:  # the same settings, spelled in the log's own framework
        rec.suggested.update(callbacks(run, primary.name, direction, rec.suggested["patience"],
                                       rec.suggested["min_delta"], max(2, rec.suggested["patience"] // 2)))
        own_rule = curvecheck_callback(rec.suggested["framework"], primary.name)
        if own_rule:  # curvecheck's own rule as a callback (Keras and Lightning only)
            rec.suggested["curvecheck_callback"] = own_rule
    if checkpoint_template:
        values = {s.name: float(s.values[kept]) for s in run.signals()
                  if s.x.shape == x.shape and np.array_equal(s.x, x)}
        rec.checkpoint = checkpoint_path(checkpoint_template, x[kept], run.epoch_base, values, run.framework)
    return rec


def _never_learned(run: Run, names: list[str], strategy: str) -> Recommendation | None:
    """No checkpoint for a run that never learned (CC104): nothing to keep, no settings to derive."""
    from .checks.base import RunContext
    from .checks.never_learned import NeverLearned

    if not NeverLearned.applicable(run):
        return None
    found = NeverLearned().findings(RunContext.of(run))  # the checks' own verdict when they ran with defaults
    if not found:
        return None
    return Recommendation(epoch=None, monitor=names, value={}, strategy=strategy, status="never_learned",
                          usable=False, epoch_base=run.epoch_base,
                          reason=f"No epoch to keep: the run never learned. {found[0].message}")


def _no_finite_monitor(run: Run, mons: list[tuple[Series, str]], strategy: str) -> Recommendation | None:
    """A monitor that is NaN or inf at every epoch: say so in one line instead of guessing an epoch."""
    dead = [s.name for s, _ in mons if not s.finite.any()]
    if not dead:
        return None
    return Recommendation(epoch=None, monitor=[s.name for s, _ in mons], value={}, strategy=strategy,
                          status="no_finite_monitor", usable=False, epoch_base=run.epoch_base,
                          reason=f"No epoch to keep: {', '.join(dead)} is NaN or inf at every {run.x_axis}.")


def _metric_hints(run: Run, primary: Series, x: np.ndarray, kept: int) -> list[str]:
    """With the default monitor (the loss), point at validation metrics that are clearly better elsewhere."""
    hints = []
    for s in run.signals():
        if (s.split != "val" or s is primary or s.kind == "loss" or s.direction not in ("min", "max")
                or s.x.shape != x.shape or not np.array_equal(s.x, x) or not s.finite.any()):
            continue
        b = _best(s, s.direction)
        scale = percent_scale(s.kind, s.values)
        if abs(b - kept) > 3 and abs(s.values[b] - s.values[kept]) >= 0.01 * scale:
            hints.append(f"{s.name} is best at {run.x_axis} {fx(x[b])} ({fmt(s.values[b])} vs {fmt(s.values[kept])} "
                         f"here): if that is what you report, use --monitor {s.name}.")
    return hints


def _fill_comparisons(rec: Recommendation, run: Run, mons, kept: int, smooth: float | None) -> None:
    x = mons[0][0].x
    for s, direction in mons:
        b = _best(s, direction)
        rec.best_epochs[s.name] = float(x[b])
        rec.cost[s.name] = float(abs(s.values[b] - s.values[kept]))
        sigma = noise_level(s.values)
        if b != kept and np.isfinite(sigma) and sigma > 0:
            gap = abs(s.values[b] - s.values[kept]) / sigma
            rec.notes.append(f"{s.name} at epoch {fx(x[kept])} is {fmt(s.values[kept])}; its raw best is "
                             f"{fmt(s.values[b])} at epoch {fx(x[b])} ({gap:.1f} noise sigmas away"
                             f"{', within noise' if gap <= 2 else ''}).")
    for s in run.signals():
        if s.split == "val" and s.name not in rec.monitor and s.x.shape == x.shape and np.array_equal(s.x, x):
            rec.others[s.name] = float(s.values[kept])
    if len(mons) > 1:
        for i, (a, da) in enumerate(mons):
            for b, db in mons[i + 1:]:
                ia, ib = _best(a, da, smooth), _best(b, db, smooth)
                if ia != ib:
                    rec.disagreement.append({
                        "monitors": [a.name, b.name], "best_epochs": [float(x[ia]), float(x[ib])],
                        f"{a.name}_loss_at_{b.name}_best": float(abs(a.values[ib] - a.values[ia])),
                        f"{b.name}_loss_at_{a.name}_best": float(abs(b.values[ia] - b.values[ib])),
                    })


def _points_word(x: np.ndarray, unit: str) -> str:
    """What a count of the monitor's points is: epochs when it has one per epoch, else evaluations
    (an eval every 500 steps, Lightning's check_val_every_n_epoch)."""
    if unit == "epoch" and x.shape[0] and int(round(x[-1] - x[0])) + 1 == x.shape[0]:
        return "epochs"
    return "evaluations"


def _fill_stop(rec: Recommendation, run: Run, mons, result: StopResult, x, kept: int, hindsight: int,
               strategy: str, live: bool) -> None:
    primary = mons[0][0]
    n = x.shape[0]
    what = "the combined score" if len(mons) > 1 else primary.name
    unit = run.x_axis
    if result.stopped:
        rec.stop_epoch = float(x[result.stop_index])
        rec.saved_epochs = n - 1 - result.stop_index
    head = (f"{what} is best at {unit} {fx(x[kept])}" + (f" ({fmt(primary.values[kept])})" if len(mons) == 1 else ""))
    if strategy != "auto":
        head = f"{strategy} early stopping keeps {unit} {fx(x[kept])} ({primary.name} {fmt(primary.values[kept])})"
        if kept != hindsight:
            lost = abs(primary.values[hindsight] - primary.values[kept])
            head += (f"; the best in hindsight is {unit} {fx(x[hindsight])} ({fmt(primary.values[hindsight])}), "
                     f"so it would cost {fmt(lost)} of {primary.name}")
    if live and result.stopped:
        rec.status = "stop_now"
        rec.reason = (f"{head}. Stop now: the {strategy} rule would have stopped at {unit} {fx(x[result.stop_index])}"
                      f" ({result.reason or 'patience exhausted'}).")
    elif live:
        rec.status = "continue"
        rec.reason = f"{head}. Continue: no stop signal yet from the {strategy} rule."
    elif primary.split != "val" and not any(s.split == "val" for s in run.signals()):
        # a training loss keeps falling as the model memorises: a stop rule on it says nothing about the
        # checkpoint to keep (a rule that fired before a 600x drop in the loss would read as advice)
        rec.reason = f"{head}. No stop rule is applied to a training curve (there is no validation curve)."
        rec.stop_epoch, rec.saved_epochs = None, 0
    elif result.stopped:
        rec.reason = (f"{head}. The {strategy} rule would have stopped at {unit} {fx(x[result.stop_index])}, saving "
                      f"{rec.saved_epochs} of {n} {_points_word(x, unit)} ({result.reason or 'patience exhausted'}).")
    else:
        rec.reason = f"{head}. The {strategy} rule would not have stopped before the end of the log."
    if strategy == "keras" and run.epoch_base == 0 and run.x_axis == "epoch" and run.framework == "keras":
        rec.notes.append(f"Keras prints and ModelCheckpoint names this epoch {fx(x[kept] + 1)} (1-based); "
                         f"CSVLogger writes {fx(x[kept])}.")


def _threshold(run: Run, conditions: list[str], patience: int | None,
               template: str | None) -> Recommendation:
    rule = ThresholdRule(conditions) if patience is None else ThresholdRule(conditions, patience=patience)
    series = []
    for name, _op, _v in rule.conditions:
        if name not in run.series:
            raise UsageError(f"{run.source}: no series '{name}' for --when")
        series.append(run.series[name])
    x = series[0].x
    for s in series[1:]:
        if not np.array_equal(s.x, x):
            raise UsageError("--when series must be logged at the same epochs")
    rows = [{s.name: float(v) for s, v in zip(series, vals)} for vals in zip(*(s.values for s in series))]
    for row in rows:
        if rule.update(row):
            break
    stop, patience = rule.stop_index, rule.patience
    text = " and ".join(rule.params["when"])
    names = [s.name for s in series]
    if stop is None:
        reason = (f"{text} never held for {patience} consecutive {run.x_axis}(s) "
                  f"(held on {rule.held_total} {run.x_axis}(s) in all).")
        return Recommendation(epoch=None, monitor=names, value={}, strategy="threshold", reason=reason,
                              epoch_base=run.epoch_base, params=rule.params)
    rec = Recommendation(epoch=float(x[stop]), monitor=names, value={s.name: float(s.values[stop]) for s in series},
                         strategy="threshold", stop_epoch=float(x[stop]), saved_epochs=x.shape[0] - 1 - stop,
                         reason=(f"{text} held for {patience} consecutive {run.x_axis}(s) at {run.x_axis} "
                                 f"{fx(x[stop])}: stop there, saving {x.shape[0] - 1 - stop} {run.x_axis}s."),
                         epoch_base=run.epoch_base, params=rule.params)
    from .advice import checkpoint_hint

    rec.keep_hint = checkpoint_hint(run, x[stop])
    if template:
        rec.checkpoint = checkpoint_path(template, x[stop], run.epoch_base,
                                         {s.name: float(s.values[stop]) for s in series}, run.framework)
    return rec
