from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, setting


def prechelt_gl(val_loss: np.ndarray) -> np.ndarray:
    """Prechelt's generalisation loss GL(t) = 100 * (E_va(t) / min_{t'<=t} E_va(t') - 1)."""
    best = np.minimum.accumulate(val_loss)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (val_loss / best - 1.0)


class Overfitting(Check):
    """The validation loss (or metric) turns worse while the training curve keeps improving.

    What it detects: the best epoch of the 5-epoch running median of the validation curve (the
    *onset*; one noisy epoch neither triggers nor hides it), and a validation level at the end (the
    mean of the last ``tail`` epochs) worse than at the onset by more than ``k_sigma`` standard
    errors of those averages (from the curve's noise level) and more than ``min_rel_rise`` of the
    best value, while the training curve improved by more than ``k_sigma`` of its own standard
    errors over the same epochs, with at least ``min_after`` epochs after the onset. Uses the main loss pair (``loss``/``val_loss``); without validation loss,
    the first train/val metric pair. Reports the onset epoch, the train/val gap at the onset and at
    the end, how fast the gap grows, and Prechelt's GL (generalisation loss, in %) at the end with
    the epoch where GL first exceeded 5.

    Why it matters: after the onset, every epoch fits the training set better and the validation
    set worse. The checkpoint to keep is at (or near) the onset, not the last one.

    What to do: keep the checkpoint from the onset epoch (``EarlyStopping(restore_best_weights=True)``
    or ``ModelCheckpoint(save_best_only=True)``); add regularisation (dropout, weight decay, data
    augmentation) or more data; stop earlier. If a validation *metric* still improves while the
    validation *loss* rises, the model is becoming over-confident rather than worse: see CC204.

    Example: ``val_loss turned worse after epoch 11 (0.31 -> 0.35, +11%) while loss kept falling
    (0.0019 -> 0.00016). The gap grew from 0.30 to 0.35 (+0.001 per epoch); GL at the end = 10.8.``
    """

    code = "CC201"
    name = "overfitting"
    kind = "overfitting"
    severity = "warning"
    min_points = 8

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(3.0, "deterioration of val and improvement of train, in multiples of each one's noise")
        min_rel_rise: float = setting(0.02, "deterioration of val as a share of its best value")
        min_after: int = setting(3, "epochs needed after the onset")
        tail: int = setting(5, "the end level is the mean of this many last epochs")

    def _pair(self, ctx: RunContext):
        train, val = ctx.primary_loss("train"), ctx.primary_loss("val")
        if train is not None and val is not None:
            return train, val
        for t, v in ctx.pairs():
            if t.kind != "loss" and v.direction != "none":
                return t, v
        return None, None

    def run(self, ctx: RunContext) -> list[Finding]:
        train_s, val_s = self._pair(ctx)
        val, train = ctx.curve(val_s), ctx.curve(train_s)
        if val is None or train is None or val.n < self.min_points or train.n < 3:
            return []
        onset = val.best_index()
        after = val.n - 1 - onset
        if after < self.settings.min_after:
            return []
        m = int(min(self.settings.tail, after))
        # onset level: the running median at the onset (about a 5-point average); end level: the mean
        # of the last m epochs. Their difference is judged against the noise of such averages.
        val_drop = val.trend[onset] - val.window_mean(m)
        se_val = val.sigma * np.sqrt(1 / m + 1 / 5)
        need_val = max(self.settings.k_sigma * se_val, self.settings.min_rel_rise * abs(val.trend[onset]))
        train_on_val_x = np.interp(val.x, train.x, train.goodness)
        train_gain = float(np.mean(train_on_val_x[-m:]) - np.interp(val.x[onset], train.x, train.trend))
        need_train = self.settings.k_sigma * train.sigma * np.sqrt(1 / m + 1 / 5)
        if not (val_drop > need_val and train_gain > need_train):
            return []
        return [self._finding(ctx, train, val, onset, val_drop, train_gain, need_val)]

    def _finding(self, ctx: RunContext, train: Curve, val: Curve, onset: int, val_drop: float,
                 train_gain: float, need_val: float) -> Finding:
        unit = ctx.x_axis
        x_on, x_end = val.x[onset], val.x[-1]
        m = int(min(self.settings.tail, val.n - 1 - onset))
        v_on, v_end = val.sign * val.trend[onset], val.sign * val.window_mean(m)
        t_on = train.sign * np.interp(x_on, train.x, train.trend)
        t_end = train.sign * np.interp(x_end, train.x, train.trend)
        gap = np.interp(val.x, train.x, train.goodness) - val.goodness  # > 0: val behind train
        after = slice(onset, None)
        growth = float(np.polyfit(val.x[after], gap[after], 1)[0]) if val.n - onset >= 3 else np.nan
        rel = val_drop / abs(val.trend[onset]) if val.trend[onset] else np.nan
        msg = (f"{val.name} turned worse after {unit} {fx(x_on)} ({fmt(v_on)} -> {fmt(v_end)} averaged over the "
               f"last {m} {unit}s, {rel:+.0%}) while {train.name} kept improving "
               f"({fmt(t_on)} -> {fmt(t_end)}). The gap grew from {fmt(gap[onset])} to {fmt(gap[-1])} "
               f"({fmt(growth)} per {unit}).")
        evidence = {"onset_epoch": x_on, "val_at_onset": v_on, "val_at_end": v_end,
                    "val_deterioration": val_drop, "threshold": need_val, "val_noise_sigma": val.sigma,
                    "train_improvement_after_onset": train_gain, "train_noise_sigma": train.sigma,
                    "gap_at_onset": gap[onset], "gap_at_end": gap[-1], "gap_growth_per_epoch": growth,
                    "raw_best_epoch": val.x[val.best_index(smoothed=False)]}
        if val.series.kind == "loss" and (val.values > 0).all():
            gl = prechelt_gl(val.values)
            over5 = np.nonzero(gl > 5)[0]
            evidence["prechelt_gl_at_end"] = gl[-1]
            evidence["gl5_stop_epoch"] = val.x[over5[0]] if over5.size else None
            msg += f" Prechelt's GL at the end = {gl[-1]:.1f}%"
            msg += f" (GL > 5 first at {unit} {fx(val.x[over5[0]])})." if over5.size else "."
        still = self._metric_still_improving(ctx, val, onset)
        advice = (f"Keep the checkpoint from {unit} {fx(x_on)} (EarlyStopping(restore_best_weights=True) or "
                  f"ModelCheckpoint(save_best_only=True)); add regularisation (dropout, weight decay, augmentation) "
                  f"or more data.")
        if still:
            msg += f" Meanwhile {still} still improves: see CC204."
            evidence["metric_still_improving"] = still
            advice += (f" Since {still} still improves, the model is growing over-confident rather than worse: "
                       f"choose the checkpoint by {still}.")
        return self.finding(series=[train.name, val.name], epochs={"start": x_on, "end": x_end},
                            message=msg, evidence=evidence, advice=advice)

    def _metric_still_improving(self, ctx: RunContext, val: Curve, onset: int) -> str | None:
        if val.series.kind != "loss":
            return None
        for m in ctx.metrics("val"):
            c = ctx.curve(m)
            if c is None or c.n != val.n:
                continue
            best = c.best_index()
            if best > onset + self.settings.min_after and c.trend[best] - c.trend[onset] > self.settings.k_sigma * c.sigma:
                return m.name
        return None
