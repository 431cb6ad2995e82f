from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from .base import Check, CheckSettings, Curve, RunContext, fmt, setting, slope_t


def fit_saturation(x: np.ndarray, g: np.ndarray) -> tuple[float, float, float] | None:
    """Fit g(x) = a - b * exp(-(x - x0) / tau) by grid over tau; returns (a, b, tau) of the best fit.

    ``a`` is the level the curve is heading for. Returns None when the best tau is at the grid's
    upper end: the curve shows no sign of slowing down, so no asymptote can be estimated.
    """
    span = float(x[-1] - x[0]) or 1.0
    taus = np.geomspace(0.5, 20 * span, 60)
    best: tuple[float, float, float, float] | None = None
    for tau in taus:
        basis = np.column_stack([np.ones_like(x), -np.exp(-(x - x[0]) / tau)])
        coef, res, *_ = np.linalg.lstsq(basis, g, rcond=None)
        sse = float(res[0]) if res.size else float(np.sum((basis @ coef - g) ** 2))
        if best is None or sse < best[0]:
            best = (sse, float(coef[0]), float(coef[1]), float(tau))
    if best is None:
        return None
    _, a, b, tau = best
    if tau >= taus[-3] or b <= 0:
        return None
    return a, b, tau


class Undertrained(Check):
    """Still improving clearly at the last epoch: more training would pay off.

    What it detects: the monitored curve (validation loss, else a validation metric, else the
    training loss) has its best value in the last ``window_share`` of the run, and its regression
    slope over that window improves with a t statistic above ``min_t`` (many small steps count,
    each can be below the noise), by at least ``min_share`` of the run's total improvement and
    ``min_rel`` of its value. It estimates how much there is still to gain by fitting a
    saturating exponential to the second half of the curve; when the curve shows no sign of slowing,
    or the fitted level lies further away than the whole run has come (an extrapolation the data
    cannot carry), it says so and gives the recent gain per epoch instead. It is a warning when no slowing shows
    or the estimated remaining gain is at least ``warn_gain_share`` of the improvement so far.

    Why it matters: the run stopped before the model converged; its final numbers understate what
    the model can do, and comparisons with other runs are unfair.

    What to do: train longer (resume from the last checkpoint: Keras ``initial_epoch``, Lightning
    ``ckpt_path='last'``, Hugging Face ``resume_from_checkpoint``); if progress
    is slow and steady from the start, the learning rate may be too low.

    Example: ``val_loss still improves at the end: 2.1 -> 2.02 over the last 9 epochs (regression
    slope t = 41; 15% of the run's improvement). No sign of slowing down: about -0.0083 per epoch.``
    """

    code = "CC206"
    name = "undertrained"
    kind = "undertrained"
    severity = "info"
    min_points = 8

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        window_share: float = setting(0.3, "the last part of the run that is examined (at least 4 epochs)")
        min_t: float = setting(2.0, "t statistic of the improving regression slope over that window")
        min_share: float = setting(0.05, "improvement over that window as a share of the run's total improvement")
        min_rel: float = setting(0.002, "improvement over that window as a share of the value (near-noiseless curves)")
        warn_gain_share: float = setting(
            0.1, "estimated remaining gain (share of the improvement so far) that makes it a warning")

    @dataclass
    class Evidence(findings.Evidence):
        window_epochs: int
        recent_improvement: float  # regression slope x window span, in 'better' units
        total_improvement: float
        slope_t: float
        min_t: float
        noise_sigma: float
        threshold: float  # the recent improvement that counts (min_share of the total)
        window_start_value: float = float("nan")  # the raw values at the start of the window and at the end
        last_value: float = float("nan")
        gain_per_epoch: float | None = None  # when no slowing shows
        estimated_level: float | None = None  # saturating fit: where the curve is heading
        estimated_remaining_gain: float | None = None
        epochs_for_90_percent: float | None = None
        fit_beyond_data: bool = False  # the fitted level was further than the run's whole improvement: not quoted

    def run(self, ctx: RunContext) -> list[Finding]:
        s = ctx.primary_loss("val") or next(iter(ctx.metrics("val")), None) or ctx.primary_loss("train")
        c = ctx.curve(s)
        if c is None or c.n < self.min_points or not np.isfinite(c.sigma):
            return []
        w = max(4, round(self.settings.window_share * c.n))
        best = c.best_index()
        if best < c.n - w:
            return []
        slope, t = slope_t(c.x[-w:], c.goodness[-w:])
        recent = slope * float(c.x[-1] - c.x[-w])
        total = c.trend[-1] - c.trend[0]
        if not (t > self.settings.min_t and total > 0 and recent >= self.settings.min_share * total
                and recent > self.settings.min_rel * abs(c.goodness[-1])):
            return []
        return [self._finding(ctx, c, w, recent, total, t)]

    def _finding(self, ctx: RunContext, c: Curve, w: int, recent: float, total: float, t: float) -> Finding:
        half = c.n // 2
        fit = fit_saturation(c.x[half:], c.goodness[half:])
        ev = self.Evidence(window_epochs=w, recent_improvement=recent, total_improvement=total, slope_t=t,
                           min_t=self.settings.min_t, noise_sigma=c.sigma, threshold=self.settings.min_share * total,
                           window_start_value=float(c.values[-w]), last_value=float(c.values[-1]))
        severity = "info"
        remaining = None if fit is None else fit[0] - c.goodness[-1]
        if fit is None or (remaining is not None and remaining > total):
            # no slowing, or a fitted level further away than the whole run has come: an extrapolation
            # the curve cannot support (a loss heading for 0.5 from 4.7); say the recent pace instead
            ev.gain_per_epoch = recent / w
            ev.fit_beyond_data = fit is not None
            severity = "warning"
        else:
            a, _b, tau = fit
            if remaining is not None and remaining > 0:
                ev.estimated_level = c.sign * a
                ev.estimated_remaining_gain = remaining
                ev.epochs_for_90_percent = tau * np.log(10)
                if remaining >= self.settings.warn_gain_share * total:
                    severity = "warning"
        from ..advice import callback_framework, resume

        how = resume(callback_framework(ctx.run), c.x[-1] + 1 if ctx.x_axis == "epoch" else None)
        resume_text = f" ({how})" if how else ""
        return self.finding(series=[c.name], epochs={"start": c.x[-w], "end": c.x[-1]},
                            message=self.message(ctx.x_axis, c.name, c.sign, ev), evidence=ev, severity=severity,
                            advice=(f"Train longer: resume from the last checkpoint{resume_text}. If progress has been "
                                    "slow and steady from the start, the learning rate may be too low."))

    @staticmethod
    def message(unit: str, name: str, sign: float, ev: Undertrained.Evidence) -> str:
        msg = (f"{name} still improves at the end: {fmt(ev.window_start_value)} -> {fmt(ev.last_value)} over the "
               f"last {ev.window_epochs} {unit}s (regression slope t = {ev.slope_t:.1f}; "
               f"{ev.recent_improvement / ev.total_improvement:.0%} of the run's improvement).")
        if ev.gain_per_epoch is not None and ev.fit_beyond_data:
            msg += (f" How much is left cannot be told from the curve (a saturating fit heads further than the run "
                    f"has come so far); recently about {fmt(sign * ev.gain_per_epoch)} per {unit}.")
        elif ev.gain_per_epoch is not None:
            msg += f" No sign of slowing down: about {fmt(sign * ev.gain_per_epoch)} per {unit}."
        elif ev.estimated_remaining_gain is not None:
            msg += (f" A saturating fit puts the curve's level at {fmt(ev.estimated_level)}: about "
                    f"{fmt(ev.estimated_remaining_gain)} more to gain, 90% of it within ~{ev.epochs_for_90_percent:.0f} "
                    f"more {unit}s.")
        return msg
