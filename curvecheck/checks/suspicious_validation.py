from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import BOUNDED_KINDS, Check, CheckSettings, RunContext, fmt, setting


class SuspiciousValidation(Check):
    """Validation better than training by a wide margin for most of the run; a train metric NaN while val is finite.

    What it detects: (a) a train/val pair where the validation value is better than the training
    value by more than ``margin`` (absolute, for metrics in [0, 1]) or ``loss_margin`` (relative,
    for losses) on more than ``share`` of the epochs after the first; (b) a training metric that is
    NaN on every epoch while its validation twin is finite.

    Why it matters: some gap in favour of validation is normal when dropout or augmentation act
    only in training, or because Keras averages the training metric over an epoch in which the
    weights improve while validation is measured at its end. A wide, persistent gap can also mean
    leakage (validation samples in the training set), a much easier validation set, or the two
    being computed differently. A train metric that is always NaN while validation is finite is
    undefined on some training batch (e.g. an empty mask in a Dice without smoothing).

    What to do: check for leakage (duplicates across splits, same patient or scene in both);
    compare the metric on the training set in inference mode (``model.evaluate`` on train data);
    if it is dropout/augmentation, nothing is wrong. For the NaN metric, add a smoothing term.

    Example: ``val_accuracy beats accuracy by more than 0.05 on 8 of 9 epochs (mean margin 0.16).``
    """

    code = "CC302"
    name = "suspicious-validation"
    kind = "suspicious_validation"
    severity = "warning"
    min_points = 4

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        margin: float = setting(0.05, "val better than train by more than this (metrics in [0, 1])")
        loss_margin: float = setting(0.2, "val loss below train loss by more than this share (losses)")
        share: float = setting(0.6, "share of epochs (after the first) where the margin holds")

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for train, val in ctx.pairs():
            if train.direction == "none" or not len(train) or not len(val):
                continue
            if not train.finite.any() and val.finite.any():
                out.append(self._nan_train(ctx, train, val))
                continue
            f = self._val_better(ctx, train, val)
            if f:
                out.append(f)
        return out

    def _nan_train(self, ctx, train, val) -> Finding:
        msg = (f"{train.name} is NaN on every {ctx.x_axis} while {val.name} is finite: the metric is undefined on "
               f"some training batches.")
        return self.finding(series=[train.name, val.name], epochs={"start": train.x[0], "end": train.x[-1]},
                            message=msg, evidence={"train_non_finite": len(train), "val_finite": int(val.finite.sum())},
                            advice=("Add a smoothing term to the metric (e.g. (2*inter + 1) / (sum + 1) for Dice) so "
                                    "empty masks or batches without positives do not divide by zero."))

    def _val_better(self, ctx, train, val) -> Finding | None:
        if len(train) != len(val) or not np.array_equal(train.x, val.x) or len(train) < self.min_points:
            return None
        sign = 1.0 if train.direction == "max" else -1.0
        t, v = train.values[1:], val.values[1:]
        ok = np.isfinite(t) & np.isfinite(v)
        if ok.sum() < self.min_points - 1:
            return None
        t, v = t[ok], v[ok]
        if train.kind in BOUNDED_KINDS:
            scale = 100.0 if min(t.min(), v.min()) >= 1 and max(t.max(), v.max()) <= 100 else 1.0  # percentages
            better = sign * (v - t) > self.settings.margin * scale
            margin = sign * (v - t)
            rule = f"by more than {self.settings.margin * scale:g}" + (" (percentage points)" if scale > 1 else "")
        elif train.kind == "loss" and (t > 0).all():
            better = v < (1 - self.settings.loss_margin) * t
            margin = (t - v) / t
            rule = f"by more than {self.settings.loss_margin:.0%}"
        else:
            return None
        if better.mean() <= self.settings.share:
            return None
        msg = (f"{val.name} is better than {train.name} {rule} on {int(better.sum())} of {better.size} "
               f"{ctx.x_axis}s after the first (mean margin {fmt(float(np.mean(margin)))}).")
        return self.finding(series=[train.name, val.name], epochs={"start": val.x[1], "end": val.x[-1]},
                            message=msg,
                            evidence={"epochs_val_better": int(better.sum()), "epochs_compared": int(better.size),
                                      "mean_margin": float(np.mean(margin)), "share_threshold": self.settings.share},
                            advice=("If dropout or augmentation act only in training this is expected; otherwise "
                                    "check for leakage between the splits and evaluate the training set in "
                                    "inference mode to compare like with like."))
