from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from ..signal import best_index, noise_level
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, setting, slope_t


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
    errors (or by ``min_train_rel`` of its level) over the same epochs, with at least ``min_after``
    epochs after the onset. A deterioration of at least ``clear_rel_rise`` of the best that is also
    a steady trend (regression slope t beyond ``k_sigma``) is judged against the noise after the
    onset alone (a short run's steep start inflates the whole-run noise). Uses the main
    loss pair (``loss``/``val_loss``; component losses such as YOLO's are summed); without validation
    loss, the first train/val metric pair. A per-step log with sparse evaluations is judged from 5
    evaluations on (the run itself must have 8 points). Reports the onset epoch, the train/val gap at
    the onset and at the end, how fast the gap grows, and Prechelt's GL (generalisation loss, in %) at the end with
    the epoch where GL first exceeded 5.

    Why it matters: after the onset, every epoch fits the training set better and the validation
    set worse. The checkpoint to keep is at (or near) the onset, not the last one.

    What to do: keep the best checkpoint, the raw best epoch of the validation curve at or near the
    onset, which the callbacks restore (Ultralytics: best.pt, by fitness) (Keras ``EarlyStopping(restore_best_weights=True)``
    or ``ModelCheckpoint(save_best_only=True)``; Lightning ``ModelCheckpoint(monitor=...)``; Hugging Face
    ``load_best_model_at_end=True``; Ultralytics ``weights/best.pt``); add regularisation (dropout, weight decay, data
    augmentation) or more data; stop earlier. If a validation *metric* still improves while the
    validation *loss* rises, the model is becoming over-confident rather than worse: choose the
    checkpoint by that metric.

    Example: ``val_loss turned worse after epoch 11 (0.31 -> 0.35, +11%) while loss kept falling
    (0.0019 -> 0.00016). The gap grew from 0.30 to 0.35 (+0.001 per epoch); GL at the end = 10.8.``
    """

    code = "CC201"
    name = "overfitting"
    kind = "overfitting"
    severity = "warning"
    min_points = 8
    min_evals = 5  # validation points needed when evaluations are sparser than the log (per-step logs)

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(3.0, "deterioration of val and improvement of train, in multiples of each one's noise")
        min_rel_rise: float = setting(0.02, "deterioration of val as a share of its best value")
        min_after: int = setting(3, "epochs needed after the onset")
        tail: int = setting(5, "the end level is the mean of this many last epochs")
        min_train_rel: float = setting(
            0.25, "a training curve that improved by this share of its level after the onset improved enough")
        clear_rel_rise: float = setting(
            0.15, "a deterioration of this share of the best is judged against the noise after the onset alone "
                  "(short runs, whose steep first epochs inflate the whole run's noise)")

    @dataclass
    class Evidence(findings.Evidence):
        onset_epoch: float  # best epoch of the smoothed validation curve
        val_at_onset: float
        val_at_end: float  # mean of the last epochs
        val_deterioration: float  # onset minus end, in 'better' units
        threshold: float  # the deterioration that counts
        val_noise_sigma: float
        train_improvement_after_onset: float
        train_noise_sigma: float
        gap_at_onset: float
        gap_at_end: float
        gap_growth_per_epoch: float
        raw_best_epoch: float
        end_epochs: int  # how many last epochs make the end level
        prechelt_gl_at_end: float | None = None
        gl5_stop_epoch: float | None = None
        metric_still_improving: str | None = None

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
        if val is None or train is None or val.n < self.min_evals or train.n < 3:
            return []
        onset = val.best_index()
        after = val.n - 1 - onset
        if after < self.settings.min_after:
            return []
        m = self._end_points(after)
        # onset level: the running median at the onset (about a 5-point average); end level: the mean
        # of the last m epochs. Their difference is judged against the noise of such averages.
        val_drop = val.trend[onset] - val.window_mean(m)
        need_val = self._needed_deterioration(val, onset, m, val_drop)
        train_on_val_x = np.interp(val.x, train.x, train.goodness)
        train_gain = float(np.mean(train_on_val_x[-m:]) - np.interp(val.x[onset], train.x, train.trend))
        need_train = self.settings.k_sigma * train.sigma * np.sqrt(1 / m + 1 / 5)
        # a training curve that fell by a large share of its level improved, whatever its noise estimate
        # (5 per-interval medians of a per-step loss give no usable one)
        onset_level = abs(float(np.interp(val.x[onset], train.x, train.trend)))
        need_train = min(need_train, self.settings.min_train_rel * onset_level) if onset_level else need_train
        if not (val_drop > need_val and train_gain > need_train):
            return []
        return [self._finding(ctx, train, val, onset, val_drop, train_gain, need_val)]

    def _end_points(self, after: int) -> int:
        """How many last points make the end level: ``tail``, but at most the later half of the points
        after the onset (averaging everything after it would let the onset's own level dilute the rise)."""
        return int(min(self.settings.tail, max(2, (after + 1) // 2)))

    def _needed_deterioration(self, val: Curve, onset: int, m: int, val_drop: float) -> float:
        """The deterioration that counts: ``k_sigma`` standard errors of the two averages and
        ``min_rel_rise`` of the best. The noise is the whole curve's; a deterioration of at least
        ``clear_rel_rise`` is judged against the noise after the onset instead (the steep first epochs
        of a short run inflate the whole-run noise many times, hiding a +40% rise in 10 epochs)."""
        level = abs(val.trend[onset])
        se = np.sqrt(1 / m + 1 / 5)
        need = max(self.settings.k_sigma * val.sigma * se, self.settings.min_rel_rise * level)
        clear = max(self.settings.clear_rel_rise, self.settings.min_rel_rise) * level
        if val_drop > need or val_drop < clear:
            return need
        # only a steady worsening: the running median also dips at the low points of an oscillating
        # stretch, and the calm epochs after it would then make any level look like a rise
        _slope, t = slope_t(val.x[onset:], val.goodness[onset:])
        if not t < -self.settings.k_sigma:
            return need
        calm = noise_level(val.values[onset:])
        if not np.isfinite(calm):
            return need
        return max(self.settings.k_sigma * calm * se, clear)

    def _finding(self, ctx: RunContext, train: Curve, val: Curve, onset: int, val_drop: float,
                 train_gain: float, need_val: float) -> Finding:
        unit = ctx.x_axis
        x_on, x_end = val.x[onset], val.x[-1]
        m = self._end_points(val.n - 1 - onset)
        v_on, v_end = val.sign * val.trend[onset], val.sign * val.window_mean(m)
        t_on = train.sign * np.interp(x_on, train.x, train.trend)
        t_end = train.sign * np.interp(x_end, train.x, train.trend)
        gap = np.interp(val.x, train.x, train.goodness) - val.goodness  # > 0: val behind train
        after = slice(onset, None)
        growth = float(np.polyfit(val.x[after], gap[after], 1)[0]) if val.n - onset >= 3 else np.nan
        ev = self.Evidence(
            onset_epoch=float(x_on), val_at_onset=float(v_on), val_at_end=float(v_end), val_deterioration=val_drop,
            threshold=need_val, val_noise_sigma=val.sigma, train_improvement_after_onset=train_gain,
            train_noise_sigma=train.sigma, gap_at_onset=float(gap[onset]), gap_at_end=float(gap[-1]),
            gap_growth_per_epoch=growth, raw_best_epoch=float(val.x[val.best_index(smoothed=False)]), end_epochs=m,
            metric_still_improving=self._metric_still_improving(ctx, val, onset))
        if val.series.kind == "loss" and (val.values > 0).all():
            gl = prechelt_gl(val.values)
            over5 = np.nonzero(gl > 5)[0]
            ev.prechelt_gl_at_end = float(gl[-1])
            ev.gl5_stop_epoch = float(val.x[over5[0]]) if over5.size else None
        # the checkpoint a callback restores is the raw best, which the recommendation names too
        from ..advice import callback_framework, keep_best

        keep = keep_best(callback_framework(ctx.run), val.name, "max" if val.sign > 0 else "min")
        keep_x = ev.raw_best_epoch
        own = ctx.run.series.get(ctx.run.meta.get("monitor", ""))
        if own is not None and own.finite.any():  # the framework keeps its best checkpoint by its own score
            index = best_index(own.values, own.direction)
            keep_x = float(own.x[index]) if index is not None else keep_x
            keep += f"; by {own.name}, best at {unit} {fx(keep_x)}"
        advice = (f"Keep the checkpoint from {unit} {fx(keep_x)} ({keep}); add regularisation "
                  f"(dropout, weight decay, augmentation) or more data.")
        if ev.metric_still_improving:
            advice += (f" Since {ev.metric_still_improving} still improves, the model is growing over-confident "
                       f"rather than worse: choose the checkpoint by {ev.metric_still_improving}.")
        return self.finding(series=[train.name, val.name], epochs={"start": x_on, "end": x_end},
                            message=self.message(unit, train, val, t_on, t_end, ev), evidence=ev, advice=advice)

    @staticmethod
    def message(unit: str, train: Curve, val: Curve, t_on: float, t_end: float, ev: Overfitting.Evidence) -> str:
        rel = ev.val_deterioration / abs(ev.val_at_onset) if ev.val_at_onset else np.nan
        smoothed = (f", the best of its 5-{unit} running median; raw best at {unit} {fx(ev.raw_best_epoch)}"
                    if ev.raw_best_epoch != ev.onset_epoch else "")
        msg = (f"{val.name} turned worse after {unit} {fx(ev.onset_epoch)}{smoothed} ({fmt(ev.val_at_onset)} -> "
               f"{fmt(ev.val_at_end)} averaged over the last {ev.end_epochs} {unit}s, {rel:+.0%}) while {train.name} "
               f"kept improving ({fmt(t_on)} -> {fmt(t_end)}). The gap grew from {fmt(ev.gap_at_onset)} to "
               f"{fmt(ev.gap_at_end)} ({fmt(ev.gap_growth_per_epoch)} per {unit}).")
        if ev.prechelt_gl_at_end is not None:
            msg += f" Prechelt's GL at the end = {ev.prechelt_gl_at_end:.1f}%"
            msg += f" (GL > 5 first at {unit} {fx(ev.gl5_stop_epoch)})." if ev.gl5_stop_epoch is not None else "."
        if ev.metric_still_improving:
            msg += f" Meanwhile {ev.metric_still_improving} still improves."
        return msg

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
