from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from ..signal import neighbour_median, noise_level
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, setting


class Spikes(Check):
    """Single epochs where a loss jumps to a multiple of its local level and comes back.

    What it detects: a point of a loss series at least ``ratio`` times its local level (the median
    of the ``half_window`` points on each side of it) that is worse than the point before it and
    comes back: within the next ``return_within`` points the loss is again closer to the local level
    than to the peak. The jump must also exceed ``min_noise`` times the noise level of the points
    around it (single-batch losses that scatter as widely as their level have no spikes to speak of). Judged against the curve's own level at that point, so a 1.2x bump on a calm
    converged curve is not a spike, and a 10x spike is found even when a huge first epoch sets the
    run's range. The first ``skip_first`` epochs are not judged (start-up), nor is the last point
    (it cannot come back yet). A loss that can be zero or negative (no level to compare with) needs a
    jump of ``k_sigma`` local noise levels instead. Per-step (minibatch) series are judged on the median
    of each evaluation interval, so minibatch noise is not a spike. A loss longer than ``max-points``
    points is judged on the highest point of each stretch of k points (at its own epoch), so no spike
    is sampled away; a burst shorter than a stretch then counts as one spike.

    Why it matters: isolated spikes usually come from a few bad batches (outliers, label noise,
    an exploding gradient) or a learning rate near the edge of stability. A spike in the validation
    loss alone often means one odd validation batch. Repeated spikes precede divergence.

    What to do: clip gradients (Keras ``clipnorm=1.0``, Lightning ``gradient_clip_val=1.0``, Hugging Face
    ``max_grad_norm=1.0``), lower the learning rate a little or add warm-up,
    look at the batches of that epoch for corrupt data; with Adam, a larger ``epsilon`` can help.

    Example: ``val_loss spikes at epoch 1: 7.42, 5.7x its local level 1.3, then back.``
    """

    code = "CC103"
    name = "spike"
    kind = "spike"
    severity = "warning"
    min_points = 6

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        ratio: float = setting(2.0, "a spike is at least this many times the local level")
        half_window: int = setting(3, "points on each side whose median is the local level")
        return_within: int = setting(3, "the curve must come back within this many points")
        min_noise: float = setting(3.0, "... and at least this many noise levels of the points around it")
        k_sigma: float = setting(
            20.0, "for losses without a positive level: the jump in multiples of the local noise")
        skip_first: int = setting(1, "epochs at the start that are not judged")

    @dataclass
    class Evidence(findings.Evidence):
        spike_epochs: list[float]
        values: list[float]
        better_neighbour: list[float]  # the better of the two neighbouring points
        local_level: list[float]
        ratio_to_level: list[float]
        threshold: float  # the ratio to the local level a spike reaches (settings.ratio)
        noise_sigma: float  # the curve's noise level (whole run)
        per_step: bool  # judged on per-interval medians of a per-step series

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for s in ctx.signals():
            if s.kind != "loss":
                continue
            c = ctx.curve(s, peaks=True)  # a long loss: the highest point of each stretch
            if c is None or c.n < self.min_points:
                continue
            idx = self._spikes(c)
            if idx:
                out.append(self._finding(ctx, c, idx))
        return out

    def _spikes(self, c: Curve) -> list[int]:
        st = self.settings
        v = c.values  # a loss: higher is worse
        level = neighbour_median(v, st.half_window)
        # candidates: local peaks with a local level, high enough against it when it is positive (the
        # cheap part of _high, for all points at once)
        lo = max(1, st.skip_first)
        peak = np.zeros(c.n, dtype=bool)
        if c.n - 1 > lo:
            mid = v[lo:-1]
            with np.errstate(invalid="ignore"):
                peak[lo:-1] = ((mid > v[lo - 1:-2]) & (mid >= v[lo + 1:]) & np.isfinite(level[lo:-1])
                               & ((level[lo:-1] <= 0) | (mid >= st.ratio * level[lo:-1])))
        out = []
        for i in np.flatnonzero(peak).tolist():
            if not self._high(v, level, i):
                continue
            after = v[i + 1:i + 1 + st.return_within]
            if after.size and np.min(after) < level[i] + 0.5 * (v[i] - level[i]):  # it came back
                out.append(i)
        return out

    def _high(self, v: np.ndarray, level: np.ndarray, i: int) -> bool:
        half = self.settings.half_window
        around = np.concatenate([v[max(0, i - half):i], v[i + 1:i + 1 + half]])
        noise = noise_level(around) if around.size >= 3 else float("nan")
        noise = noise if np.isfinite(noise) else 0.0
        if level[i] > 0:
            # a multiple of the level, and clear of the noise around it (a curve whose points scatter as
            # widely as their level, e.g. single-batch losses, has no spikes to speak of)
            return bool(v[i] >= self.settings.ratio * level[i] and v[i] - level[i] > self.settings.min_noise * noise)
        # no positive level (a loss that can be <= 0): far beyond the noise of the points around it
        return noise > 0 and v[i] - level[i] > self.settings.k_sigma * noise

    def _finding(self, ctx: RunContext, c: Curve, idx: list[int]) -> Finding:
        v = c.values
        level = neighbour_median(v, self.settings.half_window)
        ev = self.Evidence(
            spike_epochs=[float(c.x[i]) for i in idx], values=[float(v[i]) for i in idx],
            better_neighbour=[float(min(v[i - 1], v[i + 1])) for i in idx],
            local_level=[float(level[i]) for i in idx],
            ratio_to_level=[float(v[i] / level[i]) if level[i] > 0 else float("nan") for i in idx],
            threshold=self.settings.ratio, noise_sigma=c.sigma, per_step=c.per_step)
        return self.finding(series=[c.name], epochs=({"start": ev.spike_epochs[0], "end": ev.spike_epochs[-1]}
                                                     if len(idx) > 1 else {"at": ev.spike_epochs[0]}),
                            message=self.message(ctx.x_axis, c.name, ev), evidence=ev,
                            advice=self.advice(c.series.split, _framework(ctx)))

    @staticmethod
    def message(unit: str, name: str, ev: Spikes.Evidence) -> str:
        def one(k: int) -> str:
            times = f", {ev.ratio_to_level[k]:.1f}x" if np.isfinite(ev.ratio_to_level[k]) else ""
            return f"{fx(ev.spike_epochs[k])} ({fmt(ev.values[k])}{times} its local level {fmt(ev.local_level[k])})"

        listed = ", ".join(one(k) for k in range(min(5, len(ev.spike_epochs))))
        more = f" and {len(ev.spike_epochs) - 5} more" if len(ev.spike_epochs) > 5 else ""
        basis = " (medians per evaluation interval of a per-step series)" if ev.per_step else ""
        return (f"{name} spikes at {unit} {listed}{more}{basis}: at least {ev.threshold:g}x the level around it, "
                f"then back.")

    @staticmethod
    def advice(split: str, framework: str = "keras") -> str:
        if split == "val":
            return ("A spike in the validation loss alone points at a few odd validation samples or a momentary "
                    "instability; judge the run on the smoothed curve.")
        from ..advice import clip_gradients

        return (f"Clip gradients ({clip_gradients(framework)}) and check the data of those epochs; if spikes "
                "repeat, lower the learning rate or add warm-up.")


def _framework(ctx: RunContext) -> str:
    from ..advice import callback_framework

    return callback_framework(ctx.run)
