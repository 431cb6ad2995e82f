from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import findings
from ..findings import Finding
from ..model import Series
from ..signal import noise_level, rolling_median
from .base import Check, CheckSettings, RunContext, fmt, fx, lr_drops, setting


class Divergence(Check):
    """The training loss climbs far above its running best and stays there (without NaN).

    What it detects: a training loss (or, with no training loss, any loss) that either (a) ends far
    above the best it reached earlier: the last ``sustain`` points all more than ``rise_ratio`` times
    the distance between its first value and its best, and more than ``k_sigma`` times its noise
    level, above that best (when the first value of the overall loss is its best, the last points must
    be at least ``climb_ratio`` times it: an explosion right after the first evaluation); or (b) climbs to at least ``climb_ratio`` times its running best and stays
    there for at least ``sustain`` points and ``climb_share`` of the run, even if it comes down later
    (a loss that more than doubles during warm-up), rising by more than ``climb_k_sigma`` times its
    noise level (losses of single batches, as noisy as their level, do not count). Case (b) is judged on a running median (5 points
    for per-step series, 3 otherwise), so single bad batches neither trigger it nor set the best. A
    training loss that rises is not overfitting (that is the validation loss rising while the
    training loss falls): the optimiser itself is failing.

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
        sustain: int = setting(3, "the last this many finite points must all be that high")
        climb_ratio: float = setting(2.0, "a climb to this many times the running best counts when it lasts")
        climb_share: float = setting(0.1, "... for at least this share of the run")
        climb_k_sigma: float = setting(3.0, "... and rises above the best by this many noise sigmas")

    @dataclass
    class Evidence(findings.Evidence):
        best: float
        best_epoch: float
        last: float
        rise: float  # lowest of the high points minus the best
        improvement_before: float  # first value minus the best (0 when the loss never fell)
        noise_sigma: float
        threshold: float  # the rise that counts
        rule: str  # "ends_high" (a) or "climb" (b)
        climb_start: float | None = None  # (b): first and last point of the stretch at >= climb_ratio x best
        climb_end: float | None = None
        climb_peak_ratio: float | None = None
        lr_start: float | None = None  # the LR when the climb began and at its end, when logged
        lr_end: float | None = None

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for s in ctx.losses("train") or ctx.losses("val"):
            c = ctx.curve(s)
            if c is None or c.n < self.min_points:
                continue
            primary = s is ctx.primary_loss(s.split)
            ev = self._ends_high(c, primary) or self._climb(ctx, s)
            if ev is not None:
                self._lr_during(ctx, ev)
                out.append(self.finding(series=[s.name], epochs={"start": ev.best_epoch, "end": ev.climb_end or c.x[-1]},
                                        message=self.message(ctx.x_axis, s.name, ev, int(self.settings.sustain)),
                                        evidence=ev,
                                        advice=(f"Lower the learning rate 3-10x, add warm-up or gradient clipping, and "
                                                f"keep the checkpoint from {ctx.x_axis} {fx(ev.best_epoch)}.")))
        return out

    def _ends_high(self, c, primary: bool = False) -> Divergence.Evidence | None:
        st = self.settings
        loss = c.values
        best_i = int(np.argmin(loss))
        best, first = float(loss[best_i]), float(loss[0])
        if best_i >= c.n - st.sustain:
            return None
        tail = loss[-int(st.sustain):]
        improvement = max(first - best, 0.0)
        rise = float(tail.min() - best)
        need = max(st.rise_ratio * improvement, st.k_sigma * c.sigma)
        if rise <= need:
            return None
        if improvement <= 0 and not (primary and best > 0 and tail.min() >= st.climb_ratio * best):
            # best at the first point: there is no improvement to undo, but an overall loss that ends at climb_ratio x
            # its first value exploded right after it (a running median would blur that first point into the jump).
            # A component loss may rise from the start by design (a VAE's reconstruction term under KL annealing).
            return None
        return self.Evidence(best=best, best_epoch=float(c.x[best_i]), last=float(loss[-1]), rise=rise,
                             improvement_before=improvement, noise_sigma=c.sigma, threshold=need, rule="ends_high")

    def _climb(self, ctx: RunContext, s: Series) -> Divergence.Evidence | None:
        """A sustained climb to climb_ratio x the running best, on a running median of the raw points."""
        st = self.settings
        finite = s.finite
        x, v = s.x[finite], s.values[finite]
        if v.shape[0] < self.min_points or not (v > 0).all():
            return None
        level = rolling_median(v, 5 if ctx.per_step(s) else 3)
        best_so_far = np.minimum.accumulate(level)
        high = level >= st.climb_ratio * best_so_far
        start, length = _longest_run(high)
        if length < max(st.sustain, math.ceil(st.climb_share * v.shape[0])):
            return None
        stretch = slice(start, start + length)
        best_i = int(np.argmin(level[:start]))
        best = float(level[best_i])
        peak = float(np.max(level[stretch]))
        rise = float(np.min(level[stretch]) - best)
        sigma = noise_level(v)
        if not rise > st.climb_k_sigma * sigma:
            return None  # noise as large as the level (single-batch losses): a lucky low batch set the best
        return self.Evidence(best=best, best_epoch=float(x[best_i]), last=float(v[-1]), rise=rise,
                             improvement_before=max(float(level[0]) - best, 0.0), noise_sigma=sigma,
                             threshold=(st.climb_ratio - 1) * best, rule="climb", climb_start=float(x[start]),
                             climb_end=float(x[start + length - 1]), climb_peak_ratio=peak / best)

    @staticmethod
    def _lr_during(ctx: RunContext, ev: Divergence.Evidence) -> None:
        lr = lr_drops(ctx, ev.best_epoch, ev.climb_end if ev.climb_end is not None else np.inf)
        if lr["in_window"]:
            ev.lr_start, ev.lr_end = lr["in_window"]

    @staticmethod
    def message(unit: str, name: str, ev: Divergence.Evidence, sustain: int) -> str:
        if ev.rule == "climb":
            msg = (f"{name} climbed from its best {fmt(ev.best)} at {unit} {fx(ev.best_epoch)} to "
                   f"{ev.climb_peak_ratio:.1f}x that and stayed at least {fmt(ev.best + ev.rise)} from {unit} "
                   f"{fx(ev.climb_start)} to {fx(ev.climb_end)} (running median).")
        else:
            msg = (f"{name} rose from its best {fmt(ev.best)} at {unit} {fx(ev.best_epoch)} to {fmt(ev.last)} "
                   f"(the last {sustain} {unit}s all at least {fmt(ev.best + ev.rise)}); ")
            first = ev.best + ev.improvement_before
            msg += (f"that is above where it started ({fmt(first)})." if ev.best + ev.rise > first else
                    f"that undoes {ev.rise / ev.improvement_before:.0%} of the improvement from {fmt(first)}.")
        if ev.lr_start is not None and ev.lr_end is not None and ev.lr_end > 1.5 * ev.lr_start:
            msg += f" Meanwhile the learning rate rose from {fmt(ev.lr_start)} to {fmt(ev.lr_end)}."
        return msg


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, length) of the longest stretch of True (the first of equal ones; length 0 when none)."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask, dtype=np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.shape[0] == 0:
        return 0, 0
    longest = int(np.argmax(ends - starts))  # argmax: the first of equal lengths, as the scan kept it
    return int(starts[longest]), int(ends[longest] - starts[longest])
