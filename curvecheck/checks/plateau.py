from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, lr_drops, setting, slope_t
from .stuck_metric import frozen_while_loss_moves


class Plateau(Check):
    """No improvement beyond noise over the last epochs, for training and validation separately.

    What it detects: for every loss and metric, the last epoch where the curve beat its previous
    significant best by more than ``k_sigma`` times its noise level and ``min_rel`` of its value
    (for near-noiseless curves). If that was at least
    ``min_epochs`` epochs and ``min_share`` of the run ago, the curve has stalled. Progress made of
    many small steps still counts (each is compared with the last *significant* best, and a stall
    whose regression slope still improves with a t statistic above ``progress_t``, by at least
    ``progress_share`` of the
    run's improvement, is slow progress), and a curve that got clearly worse is left to the
    overfitting and divergence checks. The finding says
    whether the learning rate was reduced during the stall or sits at its minimum; stalls longer
    than ``warn_share`` of the run are warnings, shorter ones info. A long stall in
    the middle of the run that was followed by real improvement is reported too (info): it tells
    how much patience an early stop needs.

    Why it matters: epochs on a plateau cost compute and change nothing. A validation plateau
    with a training curve still improving is the run starting to memorise.

    What to do: stop (EarlyStopping on the validation curve), or reduce the learning rate when it
    has not been reduced yet (ReduceLROnPlateau); if the LR already sits at its floor, more epochs
    will not help: change the model, the data or the schedule (warm restarts).

    Example: ``val_loss has not improved beyond noise (sigma 0.002) since epoch 20: 79 of 100
    epochs. The learning rate was cut at epochs 7 and 13 and has been 1e-05 (its minimum) since.``
    """

    code = "CC202"
    name = "plateau"
    kind = "plateau"
    severity = "warning"
    min_points = 10

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(
            2.0, "an improvement counts when it beats the last significant best by this many noise sigmas")
        min_epochs: int = setting(8, "minimum stall length in epochs")
        min_share: float = setting(0.25, "minimum stall length as a share of the run")
        warn_share: float = setting(0.5, "stalls longer than this share of the run are warnings, shorter ones info")
        min_rel: float = setting(
            0.001, "an improvement must also exceed this share of the value (for near-noiseless curves)")
        progress_t: float = setting(
            2.5, "a stall whose regression slope still improves with this t statistic is slow progress")
        progress_share: float = setting(
            0.05, "... provided that progress adds up to this share of the run's improvement")

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for split in ("val", "train"):
            stalled = []
            for s in ctx.losses(split) + ctx.metrics(split):
                c = ctx.curve(s)
                if (c is None or c.n < self.min_points or not np.isfinite(c.sigma) or c.at_ceiling
                        or frozen_while_loss_moves(ctx, c)):
                    continue
                res = self._stall(c)
                if res is not None:
                    stalled.append((s, c, *res))
            if stalled:
                out.append(self._end_finding(ctx, split, stalled))
        out.extend(self._mid_run_stall(ctx))
        return out

    def _stall(self, c: Curve):
        bests = c.significant_bests(self.settings.k_sigma, self.settings.min_rel)
        last = bests[-1]
        length = c.n - 1 - last
        if length < max(self.settings.min_epochs, self.settings.min_share * c.n):
            return None
        rest = c.goodness[last + 1:]
        # clearly worse than at the last best: overfitting / divergence, not a plateau
        if c.goodness[last] - np.mean(rest) > self.settings.k_sigma * c.sigma * np.sqrt(1 + 1 / rest.size) * 1.5:
            return None
        # many small steps in the same direction: slow progress, not a plateau
        slope, t = slope_t(c.x[last:], c.goodness[last:])
        gain = slope * (c.x[-1] - c.x[last])
        total = float(np.nanmax(c.trend) - c.trend[0])
        if (t > self.settings.progress_t and gain > self.settings.min_rel * abs(c.goodness[last])
                and gain >= self.settings.progress_share * max(total, 0.0)):
            return None
        return last, length

    def _end_finding(self, ctx: RunContext, split: str, stalled: list) -> Finding:
        unit = ctx.x_axis
        s, c, last, length = stalled[0]
        x_last = c.x[last]
        share = length / c.n
        msg = (f"{s.name} has not improved beyond noise (sigma {fmt(c.sigma)}) since {unit} {fx(x_last)}: "
               f"{length} of {c.n} {unit}s.")
        if len(stalled) > 1:
            msg += " Also stalled: " + ", ".join(f"{o[0].name} (since {fx(o[1].x[o[2]])})" for o in stalled[1:6]) + "."
        lr = lr_drops(ctx, x_last, c.x[-1])
        evidence = {"last_significant_best_epoch": x_last, "stalled_epochs": length, "share_of_run": share,
                    "noise_sigma": c.sigma, "k_sigma": self.settings.k_sigma,
                    "also_stalled": [o[0].name for o in stalled[1:]],
                    "stalled_since": {o[0].name: o[1].x[o[2]] for o in stalled}}
        at_floor = lr["has_lr"] and lr["last"] <= lr["min"] and lr["first"] > lr["last"]
        if lr["has_lr"] and lr["smooth"] and lr["in_window"]:
            a, b = lr["in_window"]
            msg += f" The learning rate went from {fmt(a)} to {fmt(b)} during the stall (smooth schedule)."
        elif lr["drops"]:
            msg += (f" The learning rate was cut at {unit}(s) {', '.join(fx(d) for d in lr['drops'])} during the "
                    f"stall without effect.")
            evidence["lr_drops_during_stall"] = lr["drops"]
        if at_floor and not lr["smooth"]:
            msg += f" The learning rate is at its minimum ({fmt(lr['last'])})."
            evidence["lr_at_floor"] = lr["last"]
            advice = ("The learning rate is already at its floor: more epochs will not help. Stop here, or change "
                      "the schedule (warm restarts), the model or the data.")
        elif lr["has_lr"] and not lr["drops"] and not lr["smooth"]:
            advice = ("Reduce the learning rate on plateaus (ReduceLROnPlateau(monitor='val_loss', factor=0.2, "
                      "patience=5)) or stop (EarlyStopping).")
        else:
            advice = "Stop earlier (EarlyStopping on the validation curve) or try a different schedule."
        if split == "train":
            advice = "The training curve itself has stalled: " + advice[0].lower() + advice[1:]
        return self.finding(series=[o[0].name for o in stalled], epochs={"start": x_last, "end": c.x[-1]},
                            message=msg, evidence=evidence, advice=advice,
                            severity="warning" if share >= self.settings.warn_share else "info")

    def _mid_run_stall(self, ctx: RunContext) -> list[Finding]:
        """The longest stall on the monitored validation curve that ended with real improvement."""
        s = ctx.primary_loss("val") or next(iter(ctx.metrics("val")), None)
        c = ctx.curve(s)
        if c is None or c.n < self.min_points or not np.isfinite(c.sigma):
            return []
        bests = c.significant_bests(self.settings.k_sigma, self.settings.min_rel)
        if len(bests) < 2:
            return []
        gaps = np.diff(bests)
        i = int(np.argmax(gaps))
        length = int(gaps[i])
        if length < max(self.settings.min_epochs, 0.2 * c.n):
            return []
        a, b = bests[i], bests[i + 1]
        unit = ctx.x_axis
        msg = (f"{s.name} stalled for {length} {unit}s ({unit}s {fx(c.x[a])}-{fx(c.x[b])}) and then improved again "
               f"({fmt(c.values[a])} -> {fmt(c.values[b])}): early stopping with patience below {length} would have "
               f"stopped inside this plateau.")
        return [self.finding(series=[s.name], epochs={"start": c.x[a], "end": c.x[b]}, message=msg,
                             evidence={"stall_epochs": length, "value_before": c.values[a], "value_after": c.values[b],
                                       "noise_sigma": c.sigma},
                             advice=f"Use patience of at least {length + 2} {unit}s for this kind of run.",
                             severity="info")]
