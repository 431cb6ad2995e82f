from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, RunContext, fmt, fx, lr_drops, setting


class Divergence(Check):
    """The training loss climbs far above its running best and stays there (without NaN).

    What it detects: a training loss (or, with no training loss, any loss) whose recent values all
    sit far above the best it reached earlier: more than ``rise_ratio`` times the distance between
    its first value and its best, and more than ``k_sigma`` times its noise level, for the last
    ``sustain`` epochs. A training loss that rises is not overfitting (that is the validation loss
    rising while the training loss falls): the optimiser itself is failing.

    Why it matters: the run is getting worse at the very thing it optimises. It usually ends in NaN
    or at a loss no better than predicting the class prior, and every further epoch is wasted.

    What to do: lower the learning rate (by 3-10x), add warm-up, clip gradients; if it started at
    a learning-rate increase (warm-up peak, cyclic schedule), lower the peak. Keep the checkpoint
    from the best epoch.

    Example: ``loss rose from its best 0.31 at epoch 4 to 2.3 (last 5 epochs all above 1.9); that is
    1.4x the whole improvement the run had made.``
    """

    code = "CC102"
    name = "divergence"
    kind = "divergence"
    severity = "error"
    min_points = 6

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        rise_ratio: float = setting(0.5, "rise above the best, as a share of the improvement first -> best")
        k_sigma: float = setting(8.0, "rise above the best, in multiples of the loss's noise level")
        sustain: int = setting(3, "the last this many finite epochs must all be that high")

    def run(self, ctx: RunContext) -> list[Finding]:
        series = ctx.losses("train") or ctx.losses("val")
        out = []
        for s in series:
            c = ctx.curve(s)
            if c is None or c.n < self.min_points:
                continue
            loss = c.values
            best_i = int(np.argmin(loss))
            best, first = loss[best_i], loss[0]
            tail = loss[-int(self.settings.sustain):]
            if best_i >= c.n - self.settings.sustain:
                continue
            improvement = max(first - best, 0.0)
            rise = float(tail.min() - best)
            need = max(self.settings.rise_ratio * improvement, self.settings.k_sigma * c.sigma)
            if improvement <= 0 or rise <= need:
                continue
            msg = (f"{s.name} rose from its best {fmt(best)} at {ctx.x_axis} {fx(c.x[best_i])} to "
                   f"{fmt(loss[-1])} (the last {int(self.settings.sustain)} {ctx.x_axis}s all at least {fmt(tail.min())}); ")
            msg += (f"that is above where it started ({fmt(first)})." if tail.min() > first else
                    f"that undoes {rise / improvement:.0%} of the improvement from {fmt(first)}.")
            lr = lr_drops(ctx, c.x[best_i], c.x[-1])
            if lr["in_window"] and lr["in_window"][1] > 1.5 * lr["in_window"][0]:
                msg += (f" Meanwhile the learning rate rose from {fmt(lr['in_window'][0])} to "
                        f"{fmt(lr['in_window'][1])}.")
            out.append(self.finding(
                series=[s.name], epochs={"start": c.x[best_i], "end": c.x[-1]}, message=msg,
                evidence={"best": best, "best_epoch": c.x[best_i], "last": loss[-1], "rise": rise,
                          "improvement_before": improvement, "noise_sigma": c.sigma, "threshold": need},
                advice=(f"Lower the learning rate 3-10x, add warm-up or gradient clipping, and keep the "
                        f"checkpoint from {ctx.x_axis} {fx(c.x[best_i])}.")))
        return out
