from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import findings
from ..findings import Finding
from ..signal import noise_level
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, lr_drops, setting
from .stuck_metric import frozen_while_loss_moves

TREND_NOISE = 1.2533 / np.sqrt(5)  # noise of a 5-point median relative to one point's (Gaussian noise)


def _reduce_on_plateau(ctx: RunContext) -> str:
    """How the log's own framework reduces the LR on a plateau (one definition: curvecheck.advice)."""
    from ..advice import callback_framework, reduce_lr_on_plateau

    return reduce_lr_on_plateau(callback_framework(ctx.run), "val_loss", "min", 5)


@dataclass
class Stall:
    """The longest window at the end of a curve without improvement beyond noise and progress."""

    best_index: int  # the best (smoothed) point before the window: the curve has not beaten it since
    window: int  # points in the window
    gain: float  # best smoothed value in the window minus the best before it (goodness units)
    threshold: float  # the gain that would have counted as improvement
    noise: float  # noise level at the end of the curve
    progress: float  # improvement from the start to the best before the window
    basis: str = "noise"  # which bound the threshold is: "noise", "progress" (min_progress) or "level" (min_rel)


def find_stall(c: Curve, min_window: int, k_sigma: float, min_progress: float, min_rel: float) -> Stall | None:
    """The longest final window of ``c`` (at least ``min_window`` points) whose best smoothed value beats
    the best before it by no more than the larger of ``k_sigma`` noise levels of that smoothed value
    (measured at the end of the curve, which is calmer than its start), ``min_progress`` of the progress made before the window
    and ``min_rel`` of the level. None when even the shortest window improved."""
    n = c.n
    if n - min_window < 2:
        return None
    t = c.trend
    prefix_best = np.maximum.accumulate(t)
    suffix_best = np.maximum.accumulate(t[::-1])[::-1]
    noise = noise_level(c.values[-min_window:])
    noise = noise if np.isfinite(noise) else c.sigma
    # the bests compared are 5-point running medians: their noise is about 0.56x that of one point
    trend_noise = TREND_NOISE * noise
    level = abs(float(np.median(c.values[-min_window:])))
    # Every window length at once, longest first (a Python loop per length took seconds at 10^6 points);
    # the same float operations as one window at a time, and the same choice of bound: the first of
    # noise, progress, level that is strictly larger than those before it (as max() over a dict picks).
    w = np.arange(n - 2, min_window - 1, -1)
    before = prefix_best[n - w - 1]
    gain = suffix_best[n - w] - before
    rise = before - float(t[0])
    progress = np.where(0.0 > rise, 0.0, rise)  # max(rise, 0.0), keeping NaN and -0.0 as max() does
    need = np.full(w.shape[0], k_sigma * trend_noise)
    basis = np.zeros(w.shape[0], dtype=np.int64)
    for k, bound in ((1, min_progress * progress), (2, np.full(w.shape[0], min_rel * level))):
        larger = bound > need
        need = np.where(larger, bound, need)
        basis = np.where(larger, k, basis)
    hits = np.flatnonzero(gain <= need)
    if not hits.size:
        return None
    i = int(hits[0])
    best = int(np.argmax(t[:n - int(w[i])]))
    return Stall(best, int(w[i]), float(gain[i]), float(need[i]), noise, float(progress[i]),
                 ("noise", "progress", "level")[int(basis[i])])


class Plateau(Check):
    """No improvement beyond noise over a long final window, for training and validation separately.

    What it detects: for every loss and metric, the longest window at the end of the run (at least
    ``min_epochs`` epochs and ``min_share`` of the run) over which the best value of the 5-point
    running median did not beat the best before the window by more than ``k_sigma`` times the noise
    of such a median (from the noise level at the end of the curve), ``min_progress`` of the progress made before the window (a creep
    that is negligible next to what the run already achieved is a plateau too) and ``min_rel`` of
    the value. Slow steady progress is not a plateau: over a window of a quarter of the run it adds
    up to more than that. Not a plateau either: a curve that got clearly worse (overfitting or divergence), a
    metric that is flat while the loss of its split clearly improves (stuck metric or loss/metric
    disagreement), and convergence at the end of a smoothly decaying learning-rate schedule (cosine,
    linear, YOLO). Per-step series are judged on the median of each evaluation interval. The
    finding says whether the learning rate was cut during the stall without effect (the cut came after
    the last best, and nothing improved beyond noise since), or sits at its floor (its final minimum,
    held for at least ``floor_share`` of the run; one cut is not a floor); stalls longer than ``warn_share`` of the run are warnings, shorter ones info.

    Why it matters: epochs on a plateau cost compute and change nothing. A validation plateau
    with a training curve still improving is the run starting to memorise.

    What to do: stop (EarlyStopping on the validation curve), or reduce the learning rate when it
    has not been reduced yet (ReduceLROnPlateau); if the LR already sits at its floor, more epochs
    will not help: change the model, the data or the schedule (warm restarts).

    Example: ``val_loss has not improved beyond noise (sigma 0.002) since epoch 20: 79 of 100
    epochs. The learning rate was cut at epochs 7 and 13 without effect and has been 1e-05 (its
    minimum) for 86 epochs.``
    """

    code = "CC202"
    name = "plateau"
    kind = "plateau"
    severity = "warning"
    min_points = 10

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        k_sigma: float = setting(2.0, "an improvement counts when it beats the best before by this many noise sigmas")
        min_epochs: int = setting(8, "minimum stall length in epochs")
        min_share: float = setting(0.25, "minimum stall length as a share of the run")
        warn_share: float = setting(0.5, "stalls longer than this share of the run are warnings, shorter ones info")
        min_progress: float = setting(
            0.02, "an improvement must also exceed this share of the progress made before the window")
        min_rel: float = setting(
            0.001, "an improvement must also exceed this share of the value (for near-noiseless curves)")
        floor_share: float = setting(
            0.2, "the LR is 'at its floor' when it has been at its final minimum for this share of the run")

    @dataclass
    class Evidence(findings.Evidence):
        last_significant_best_epoch: float  # the best (smoothed) point the curve has not beaten since
        stalled_epochs: int
        share_of_run: float
        noise_sigma: float
        gain_in_window: float  # best smoothed value in the stall minus the best before it (>= 0 is better)
        threshold: float  # the gain that would have counted as improvement
        k_sigma: float
        threshold_basis: str = "noise"  # what set the threshold: "noise", "progress" (so far) or "level"
        also_stalled: list[str] = field(default_factory=list)
        stalled_since: dict[str, float] = field(default_factory=dict)
        lr_drops_during_stall: list[float] | None = None  # cuts after which the curve did not improve
        lr_at_floor: float | None = None  # the LR, when it sits at its floor during the stall
        lr_in_stall: tuple[float, float] | None = None  # LR at the start and end of the stall (smooth schedules)

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for split in ("val", "train"):
            stalled = []
            for s in ctx.losses(split) + ctx.metrics(split):
                c = ctx.curve(s)
                if (c is None or c.n < self.min_points or not np.isfinite(c.sigma) or c.at_ceiling
                        or frozen_while_loss_moves(ctx, c)):
                    continue
                stall = self._stall(c)
                if (stall is not None and not self._loss_still_improves(ctx, c, stall)
                        and not self._decayed_schedule(ctx, float(c.x[stall.best_index]))):
                    stalled.append((c, stall))
            if stalled:
                out.append(self._finding(ctx, split, stalled))
        return out

    def _min_window(self, n: int) -> int:
        return max(self.settings.min_epochs, math.ceil(self.settings.min_share * n))

    def _stall(self, c: Curve) -> Stall | None:
        st = self.settings
        stall = find_stall(c, self._min_window(c.n), st.k_sigma, st.min_progress, st.min_rel)
        if stall is None:
            return None
        window = c.goodness[c.n - stall.window:]
        best = float(c.trend[stall.best_index])
        # clearly worse than the best before: overfitting / divergence, not a plateau
        m = min(5, window.size)
        if best - float(np.mean(window[-m:])) > 1.5 * st.k_sigma * stall.noise * np.sqrt(1 + 1 / m):
            return None
        return stall

    def _loss_still_improves(self, ctx: RunContext, c: Curve, stall: Stall) -> bool:
        """A metric flat while the loss of its split clearly improves is a stuck metric or a loss/metric
        disagreement (CC205/CC204), not a plateau."""
        if c.series.kind == "loss":
            return False
        loss = ctx.curve(ctx.primary_loss(c.series.split))
        if loss is None or loss.n < self.min_points or not np.isfinite(loss.sigma):
            return False
        st = self.settings
        start = c.x[c.n - stall.window]
        window = max(2, int(np.sum(loss.x >= start)))
        loss_stall = find_stall(loss, min(window, loss.n - 2), st.k_sigma, st.min_progress, st.min_rel)
        return loss_stall is None or loss_stall.window < window

    @staticmethod
    def _decayed_schedule(ctx: RunContext, since: float) -> bool:
        """The stall began once a smooth schedule (cosine, linear, YOLO) had decayed below half its peak:
        convergence at the end of a decaying schedule is the schedule's intent, not a plateau."""
        if not lr_drops(ctx)["smooth"]:
            return False
        lr = ctx.lr
        if lr is None:
            return False
        x, v = lr.x[lr.finite], lr.values[lr.finite]
        at = v[x <= since]
        return bool(at.size and at[-1] < 0.5 * float(v.max()))

    def _finding(self, ctx: RunContext, split: str, stalled: list[tuple[Curve, Stall]]) -> Finding:
        c, stall = stalled[0]
        x_best = float(c.x[stall.best_index])
        length = c.logged_after(stall.best_index)  # logged points, also when c is a sample of a long series
        ev = self.Evidence(
            last_significant_best_epoch=x_best, stalled_epochs=length, share_of_run=length / c.logged,
            noise_sigma=stall.noise, gain_in_window=stall.gain, threshold=stall.threshold,
            k_sigma=self.settings.k_sigma, threshold_basis=stall.basis, also_stalled=[o.name for o, _ in stalled[1:]],
            stalled_since={o.name: float(o.x[st.best_index]) for o, st in stalled})
        self._lr_during(ctx, c, x_best, ev)
        return self.finding(series=[o.name for o, _ in stalled], epochs={"start": x_best, "end": c.x[-1]},
                            message=self.message(ctx.x_axis, c, ev), evidence=ev, advice=self.advice(ctx, split, ev),
                            severity="warning" if ev.share_of_run >= self.settings.warn_share else "info")

    def _lr_during(self, ctx: RunContext, c: Curve, x_best: float, ev: Plateau.Evidence) -> None:
        """What the LR did during the stall: cuts that did not help, a floor reached and held."""
        lr = lr_drops(ctx, x_best, c.x[-1])
        if not lr["has_lr"]:
            return
        if lr["smooth"] and lr["in_window"]:
            ev.lr_in_stall = lr["in_window"]
            return
        # a cut "without effect": the curve did not improve beyond noise after it (it is inside the stall)
        ev.lr_drops_during_stall = [d for d in lr["drops"] if d > x_best] or None
        series = ctx.lr
        if series is None:
            return
        x, v = series.x[series.finite], series.values[series.finite]
        at_min = np.nonzero(v > v[-1] * (1 + 1e-6))[0]
        since = float(x[at_min[-1] + 1]) if at_min.size else float(x[0])
        held = np.sum(x >= since) >= max(3, self.settings.floor_share * len(v))
        if v[-1] <= v.min() and v[-1] < v[0] and held and since <= c.x[-1]:
            ev.lr_at_floor = float(v[-1])

    @staticmethod
    def message(unit: str, c: Curve, ev: Plateau.Evidence) -> str:
        # say what the threshold was: a loss converging to 0 improves far beyond its noise by amounts that are
        # negligible next to its progress so far, and "not beyond noise" would then be false
        why = {"progress": f"by more than {fmt(ev.threshold)}, a negligible share of its progress so far (noise sigma "
                           f"{fmt(ev.noise_sigma)})",
               "level": f"by more than {fmt(ev.threshold)}, a negligible share of its value (noise sigma "
                        f"{fmt(ev.noise_sigma)})"}.get(ev.threshold_basis, f"beyond noise (sigma {fmt(ev.noise_sigma)})")
        msg = (f"{c.name} has not improved {why} since {unit} "
               f"{fx(ev.last_significant_best_epoch)}: {ev.stalled_epochs} of {c.logged} {unit}s")
        msg += " (medians per evaluation interval of a per-step series)." if c.per_step else "."
        if ev.also_stalled:
            msg += " Also stalled: " + ", ".join(f"{n} (since {fx(ev.stalled_since[n])})"
                                                 for n in ev.also_stalled[:5]) + "."
        if ev.lr_in_stall:
            a, b = ev.lr_in_stall
            msg += f" The learning rate went from {fmt(a)} to {fmt(b)} during the stall (smooth schedule)."
        if ev.lr_drops_during_stall:
            msg += (f" The learning rate was cut at {unit}(s) {', '.join(fx(d) for d in ev.lr_drops_during_stall)} "
                    f"without effect.")
        if ev.lr_at_floor is not None:
            msg += f" The learning rate sits at its minimum ({fmt(ev.lr_at_floor)})."
        return msg

    @staticmethod
    def advice(ctx: RunContext, split: str, ev: Plateau.Evidence) -> str:
        if ev.lr_at_floor is not None:
            advice = ("The learning rate is already at its floor: more epochs will not help. Stop here, or change "
                      "the schedule (warm restarts), the model or the data.")
        elif ctx.lr is not None and not ev.lr_drops_during_stall and not ev.lr_in_stall:
            advice = f"Reduce the learning rate on plateaus ({_reduce_on_plateau(ctx)}) or stop early."
        else:
            advice = "Stop earlier (EarlyStopping on the validation curve) or try a different schedule."
        if split == "train":
            advice = "The training curve itself has stalled: " + advice[0].lower() + advice[1:]
        return advice
