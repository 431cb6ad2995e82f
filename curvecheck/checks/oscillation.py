from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import findings
from ..findings import Finding
from ..signal import rolling_finite_median, rolling_median, zigzag
from .base import BOUNDED_KINDS, Check, CheckSettings, Curve, RunContext, fmt, fx, setting


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
    """The validation curve swings up and down by a large share of its level, over a sizeable stretch.

    What it detects: a validation loss or metric (not precision or recall alone) that, over a stretch of at least ``min_stretch``
    evaluations and ``stretch_share`` of the run, swings by more than ``min_swing`` of its local
    level (the median distance of each point from the line through its two neighbours, against the
    5-point running median) while changing direction at more than ``min_flips`` of the points. The
    local level, not the run's range, is the yardstick: late jitter on a converged curve is small
    against its level even when the trend has flattened. A metric that alternates by one quantum
    (accuracy on N samples moves in steps of 1/N) is not oscillating: swings within 1.5 quanta are
    ignored. Validation being noisier than training is not enough by itself (training metrics are
    epoch averages); the ratio is reported, and above ``train_ratio`` the advice blames the
    validation set. For accuracy-like metrics it also
    reports the step the values move in, which reveals the validation set size.

    Why it matters: on a swinging curve the "best epoch" is mostly luck, early stopping fires at
    random, and comparisons between runs are meaningless. Validation that swings while training is
    smooth points at the validation set: too small or unrepresentative. Both noisy points at the
    optimisation: learning rate too high or batches too small.

    What to do: use a larger (or stratified) validation set; judge on the smoothed curve
    (``curvecheck plot --smooth 0.6``); if training is noisy too, lower the learning rate or raise
    the batch size.

    Example: ``val_accuracy swings by 45% of its level over epochs 0-9 (direction changes at 78%
    of them).``
    """

    code = "CC203"
    name = "oscillation"
    kind = "oscillation"
    severity = "warning"
    min_points = 8

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        min_swing: float = setting(0.2, "median swing as a share of the local level over the stretch")
        min_flips: float = setting(0.4, "share of points in the stretch where the curve changes direction")
        min_stretch: int = setting(
            7, "minimum stretch length in evaluations (one spike swings 3 points: 7 keeps it off the median)")
        stretch_share: float = setting(0.2, "minimum stretch length as a share of the run")
        train_ratio: float = setting(
            3.0, "val noise / train noise above which the advice blames the validation set (reported only)")

    @dataclass
    class Swing(findings.Evidence):
        """One oscillating series: how much, where, and how it compares with training."""

        swing_share_of_level: float  # median zigzag / local level over the stretch
        stretch_start: float
        stretch_end: float
        level: float  # median local level over the stretch
        direction_changes: float  # share of points in the stretch
        noise_sigma: float
        noise_share_of_range: float  # noise sigma / range of the trend (kept from 0.1)
        val_over_train_noise: float | None

    @dataclass
    class Evidence(findings.Evidence):
        series: dict[str, Oscillation.Swing]
        validation_step: float | None  # the quantum 1/N of an accuracy-like validation metric
        threshold: float  # min_swing
        thresholds: dict[str, float] = field(default_factory=dict)  # every setting involved (kept from 0.1)

    def run(self, ctx: RunContext) -> list[Finding]:
        hits: dict[str, Oscillation.Swing] = {}
        # precision and recall alone hinge on a threshold: near 0 (no positives predicted) they jump between
        # a few degenerate values, which says nothing about the training
        for s in ctx.losses("val") + [m for m in ctx.metrics("val") if m.kind not in ("precision", "recall")]:
            c = ctx.curve(s)
            if c is None or c.n < self.min_points:
                continue
            swing = self._judge(ctx, c)
            if swing is not None:
                hits[c.name] = swing
        if not hits:
            return []
        step = self._validation_step(ctx)
        ev = self.Evidence(series=hits, validation_step=step[1] if step else None, threshold=self.settings.min_swing,
                           thresholds={"min_swing": self.settings.min_swing, "min_flips": self.settings.min_flips,
                                       "train_ratio": self.settings.train_ratio})
        first = next(iter(hits.values()))
        return [self.finding(series=list(hits), epochs={"start": first.stretch_start, "end": first.stretch_end},
                             message=self.message(ctx.x_axis, ev, step[0] if step else None), evidence=ev,
                             advice=self.advice(ev))]

    def _swing_shares(self, c: Curve) -> np.ndarray:
        """Per point: zigzag / local level (0 where the swing is within 1.5 quanta or the level ~0)."""
        v = c.values
        zz = zigzag(v)
        q = quantum(v) if c.series.kind in BOUNDED_KINDS else None
        if q and q <= 0.2 and abs(1 / q - round(1 / q)) < 0.05 * (1 / q):  # a share of N samples moves by 1/N
            zz = np.where(zz <= 1.5 * q, 0.0, zz)
        level = np.abs(rolling_median(v, 5))
        usable = level > 1e-3 * float(np.max(np.abs(v)))  # a level of ~0 gives no meaningful share
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(usable, zz / np.where(usable, level, 1.0), 0.0)

    def _judge(self, ctx: RunContext, c: Curve) -> Oscillation.Swing | None:
        st = self.settings
        share = self._swing_shares(c)
        d = np.diff(c.values)
        flips = np.zeros(c.n)
        flips[1:-1] = np.sign(d[1:]) * np.sign(d[:-1]) < 0
        w = max(st.min_stretch, math.ceil(st.stretch_share * c.n))
        best = self._best_stretch(share, flips, w)
        if best is None:
            return None
        m, a, flip_share = best
        b = min(a + w, c.n) - 1
        return self.Swing(swing_share_of_level=m, stretch_start=float(c.x[a]), stretch_end=float(c.x[b]),
                          level=float(np.median(np.abs(rolling_median(c.values, 5))[a:b + 1])),
                          direction_changes=flip_share, noise_sigma=c.sigma,
                          noise_share_of_range=self._noise_share(c), val_over_train_noise=self._vs_train(ctx, c))

    def _best_stretch(self, share: np.ndarray, flips: np.ndarray, w: int) -> tuple[float, int, float] | None:
        """(median share, start, flip share) of the stretch of ``w`` points with the largest median swing
        share above ``min_swing`` (first on ties), among those with enough direction changes and >= 3
        finite shares; the median is over the finite shares only. Starts run from 1 to n - w - 1."""
        st, n = self.settings, share.shape[0]
        if n - w < 2:  # one (possibly short) stretch from 1
            seg = share[1:1 + w]
            seg = seg[np.isfinite(seg)]
            flip_share = float(flips[1:1 + w].mean())
            if seg.size < 3 or flip_share <= st.min_flips:
                return None
            m = float(np.median(seg))
            return (m, 1, flip_share) if m > st.min_swing else None
        inner = np.where(np.isfinite(share[1:n - 1]), share[1:n - 1], np.nan)
        finite = np.concatenate([[0], np.cumsum(np.isfinite(inner), dtype=np.int64)])
        counts = finite[w:] - finite[:-w]
        flipped = np.concatenate([[0], np.cumsum(flips[1:n - 1], dtype=np.int64)])
        flip_shares = (flipped[w:] - flipped[:-w]) / w  # the mean of w zeros and ones, exactly
        medians = rolling_finite_median(inner, w)
        ok = (counts >= 3) & (flip_shares > st.min_flips) & (medians > st.min_swing)
        if not ok.any():
            return None
        cand = np.where(ok, medians, -np.inf)
        k = int(np.argmax(cand))  # the first of equal maxima, as the loop kept
        return float(medians[k]), k + 1, float(flip_shares[k])

    @staticmethod
    def _noise_share(c: Curve) -> float:
        span = float(np.nanmax(c.trend) - np.nanmin(c.trend))
        return c.sigma / span if span > 0 and np.isfinite(c.sigma) else float("nan")

    @staticmethod
    def _vs_train(ctx: RunContext, c: Curve) -> float | None:
        partner = ctx.run.partner(c.name)
        pc = ctx.curve(partner) if partner is not None else None
        if pc is None or not np.isfinite(pc.sigma) or not np.isfinite(c.sigma):
            return None
        # a flat training curve (frozen, stuck at chance) has ~0 noise: a ratio against it means nothing
        if pc.sigma <= 1e-4 * max(abs(float(np.median(pc.values))), 1e-12):
            return None
        return c.sigma / pc.sigma

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

    @staticmethod
    def message(unit: str, ev: Oscillation.Evidence, step_name: str | None) -> str:
        parts = []
        for name, sw in list(ev.series.items())[:4]:
            parts.append(f"{name} swings by {sw.swing_share_of_level:.0%} of its level ({fmt(sw.level)}) over "
                         f"{unit}s {fx(sw.stretch_start)}-{fx(sw.stretch_end)}, changing direction at "
                         f"{sw.direction_changes:.0%} of them")
        msg = "; ".join(parts)
        if len(ev.series) > 4:
            msg += f"; also {', '.join(list(ev.series)[4:10])}"
        msg += "."
        if ev.validation_step and step_name:
            n = 1 / ev.validation_step
            msg += (f" {step_name} moves in steps of {fmt(ev.validation_step)} = 1/{n:.0f}: the validation set "
                    f"has about {n:.0f} samples (or a multiple).")
        return msg

    def advice(self, ev: Oscillation.Evidence) -> str:
        out = []
        if ev.validation_step:
            out.append(f"A validation set of ~{1 / ev.validation_step:.0f} samples is too small to rank epochs: use a "
                       "larger or stratified one.")
        ratios = [sw.val_over_train_noise for sw in ev.series.values() if sw.val_over_train_noise is not None]
        if ratios and max(ratios) > self.settings.train_ratio:
            out.append("Training is much smoother than validation: the validation set is small or unrepresentative; "
                       "judge epochs on the smoothed curve.")
        else:
            out.append("Lower the learning rate or raise the batch size; judge epochs on the smoothed curve.")
        return " ".join(out)
