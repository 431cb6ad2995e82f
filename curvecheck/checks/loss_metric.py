from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, RunContext, fmt, fx, setting


class LossMetricDivergence(Check):
    """The validation loss and a validation metric disagree on which epoch is best.

    What it detects: the best epoch of the validation loss and of a validation metric (IoU, Dice,
    accuracy, F1, mAP...), both on 5-epoch running medians, at least ``min_epochs_apart`` apart, where each one is clearly worse at the
    other's best: the metric at the loss's best epoch is below its own best by more than
    ``k_sigma`` times the metric's noise, and the loss at the metric's best is above its own best
    by more than ``k_sigma`` times the loss's noise; the metric difference must also reach
    ``min_effect`` (a practical effect size). It also catches the loss still falling clearly over
    the second half while the metric, still below ``flat_below``, has not moved beyond noise. It says which checkpoint an early stop on the loss
    would have kept and what the metric was there.

    Why it matters: EarlyStopping and ModelCheckpoint monitor ``val_loss`` by default, but you
    report IoU, Dice or accuracy. When the two disagree, the loss-based checkpoint is the wrong
    one. A rising loss with a rising metric usually means over-confident predictions (the loss
    punishes confident mistakes) rather than worse masks or labels.

    What to do: monitor the metric you care about (``EarlyStopping(monitor='val_iou', mode='max')``,
    same for ModelCheckpoint); for segmentation, a Dice/IoU-based loss (or BCE + Dice) aligns the
    loss with the metric; label smoothing or calibration reduces over-confidence.

    Example: ``val_loss is best at epoch 11 but val_dice_coef keeps improving until epoch 77
    (0.844 -> 0.879). EarlyStopping on val_loss would have kept epoch 11.``
    """

    code = "CC204"
    name = "loss-metric-divergence"
    kind = "loss_metric_divergence"
    severity = "warning"
    min_points = 8

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(3.0, "how much worse (in noise sigmas) each curve must be at the other's best epoch")
        min_epochs_apart: int = setting(3, "minimum distance between the two best epochs")
        min_effect: float = setting(
            0.01, "minimum metric difference that matters (metrics in [0, 1]; 1 point of IoU/accuracy)")
        flat_below: float = setting(
            0.9, "the 'loss falls, metric flat' case is reported only while the metric is below this")

    def run(self, ctx: RunContext) -> list[Finding]:
        loss = ctx.curve(ctx.primary_loss("val"))
        if loss is None or loss.n < self.min_points or not np.isfinite(loss.sigma):
            return []
        out = []
        for m in ctx.metrics("val"):
            metric = ctx.curve(m)
            if metric is None or metric.n != loss.n or not np.array_equal(metric.x, loss.x):
                continue
            if metric.frozen_tail(5):
                continue  # a metric frozen at the end is CC205's case
            finding = self._disagree(ctx, loss, metric) or self._flat_metric(ctx, loss, metric)
            if finding:
                out.append(finding)
        return out

    def _effect(self, metric) -> float:
        """The smallest metric difference worth reporting: min_effect on [0, 1] metrics (x100 for percent)."""
        top = float(np.nanmax(np.abs(metric.values)))
        return self.settings.min_effect * (100.0 if top > 1.5 else 1.0)

    def _disagree(self, ctx, loss, metric) -> Finding | None:
        bl, bm = loss.best_index(), metric.best_index()
        if abs(bl - bm) < self.settings.min_epochs_apart:
            return None
        metric_loss_at_bl = metric.trend[bm] - metric.trend[bl]
        loss_loss_at_bm = loss.trend[bl] - loss.trend[bm]
        need_m, need_l = max(self.settings.k_sigma * metric.sigma, self._effect(metric)), self.settings.k_sigma * loss.sigma
        if not (metric_loss_at_bl > need_m and loss_loss_at_bm > need_l):
            return None
        unit = ctx.x_axis
        xl, xm = loss.x[bl], metric.x[bm]
        m_at_l, m_best = metric.sign * metric.trend[bl], metric.sign * metric.trend[bm]
        l_at_m, l_best = loss.sign * loss.trend[bm], loss.sign * loss.trend[bl]
        later = "keeps improving until" if xm > xl else "was already best at"
        msg = (f"{loss.name} is best at {unit} {fx(xl)} but {metric.name} {later} {unit} {fx(xm)} "
               f"({fmt(m_at_l)} at {unit} {fx(xl)} vs {fmt(m_best)}; smoothed). "
               f"An early stop on {loss.name} would have kept {unit} {fx(xl)}, losing "
               f"{fmt(abs(m_best - m_at_l))} of {metric.name}; at {metric.name}'s best the loss is "
               f"{fmt(l_at_m)} vs its best {fmt(l_best)}.")
        return self.finding(
            series=[loss.name, metric.name], epochs={"start": min(xl, xm), "end": max(xl, xm)}, message=msg,
            evidence={"loss_best_epoch": xl, "metric_best_epoch": xm, "metric_at_loss_best": m_at_l,
                      "metric_best": m_best, "loss_at_metric_best": l_at_m, "loss_best": l_best,
                      "metric_noise_sigma": metric.sigma, "loss_noise_sigma": loss.sigma, "k_sigma": self.settings.k_sigma},
            advice=(f"Monitor the metric you report: EarlyStopping(monitor='{metric.name}', mode='max') and the same "
                    f"for ModelCheckpoint. A loss that rises while {metric.name} improves usually means over-confident "
                    "predictions; a Dice/IoU-based loss (or BCE + Dice) or label smoothing aligns the two."))

    def _flat_metric(self, ctx, loss, metric) -> Finding | None:
        """Loss falls clearly over the second half while the metric does not move beyond noise."""
        half = loss.n // 2
        loss_gain = loss.trend[-1] - loss.trend[half]
        metric_move = abs(metric.trend[-1] - metric.trend[half])
        level = metric.sign * metric.trend[-1]
        if metric.sign < 0 or level >= self.settings.flat_below:
            return None  # a saturated metric with a loss still falling is normal (growing confidence)
        if loss_gain > 2 * self.settings.k_sigma * loss.sigma and metric_move <= metric.sigma and metric.sigma > 0:
            unit = ctx.x_axis
            msg = (f"{loss.name} keeps falling over the second half ({fmt(loss.sign * loss.trend[half])} -> "
                   f"{fmt(loss.sign * loss.trend[-1])} from {unit} {fx(loss.x[half])}) while {metric.name} "
                   f"does not move beyond its noise ({fmt(metric.sign * metric.trend[half])} -> "
                   f"{fmt(metric.sign * metric.trend[-1])}).")
            return self.finding(series=[loss.name, metric.name], epochs={"start": loss.x[half], "end": loss.x[-1]},
                                message=msg,
                                evidence={"loss_gain": loss_gain, "metric_change": metric_move,
                                          "metric_noise_sigma": metric.sigma},
                                advice=("The loss is improving on something the metric does not measure (confidence "
                                        "on already-correct samples, or the majority class): check class balance "
                                        "and the metric's threshold."))
        return None
