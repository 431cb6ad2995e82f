from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from ..model import Series
from .base import BOUNDED_KINDS, Check, CheckSettings, RunContext, fmt, out_of_range, setting

# Ultralytics/YOLO component losses: training ones are computed on mosaic-augmented batches, so a lower
# validation loss is the rule there, not a warning sign
_YOLO_LOSS = re.compile(r"^(train|val)/(box|cls|dfl|obj|seg|sem)_loss$")


class SuspiciousValidation(Check):
    """Validation better than training by a wide margin for most of the run; a train metric NaN while val is finite.

    What it detects: (a) a train/val pair where the validation value is better than the training
    value by more than ``margin`` (absolute, for metrics in [0, 1]) or ``loss_margin`` (relative,
    for losses) on more than ``share`` of the epochs after the first; (b) a training metric that is
    NaN on every epoch while its validation twin is finite. Not judged: Ultralytics/YOLO component
    losses (training losses there are computed on mosaic-augmented batches, so validation is lower
    by design), and a metric that leaves [0, 1] (CC401 already calls it a bug).

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
        loss_margin: float = setting(
            0.4, "val loss below train loss by more than this share (losses; dropout alone gives ~0.2)")
        share: float = setting(0.6, "share of epochs (after the first) where the margin holds")

    @dataclass
    class Evidence(findings.Evidence):
        epochs_val_better: int  # epochs where validation beats training by more than the margin
        epochs_compared: int
        mean_margin: float  # val minus train in 'better' units (absolute for metrics, relative for losses)
        margin: float  # the margin that counts (absolute, or relative for losses)
        share_threshold: float  # share of epochs that must show it
        relative: bool  # the margin is a share of the training loss

    @dataclass
    class NanEvidence(findings.Evidence):
        train_non_finite: int
        val_finite: int

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for train, val in ctx.pairs():
            if train.direction == "none" or not len(train) or not len(val):
                continue
            if not train.finite.any() and val.finite.any():
                out.append(self._nan_train(ctx, train, val))
                continue
            if self._not_judged(train, val):
                continue
            f = self._val_better(ctx, train, val)
            if f:
                out.append(f)
        return out

    @staticmethod
    def _not_judged(train: Series, val: Series) -> bool:
        if _YOLO_LOSS.match(train.name) and _YOLO_LOSS.match(val.name):
            return True
        return any(out_of_range(s).any() for s in (train, val))

    def _nan_train(self, ctx, train, val) -> Finding:
        ev = self.NanEvidence(train_non_finite=len(train), val_finite=int(val.finite.sum()))
        msg = (f"{train.name} is NaN on every {ctx.x_axis} while {val.name} is finite on {ev.val_finite}: the metric "
               f"is undefined on some training batches.")
        return self.finding(series=[train.name, val.name], epochs={"start": train.x[0], "end": train.x[-1]},
                            message=msg, evidence=ev,
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
            need, relative = self.settings.margin * scale, False
            margin = sign * (v - t)
        elif train.kind == "loss" and (t > 0).all():
            need, relative = self.settings.loss_margin, True
            margin = (t - v) / t
        else:
            return None
        better = margin > need
        if better.mean() <= self.settings.share:
            return None
        ev = self.Evidence(epochs_val_better=int(better.sum()), epochs_compared=int(better.size),
                           mean_margin=float(np.mean(margin)), margin=need, share_threshold=self.settings.share,
                           relative=relative)
        return self.finding(series=[train.name, val.name], epochs={"start": val.x[1], "end": val.x[-1]},
                            message=self.message(ctx.x_axis, train.name, val.name, ev),
                            evidence=ev,
                            advice=("If dropout or augmentation act only in training this is expected; otherwise "
                                    "check for leakage between the splits and evaluate the training set in "
                                    "inference mode to compare like with like."))

    @staticmethod
    def message(unit: str, train: str, val: str, ev: SuspiciousValidation.Evidence) -> str:
        rule = f"by more than {ev.margin:.0%}" if ev.relative else f"by more than {ev.margin:g}"
        mean = f"{ev.mean_margin:.0%}" if ev.relative else fmt(ev.mean_margin)
        return (f"{val} is better than {train} {rule} on {ev.epochs_val_better} of {ev.epochs_compared} "
                f"{unit}s after the first (mean margin {mean}).")
