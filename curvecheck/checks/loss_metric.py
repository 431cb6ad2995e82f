from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, setting, slope_t


def aligned(a: Curve, b: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Indices into ``a`` and ``b`` of the x values both have (first occurrence), and those x values."""
    xs, ia, ib = np.intersect1d(a.x, b.x, return_indices=True)
    return (ia, ib, xs) if xs.shape[0] >= 3 else None


def _around(values: np.ndarray, i: int, half: int = 1) -> float:
    """Mean of a point and its ``half`` neighbours on each side (fewer at the ends): a single lucky epoch
    counts a third. Not the 5-point running median: with 5 evaluations that is one number for the whole run."""
    return float(np.mean(values[max(0, i - half):i + half + 1]))


class LossMetricDivergence(Check):
    """The validation loss and a validation quality metric disagree on which epoch is best.

    What it detects: the validation loss (for component losses such as YOLO's, their sum) and each
    validation quality metric (IoU/Jaccard, Dice, mAP50-95, accuracy/top-1, F1, AUC; not precision or
    recall alone, which depend on a threshold), compared on
    the epochs both were logged, on the raw values (what ModelCheckpoint keeps) and on 5-epoch running
    medians. It reports a disagreement when the metric at the loss's best epoch is below the
    metric's own best by more than ``k_sigma`` times the metric's noise and ``min_effect`` (a practical
    effect size), also on the means of 3 evaluations around those two epochs (on a flat noisy stretch the raw bests fall
    at random epochs, and the best of many noisy points beats a typical one by several sigma), the two bests are
    at least ``min_epochs_apart`` apart, and the disagreement lasts:
    on at least ``min_share`` of the run the metric is clearly better than at the loss's best (an
    early stop on the loss loses it), or the loss is clearly better than at the metric's best (the
    loss keeps improving while the metric does not). A disagreement confined to the first epochs
    does not count. It also catches the loss still falling clearly over the second half while the
    metric, still below ``flat_below``, has not moved beyond noise and shows no upward trend (regression
    slope t below ``flat_max_t``). It says which checkpoint an early stop on the loss would have kept and
    what the metric was there.

    Why it matters: EarlyStopping and ModelCheckpoint monitor ``val_loss`` by default, but you
    report IoU, Dice or accuracy. When the two disagree, the loss-based checkpoint is the wrong
    one. A rising loss with a rising metric usually means over-confident predictions (the loss
    punishes confident mistakes) rather than worse masks or labels.

    What to do: monitor the metric you care about (Keras and Lightning ``EarlyStopping(monitor='val_iou',
    mode='max')``, same for ModelCheckpoint; Hugging Face ``metric_for_best_model``; Ultralytics picks
    ``best.pt`` by its fitness metric already); for segmentation, a Dice/IoU-based loss (or BCE + Dice) aligns the
    loss with the metric; label smoothing or calibration reduces over-confidence.

    Example: ``val_loss is best at epoch 11 but val_dice_coef keeps improving until epoch 77
    (0.844 -> 0.879). EarlyStopping on val_loss would have kept epoch 11.``
    """

    code = "CC204"
    name = "loss-metric-divergence"
    kind = "loss_metric_divergence"
    severity = "warning"
    min_points = 8
    min_evals = 5  # validation points needed when evaluations are sparser than the log (per-step logs)

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(3.0, "how much worse (in noise sigmas) the metric must be at the loss's best epoch")
        min_epochs_apart: int = setting(3, "minimum distance between the two best epochs")
        min_effect: float = setting(
            0.01, "minimum metric difference that matters (metrics in [0, 1]; 1 point of IoU/accuracy)")
        min_share: float = setting(1 / 3, "the disagreement must last at least this share of the run")
        flat_below: float = setting(
            0.9, "the 'loss falls, metric flat' case is reported only while the metric is below this")
        flat_max_t: float = setting(
            2.0, "... and while the metric's regression slope over the second half has a t statistic below this "
                 "(a noisy metric still climbing is not flat)")

    @dataclass
    class Evidence(findings.Evidence):
        loss_best_epoch: float
        metric_best_epoch: float
        metric_at_loss_best: float
        metric_best: float
        loss_at_metric_best: float
        loss_best: float
        metric_noise_sigma: float
        loss_noise_sigma: float
        k_sigma: float
        threshold: float  # the metric difference that counts (max of k_sigma noise and min_effect)
        basis: str  # "raw" (what a checkpoint keeps) or "smoothed" (5-epoch running medians)
        disagreement_epochs: int  # epochs on which one is clearly better than at the other's best
        epochs_compared: int

    @dataclass
    class FlatEvidence(findings.Evidence):
        loss_gain: float  # improvement of the loss over the second half (smoothed)
        metric_change: float  # absolute change of the metric over the same epochs (smoothed)
        metric_noise_sigma: float
        threshold: float  # the loss improvement that counts as clear (2 k_sigma loss noise)

    def run(self, ctx: RunContext) -> list[Finding]:
        loss = ctx.curve(ctx.primary_loss("val"))
        if loss is None or loss.n < self.min_evals or not np.isfinite(loss.sigma):
            return []
        out = []
        for m in ctx.quality_metrics("val"):
            metric = ctx.curve(m)
            if metric is None or metric.n < self.min_evals or not np.isfinite(metric.sigma):
                continue
            finding = self._disagree(ctx, loss, metric) or self._flat_metric(ctx, loss, metric)
            if finding:
                out.append(finding)
        return out

    def _effect(self, metric: Curve) -> float:
        """The smallest metric difference worth reporting: min_effect on [0, 1] metrics (x100 for percent)."""
        top = float(np.nanmax(np.abs(metric.values)))
        return self.settings.min_effect * (100.0 if top > 1.5 else 1.0)

    def _disagree(self, ctx: RunContext, loss: Curve, metric: Curve) -> Finding | None:
        pairs = aligned(loss, metric)
        if pairs is None or pairs[2].shape[0] < self.min_evals:
            return None
        il, im, xs = pairs
        for basis in ("raw", "smoothed"):
            lg = (loss.goodness if basis == "raw" else loss.trend)[il]
            mg = (metric.goodness if basis == "raw" else metric.trend)[im]
            ev = self._judge(xs, lg, mg, loss, metric, basis)
            if ev is not None:
                return self._finding(ctx, loss, metric, ev)
        return None

    def _judge(self, xs, lg, mg, loss: Curve, metric: Curve, basis: str) -> LossMetricDivergence.Evidence | None:
        st = self.settings
        bl, bm = int(np.argmax(lg)), int(np.argmax(mg))  # first on ties
        lasting_need = math.ceil(st.min_share * xs.shape[0])
        if abs(bl - bm) < min(st.min_epochs_apart, lasting_need):
            return None
        need_m = max(st.k_sigma * metric.sigma, self._effect(metric))
        if mg[bm] - mg[bl] <= need_m:
            return None  # a checkpoint on the loss loses nothing that matters
        # how long the disagreement lasts, on the smoothed curves (one lucky epoch is not a disagreement)
        mt, lt = metric.trend[np.searchsorted(metric.x, xs)], loss.trend[np.searchsorted(loss.x, xs)]
        if basis == "raw" and _around(mg, bm) - _around(mg, bl) <= need_m:
            # the difference is not there around the two epochs, only at them: on a flat noisy stretch the raw
            # bests of two curves fall at random epochs, often far apart, and the best of many noisy points
            # beats a typical one by several sigma
            return None
        metric_better = int(np.sum(mt > mt[bl] + need_m))
        loss_better = int(np.sum(lt > lt[bm] + st.k_sigma * loss.sigma))
        lasting = max(metric_better, loss_better, abs(bl - bm))  # the bests far apart: it lasted that long
        if lasting < lasting_need:
            return None
        return self.Evidence(
            loss_best_epoch=float(xs[bl]), metric_best_epoch=float(xs[bm]),
            metric_at_loss_best=float(metric.sign * mg[bl]), metric_best=float(metric.sign * mg[bm]),
            loss_at_metric_best=float(loss.sign * lg[bm]), loss_best=float(loss.sign * lg[bl]),
            metric_noise_sigma=metric.sigma, loss_noise_sigma=loss.sigma, k_sigma=st.k_sigma, threshold=need_m,
            basis=basis, disagreement_epochs=lasting, epochs_compared=int(xs.shape[0]))

    def _finding(self, ctx: RunContext, loss: Curve, metric: Curve, ev: LossMetricDivergence.Evidence) -> Finding:
        mode = "max" if metric.sign > 0 else "min"
        return self.finding(
            series=[loss.name, metric.name],
            epochs={"start": min(ev.loss_best_epoch, ev.metric_best_epoch),
                    "end": max(ev.loss_best_epoch, ev.metric_best_epoch)},
            message=self.message(ctx.x_axis, loss.name, metric.name, ev), evidence=ev,
            advice=(f"Monitor the metric you report: {_monitor_metric(ctx, metric.name, mode)}. A loss that rises "
                    f"while {metric.name} improves usually means over-confident predictions; "
                    + ("a Dice/IoU-based loss (or BCE + Dice) aligns the two."
                       if metric.series.kind in ("iou", "dice") else
                       "label smoothing aligns the two." if metric.series.kind == "accuracy" else
                       "the loss is not what the metric measures, so choose checkpoints by the metric.")))

    @staticmethod
    def message(unit: str, loss: str, metric: str, ev: LossMetricDivergence.Evidence) -> str:
        later = "keeps improving until" if ev.metric_best_epoch > ev.loss_best_epoch else "was already best at"
        basis = "" if ev.basis == "raw" else "; smoothed"
        return (f"{loss} is best at {unit} {fx(ev.loss_best_epoch)} but {metric} {later} {unit} "
                f"{fx(ev.metric_best_epoch)} ({fmt(ev.metric_at_loss_best)} at {unit} {fx(ev.loss_best_epoch)} vs "
                f"{fmt(ev.metric_best)}{basis}). An early stop on {loss} would have kept {unit} "
                f"{fx(ev.loss_best_epoch)}, losing {fmt(abs(ev.metric_best - ev.metric_at_loss_best))} of {metric}; "
                f"at {metric}'s best the loss is {fmt(ev.loss_at_metric_best)} vs its best {fmt(ev.loss_best)}. "
                f"They disagree on {ev.disagreement_epochs} of {ev.epochs_compared} {unit}s.")

    def _flat_metric(self, ctx: RunContext, loss: Curve, metric: Curve) -> Finding | None:
        """Loss falls clearly over the second half while the metric does not move beyond noise."""
        if metric.n != loss.n or not np.array_equal(metric.x, loss.x):
            return None
        half = loss.n // 2
        loss_gain = float(loss.trend[-1] - loss.trend[half])
        metric_move = float(abs(metric.trend[-1] - metric.trend[half]))
        level = metric.sign * metric.trend[-1]
        if metric.sign < 0 or level >= self.settings.flat_below:
            return None  # a saturated metric with a loss still falling is normal (growing confidence)
        need = 2 * self.settings.k_sigma * loss.sigma
        if not (loss_gain > need and metric_move <= metric.sigma and metric.sigma > 0):
            return None
        # two running medians agreeing within a sigma does not show a flat metric: a noisy one (accuracy on a small
        # validation set) that is still climbing does that too. Over the whole second half it must show no
        # significant upward trend.
        if slope_t(metric.x[half:], metric.goodness[half:])[1] > self.settings.flat_max_t:
            return None
        ev = self.FlatEvidence(loss_gain=loss_gain, metric_change=metric_move, metric_noise_sigma=metric.sigma,
                               threshold=need)
        unit = ctx.x_axis
        msg = (f"{loss.name} keeps falling over the second half ({fmt(loss.sign * loss.trend[half])} -> "
               f"{fmt(loss.sign * loss.trend[-1])} from {unit} {fx(loss.x[half])}) while {metric.name} "
               f"does not move beyond its noise ({fmt(metric.sign * metric.trend[half])} -> "
               f"{fmt(metric.sign * metric.trend[-1])}).")
        return self.finding(series=[loss.name, metric.name], epochs={"start": loss.x[half], "end": loss.x[-1]},
                            message=msg, evidence=ev,
                            advice=("The loss is improving on something the metric does not measure (confidence "
                                    "on already-correct samples, or the majority class): check class balance "
                                    "and the metric's threshold."))


def _monitor_metric(ctx: RunContext, metric: str, mode: str) -> str:
    from ..advice import callback_framework, monitor_metric

    return monitor_metric(callback_framework(ctx.run), metric, mode)
