from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from .base import LR_DROP_RATIO, LR_SMOOTH_SHARE, Check, CheckSettings, RunContext, fmt, fx, lr_profile, setting


class LRSchedule(Check):
    """How the monitored curve responded to each learning-rate drop; an LR stuck at its floor.

    What it detects: drops in the ``lr``/``learning_rate`` column (a fall of more than
    ``drop_ratio``), as ReduceLROnPlateau or a step schedule make them. For each drop it compares
    the best value of the monitored curve (validation loss, else a validation metric) in the
    ``window`` epochs after the drop with the best before it: an improvement of more than
    ``k_sigma`` noise sigmas means the drop helped. It warns when the learning rate has sat at its
    final minimum for at least ``floor_share`` of the run while the monitored curve has not
    improved. Smooth schedules (cosine, exponential, warm-up: the LR changes at more than ``smooth_share``
    of the epochs) are summarised instead of analysed drop by drop. An LR that never falls by more
    than ``drop_ratio`` below its running peak (constant, warm-up only, a range test) is not reported.

    Why it matters: a drop that helps shows the model was limited by the step size; drops that do
    nothing show a plateau that a smaller LR cannot fix. At the floor, ReduceLROnPlateau cannot act
    any more and every further epoch is wasted.

    What to do: if drops help, the initial LR may be a bit high or the schedule can drop earlier;
    if they do not, stop at the plateau (EarlyStopping) rather than waiting for more drops; at
    the floor, stop or restart with a new schedule (warm restarts, a different LR).

    Example: ``learning_rate drops at epochs 7 (1e-03 -> 1e-04: val_loss improved 0.042, 6x noise,
    within 5 epochs) and 13 (1e-04 -> 1e-05: no improvement beyond noise).``
    """

    code = "CC301"
    name = "lr-schedule"
    kind = "lr_schedule"
    severity = "info"
    min_points = 5

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        drop_ratio: float = setting(LR_DROP_RATIO, "a fall of more than this share of the LR counts as a drop")
        window: int = setting(5, "epochs after a drop in which the response is measured")
        k_sigma: float = setting(2.0, "improvement after a drop, in noise sigmas, that counts as a response")
        floor_share: float = setting(0.2, "time at the final minimum LR (share of the run) that makes it a floor")
        smooth_share: float = setting(
            LR_SMOOTH_SHARE, "LR changing at more than this share of epochs is a smooth schedule")

    @dataclass
    class SmoothEvidence(findings.Evidence):
        first: float
        peak: float
        peak_epoch: float
        last: float

    @dataclass
    class Drop(findings.Evidence):
        epoch: float
        lr_before: float
        lr_after: float
        gain: float  # best after the drop (within the window) minus best before, in 'better' units
        helped: bool  # gain above threshold

    @dataclass
    class DropsEvidence(findings.Evidence):
        drops: list[LRSchedule.Drop]
        noise_sigma: float
        k_sigma: float
        window: int
        threshold: float  # the gain that counts as a response (k_sigma noise sigmas)

    @dataclass
    class FloorEvidence(findings.Evidence):
        lr_floor: float
        floor_since: float
        last_significant_best: float
        wasted_epochs: int
        noise_sigma: float

    def run(self, ctx: RunContext) -> list[Finding]:
        lr = ctx.lr
        if lr is None or lr.finite.sum() < self.min_points:
            return []
        x, v = lr.x[lr.finite], lr.values[lr.finite]
        changes, drops, smooth = lr_profile(v, self.settings.drop_ratio, self.settings.smooth_share)
        if changes.size == 0 or not self._decreases(v):
            return []  # constant, or only rising (warm-up, range test): no schedule to judge
        monitor = ctx.primary_loss("val") or next(iter(ctx.metrics("val")), None) or ctx.primary_loss("train")
        c = ctx.curve(monitor)
        if smooth:
            return [self._smooth(ctx, lr.name, x, v)]
        out = []
        if drops and c is not None and np.isfinite(c.sigma):
            out.append(self._drops(ctx, lr.name, x, v, drops, c))
        floor = self._floor(ctx, lr.name, x, v, c)
        if floor:
            out.append(floor)
        return out

    def _decreases(self, v: np.ndarray) -> bool:
        """The LR falls materially at some point: below (1 - drop_ratio) of its running peak."""
        return bool(np.any(v < (1 - self.settings.drop_ratio) * np.maximum.accumulate(v)))

    def _smooth(self, ctx, name, x, v) -> Finding:
        peak = int(np.argmax(v))
        shape = "warm-up then decay" if 0 < peak < len(v) - 1 else ("decaying" if v[-1] < v[0] else "rising")
        msg = (f"{name} follows a smooth schedule ({shape}): {fmt(v[0])} at {ctx.x_axis} {fx(x[0])}, "
               f"peak {fmt(v[peak])} at {fx(x[peak])}, {fmt(v[-1])} at the end.")
        return self.finding(series=[name], epochs={"start": x[0], "end": x[-1]}, message=msg,
                            evidence=self.SmoothEvidence(first=float(v[0]), peak=float(v[peak]),
                                                         peak_epoch=float(x[peak]), last=float(v[-1])),
                            advice="Nothing to do; drop-by-drop analysis applies to step schedules only.")

    def _drops(self, ctx, name, x, v, drops, c) -> Finding:
        unit = ctx.x_axis
        parts, evidence, helped = [], [], 0
        for i in drops:
            xd = x[i]
            before = c.goodness[c.x < xd]
            after = c.goodness[(c.x >= xd) & (c.x < xd + self.settings.window)]
            if before.size == 0 or after.size == 0:
                continue
            gain = float(after.max() - before.max())
            ok = gain > self.settings.k_sigma * c.sigma
            helped += ok
            times = f" ({gain / c.sigma:.1f}x noise)" if c.sigma > 0 else ""  # a noiseless curve has no ratio
            what = (f"{c.name} improved {fmt(gain)}{times} within {self.settings.window} {unit}s"
                    if ok else "no improvement beyond noise")
            parts.append(f"{fx(xd)} ({fmt(v[i - 1])} -> {fmt(v[i])}: {what})")
            evidence.append(self.Drop(epoch=float(xd), lr_before=float(v[i - 1]), lr_after=float(v[i]), gain=gain,
                                      helped=bool(ok)))
        msg = f"{name} drops at {unit}s " + "; ".join(parts) + "."
        if helped == 0:
            advice = ("The drops did not help: the curve was on a plateau a smaller step cannot fix. Stop at the "
                      "plateau (EarlyStopping) instead of waiting for more drops.")
        elif helped == len(parts):
            advice = "Every drop helped: the model was limited by the step size; dropping earlier may save epochs."
        else:
            advice = "Early drops helped, later ones did not: the later epochs were on a plateau."
        return self.finding(series=[name, c.name], epochs={"start": x[drops[0]], "end": x[drops[-1]]},
                            message=msg, evidence=self.DropsEvidence(
                                drops=evidence, noise_sigma=c.sigma, k_sigma=self.settings.k_sigma,
                                window=self.settings.window, threshold=self.settings.k_sigma * c.sigma),
                            advice=advice)

    def _floor(self, ctx, name, x, v, c) -> Finding | None:
        if c is None or not np.isfinite(c.sigma) or v[-1] > v.min() or v[-1] >= v[0]:
            return None
        at_floor = len(v) - 1
        while at_floor > 0 and v[at_floor - 1] == v[-1]:
            at_floor -= 1
        x_floor = x[at_floor]
        if len(v) - at_floor < max(3, self.settings.floor_share * len(v)):
            return None
        bests = c.significant_bests(self.settings.k_sigma)
        last_best_x = c.x[bests[-1]]
        if last_best_x > x_floor:
            return None
        unit = ctx.x_axis
        wasted = int(np.sum(c.x > max(last_best_x, x_floor)))
        msg = (f"{name} has been at its minimum {fmt(v[-1])} since {unit} {fx(x_floor)}, and {c.name} has not "
               f"improved beyond noise since {unit} {fx(last_best_x)}: the last {wasted} {unit}s changed nothing.")
        return self.finding(series=[name, c.name], epochs={"start": x_floor, "end": x[-1]}, message=msg,
                            evidence=self.FloorEvidence(lr_floor=float(v[-1]), floor_since=float(x_floor),
                                                        last_significant_best=float(last_best_x),
                                                        wasted_epochs=wasted, noise_sigma=c.sigma),
                            advice=("ReduceLROnPlateau cannot act below min_lr: stop here (EarlyStopping), or restart "
                                    "with a different schedule (warm restarts) or model."),
                            severity="warning")
