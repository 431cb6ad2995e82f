from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, RunContext, fmt, fx, setting


class Spikes(Check):
    """Single epochs where a loss jumps far above both neighbouring epochs and comes back.

    What it detects: points of a loss series that are worse than BOTH neighbouring epochs by more
    than ``k_sigma`` times the series' noise level and by more than ``min_share`` of the curve's
    overall range: a bump that comes back, not a steep early descent. The first ``skip_first``
    epochs are not judged. Judged against each curve's own noise, so a noisy validation loss does
    not produce dozens of "spikes".

    Why it matters: isolated spikes usually come from a few bad batches (outliers, label noise,
    an exploding gradient) or a learning rate near the edge of stability. A spike in the validation
    loss alone often means one odd validation batch. Repeated spikes precede divergence.

    What to do: clip gradients (``clipnorm=1.0``), lower the learning rate a little or add warm-up,
    look at the batches of that epoch for corrupt data; with Adam, a larger ``epsilon`` can help.

    Example: ``val_loss spikes at epoch 1 (7.42 vs 1.9 around it).``
    """

    code = "CC103"
    name = "spike"
    kind = "spike"
    severity = "warning"
    min_points = 6

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(6.0, "distance above the better neighbour, in multiples of the noise level")
        min_share: float = setting(0.1, "distance above the better neighbour, as a share of the curve's range")
        skip_first: int = setting(1, "epochs at the start that are not judged")

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for s in ctx.signals():
            if s.kind != "loss":
                continue
            c = ctx.curve(s)
            if c is None or c.n < self.min_points or not np.isfinite(c.sigma):
                continue
            g = c.goodness
            # a spike is a bump: worse than BOTH neighbours by more than the threshold, so a steep
            # but steady descent (early epochs) never counts
            excess = np.full(c.n, -np.inf)
            excess[1:-1] = np.minimum(g[:-2], g[2:]) - g[1:-1]
            span = np.nanmax(c.trend) - np.nanmin(c.trend)
            need = max(self.settings.k_sigma * c.sigma, self.settings.min_share * span)
            if need <= 0:
                continue
            idx = [i for i in np.nonzero(excess > need)[0] if i >= self.settings.skip_first]
            if not idx:
                continue
            neighbours = [c.sign * max(g[i - 1], g[i + 1]) for i in idx]
            spikes = [(c.x[i], c.values[i], nb) for i, nb in zip(idx, neighbours)]
            listed = ", ".join(f"{fx(x)} ({fmt(v)} vs {fmt(nb)} around it)" for x, v, nb in spikes[:5])
            more = f" and {len(spikes) - 5} more" if len(spikes) > 5 else ""
            msg = (f"{s.name} spikes at {ctx.x_axis} {listed}{more}: "
                   f"{len(spikes)} point(s) worse than both neighbours by more than {fmt(need)} "
                   f"(max of {self.settings.k_sigma:g}x noise {fmt(c.sigma)} and {self.settings.min_share:.0%} of the curve's range).")
            out.append(self.finding(
                series=[s.name], epochs={"start": spikes[0][0], "end": spikes[-1][0]} if len(spikes) > 1
                else {"at": spikes[0][0]}, message=msg,
                evidence={"spike_epochs": [p[0] for p in spikes], "values": [p[1] for p in spikes],
                          "better_neighbour": [p[2] for p in spikes], "noise_sigma": c.sigma, "threshold": need},
                advice=("Clip gradients (clipnorm=1.0) and check the data of those epochs; if spikes repeat, "
                        "lower the learning rate or add warm-up." if s.split == "train" else
                        "A spike in the validation loss alone points at a few odd validation samples or a "
                        "momentary instability; judge the run on the smoothed curve.")))
        return out
