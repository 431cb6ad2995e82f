from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, Curve, RunContext, fmt, setting


def quantum(values: np.ndarray) -> float | None:
    """The step a metric moves in, when it is a multiple of one (accuracy on N samples moves by 1/N)."""
    d = np.abs(np.diff(values))
    d = d[d > 1e-9]
    if d.size < 3:
        return None
    q = d.min()
    multiples = d / q
    if np.mean(np.abs(multiples - np.round(multiples)) < 0.02) >= 0.9 and q >= 1e-3:
        return float(q)
    return None


class Oscillation(Check):
    """The validation curve fluctuates more than its trend explains, or far more than training.

    What it detects: a validation loss or metric whose epoch-to-epoch noise (robust sigma) is more
    than ``nsr`` of the range its trend covers, while it changes direction on more than
    ``min_flips`` of the epochs; or whose noise is more than ``train_ratio`` times the noise of the
    matching training curve (while its noise is at least ``min_nsr_for_ratio`` of that range). For accuracy-like metrics it also reports the step the values move in
    (accuracy on N samples moves in steps of 1/N), which reveals the validation set size.

    Why it matters: on a fluctuating curve the "best epoch" is mostly luck, early stopping fires at
    random, and comparisons between runs are meaningless. Validation much noisier than training
    points at the validation set: too small or unrepresentative. Both noisy points at the
    optimisation: learning rate too high or batches too small.

    What to do: use a larger (or stratified) validation set; judge on the smoothed curve
    (``curvecheck plot --smooth 0.6``) and give EarlyStopping a ``min_delta`` above the noise;
    if training is noisy too, lower the learning rate or raise the batch size.

    Example: ``val_loss fluctuates: noise sigma 0.0075 is 35% of the range its trend covers, with
    direction changes at 52% of epochs; 6.1x noisier than loss.``
    """

    code = "CC203"
    name = "oscillation"
    kind = "oscillation"
    severity = "warning"
    min_points = 8

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        nsr: float = setting(0.2, "noise sigma as a share of the trend's range")
        min_flips: float = setting(0.4, "share of epochs where the curve changes direction")
        train_ratio: float = setting(5.0, "val noise / train noise (same quantity) that counts as far noisier")
        min_nsr_for_ratio: float = setting(0.05, "minimum noise share of the range for the train/val ratio to count")

    def run(self, ctx: RunContext) -> list[Finding]:
        hits = []
        for s in ctx.losses("val") + ctx.metrics("val"):
            c = ctx.curve(s)
            if c is None or c.n < self.min_points or not np.isfinite(c.sigma) or c.sigma == 0:
                continue
            hit = self._judge(ctx, c)
            if hit:
                hits.append(hit)
        if not hits:
            return []
        return [self._finding(ctx, hits)]

    def _judge(self, ctx: RunContext, c: Curve) -> dict | None:
        span = float(np.nanmax(c.trend) - np.nanmin(c.trend))
        nsr = c.sigma / span if span > 0 else np.inf
        d = np.diff(c.values)
        d = d[np.abs(d) > 1e-12]
        flips = float(np.mean(np.sign(d[1:]) != np.sign(d[:-1]))) if d.size > 2 else 0.0
        partner = ctx.run.partner(c.name)
        pc = ctx.curve(partner) if partner is not None else None
        # a flat training curve (stuck at chance) has ~0 noise: a ratio against it means nothing
        ratio = (c.sigma / pc.sigma if pc is not None and np.isfinite(pc.sigma)
                 and pc.sigma > 1e-4 * max(abs(float(np.median(pc.values))), 1e-12) else None)
        noisy = nsr > self.settings.nsr and flips > self.settings.min_flips
        vs_train = ratio is not None and ratio > self.settings.train_ratio and nsr > self.settings.min_nsr_for_ratio
        if not (noisy or vs_train):
            return None
        return {"curve": c, "nsr": nsr, "flips": flips, "ratio": ratio, "partner": partner.name if partner else None}

    @staticmethod
    def _validation_step(ctx: RunContext) -> tuple[str, float] | None:
        """(name, step) of a validation accuracy-like metric that moves in steps of 1/N."""
        for m in ctx.metrics("val"):
            c = ctx.curve(m)
            if c is not None and m.kind in ("accuracy", "precision", "recall") and c.n >= 5:
                q = quantum(c.values)
                if q and 1 / q >= 2:
                    return m.name, q
        return None

    def _finding(self, ctx: RunContext, hits: list[dict]) -> Finding:
        h = hits[0]
        c = h["curve"]
        msg = (f"{c.name} fluctuates: its noise (sigma {fmt(c.sigma)}) is {h['nsr']:.0%} of the range its trend "
               f"covers, with direction changes at {h['flips']:.0%} of {ctx.x_axis}s")
        msg += f"; {h['ratio']:.1f}x noisier than {h['partner']}." if h["ratio"] else "."
        others = [o["curve"].name for o in hits[1:]]
        if others:
            msg += f" Also fluctuating: {', '.join(others[:6])}."
        advice = []
        step = self._validation_step(ctx)
        if step:
            name, q = step
            n = 1 / q
            msg += (f" {name} moves in steps of {fmt(q)} = 1/{n:.0f}: the validation set "
                    f"has about {n:.0f} samples (or a multiple).")
            advice.append(f"A validation set of ~{n:.0f} samples is too small to rank epochs: use a larger or "
                          "stratified one.")
        val_only = any(o["ratio"] and o["ratio"] > self.settings.train_ratio for o in hits)
        if val_only:
            advice.append("Validation is far noisier than training: the validation set is small or "
                          "unrepresentative; judge epochs on the smoothed curve and set EarlyStopping's min_delta "
                          f"above {fmt(2 * c.sigma)}.")
        else:
            advice.append("Lower the learning rate or raise the batch size; judge epochs on the smoothed curve.")
        return self.finding(series=[o["curve"].name for o in hits], epochs={"start": c.x[0], "end": c.x[-1]},
                            message=msg, advice=" ".join(advice),
                            evidence={"series": {o["curve"].name: {"noise_sigma": o["curve"].sigma,
                                                                   "noise_share_of_range": o["nsr"],
                                                                   "direction_changes": o["flips"],
                                                                   "val_over_train_noise": o["ratio"]}
                                                for o in hits},
                                      "validation_step": step[1] if step else None,
                                      "thresholds": {"nsr": self.settings.nsr, "min_flips": self.settings.min_flips,
                                                     "train_ratio": self.settings.train_ratio}})
