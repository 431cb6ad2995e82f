from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..findings import Evidence as EvidenceBase
from ..findings import Finding
from ..signal import median, noise_level, per_evaluation, rolling_median
from .base import Check, CheckSettings, Curve, RunContext, fmt, fx, setting, slope_t

# Metrics whose trivial value is 0: no positive (foreground) prediction at all.
ZERO_IS_TRIVIAL = ("iou", "dice", "f1", "precision", "recall", "map")
AUC_CHANCE_BAND = 0.02  # an AUC within this of 0.5 ranks positives no better than a coin
# The signals that say the optimiser itself failed (the learning rate's doing), as opposed to a
# model that only learned the class prior (a data or metric problem).
COLLAPSE_SIGNALS = ("nan_from_start", "frozen_loss", "explosion_then_frozen")


CRAWL_FALLING_SHARE = 0.8  # a loss lower than the epoch before at this share of epochs still moves
CRAWL_SATURATED_VS_PRIOR = 2.0  # ... unless it sits at this many times the prior's cross-entropy (saturated)


def auc_at_chance(values: np.ndarray, band: float = AUC_CHANCE_BAND) -> bool:
    """An AUC within ``band`` of 0.5 at 90% of its points or more (one evaluation's blip to 0.526 among
    25 at 0.501 does not make a model that ranks)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return v.size >= 3 and float(np.mean(np.abs(v - 0.5) < band)) >= 0.9


def crawling_loss(run, k_sigma: float = 3.0, falling_share: float = CRAWL_FALLING_SHARE):
    """(series, falling share, slope t) of the first loss (validation first, then training) that
    :func:`crawl` s, or None."""
    for s in sorted(run.signals(), key=lambda s: s.split != "val"):
        if s.kind != "loss" or s.split not in ("train", "val"):
            continue
        v = s.values[s.finite]
        if v.shape[0] >= 8 and _first_epoch_exploded(v):
            return None  # a first-epoch explosion: not a run stuck at its start
        found = crawl(v, k_sigma, falling_share)
        if found is not None:
            return s, *found
    return None


def _first_epoch_exploded(v: np.ndarray) -> bool:
    """The first finite value is 10x the next two or more: a blow-up in the first epoch."""
    return bool(v[0] >= 10 * float(np.median(v[1:3])))


def crawl(values: np.ndarray, k_sigma: float = 3.0,
          falling_share: float = CRAWL_FALLING_SHARE) -> tuple[float, float] | None:
    """(share of epochs where the loss fell, slope t) when a loss keeps falling at nearly every epoch
    (``CRAWL_FALLING_SHARE``) with a significant downward trend, however small the steps: an LR too
    low, not a frozen network (a dead or saturated network's loss stops moving). None otherwise, and
    for fewer than 8 points or a first-epoch explosion (a run stuck *after* a blow-up, not at its start)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.shape[0] < 8 or _first_epoch_exploded(v):
        return None
    _slope, t = slope_t(np.arange(v.shape[0], dtype=float), v)
    falling = float(np.mean(np.diff(v) < 0))
    return (falling, t) if t < -k_sigma and falling >= falling_share else None


def binary_entropy(p: float) -> float:
    """Cross-entropy (nats) of a model that predicts the class prior p for every sample."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def resolution(values: np.ndarray) -> float:
    """The step of a quantised metric (1/n_val for an accuracy on n_val samples): the smallest gap
    between distinct values, floored at 1e-6 for float noise."""
    distinct = np.unique(np.round(values[np.isfinite(values)], 7))
    gaps = np.diff(distinct)
    gaps = gaps[gaps > 1e-6]
    return float(gaps.min()) if gaps.size else 1e-6


@dataclass
class TrivialValue:
    """A metric sitting at a value a model reaches without learning the task."""

    metric: str
    value: float
    meaning: str
    prior_entropy: float | None = None  # cross-entropy of predicting the prior at this accuracy
    loss_level: float | None = None


def trivial_value(c: Curve, start: int, loss_level: float | None, zero_level: float) -> TrivialValue | None:
    """What makes the metric's values from index ``start`` on trivial, if anything.

    IoU/Dice/F1/precision/recall/mAP at about 0 predict no positives; an AUC within
    ``AUC_CHANCE_BAND`` of 0.5 ranks no better than chance. An accuracy constant within one
    quantum (the metric's step, 1/n_val, or 0.5% of its level) is the share of the class the model always
    predicts; it is only called that when the loss is at least the cross-entropy of predicting that share
    (a model that learned has a lower loss). An accuracy that wobbles without improving, within noise of
    1/k, with a loss of at least 0.9 ln k, is chance for k classes (random predictions).
    """
    part = c.values[start:]
    if part.size < 3:
        return None
    kind = c.series.kind
    if kind in ZERO_IS_TRIVIAL and float(np.max(np.abs(part))) <= zero_level:
        what = "no foreground predicted" if kind in ("iou", "dice") else "no positive predictions"
        return TrivialValue(c.name, float(np.max(part)), f"about 0: {what}")
    if kind == "auc" and auc_at_chance(part):
        return TrivialValue(c.name, float(np.median(part)), "chance (AUC 0.5: the scores rank positives no "
                                                            "better than a coin)")
    if kind != "accuracy" or loss_level is None:
        return None
    level = float(median(part))
    if not 1e-6 < level < 0.99:  # (a denormal accuracy would make 1 / level overflow)
        return None
    step = resolution(c.values)
    prior = binary_entropy(level)
    k = round(1 / level)
    if float(np.ptp(part)) <= max(step * 1.01, 0.005 * level):
        if loss_level < 0.9 * prior:
            return None  # the loss is below what predicting the prior costs: the model learned something
        if k >= 3 and abs(level - 1 / k) <= step and abs(loss_level - math.log(k)) <= 0.05 * math.log(k):
            meaning = (f"chance for {k} classes (1/{k}; the loss {fmt(loss_level)} is about ln {k} = "
                       f"{fmt(math.log(k))})")
        elif level >= 0.5:
            meaning = (f"the majority share: a model predicting the prior has a cross-entropy of {fmt(prior)} at "
                       f"that share, and the loss is {fmt(loss_level)}")
        else:
            meaning = "the share of the one class the model predicts for every sample"
        return TrivialValue(c.name, level, meaning, prior, loss_level)
    if part.size < 8:
        return None  # too few points to tell random predictions from slow learning
    sigma = noise_level(part)
    trend = rolling_median(part, 5)
    half = part.size // 2
    flat = (float(np.nanmax(trend) - np.nanmin(trend)) <= 4 * sigma
            and abs(float(median(part[half:]) - median(part[:half]))) <= sigma)
    if (flat and k >= 2 and abs(level - 1 / k) <= max(2 * sigma, step) and loss_level >= 0.9 * math.log(k)):
        relation = "at least" if loss_level >= math.log(k) else "about"
        return TrivialValue(c.name, level, f"chance for {k} classes (1/{k}, random predictions; the loss "
                            f"{fmt(loss_level)} is {relation} ln {k} = {fmt(math.log(k))})", None, loss_level)
    return None


class NeverLearned(Check):
    """The run never learned: the loss froze from the start, or a metric sat at a trivial value throughout.

    What it detects: (a) the loss (training, else validation) is NaN or inf from the first epoch;
    (b) after at most ``head_epochs`` epochs (or ``head_share`` of the run) the loss stops improving (by less than ``k_sigma`` times
    its noise and ``frozen_rel`` of its level until the end), and something shows that it froze
    without having learned: it never got below its first value, or the first epoch exploded to
    ``explode_ratio`` times the frozen level or more, or a metric sits at a trivial value meanwhile;
    (c) a metric at a trivial value for the whole run after those first epochs:
    IoU/Dice/F1/precision/recall/mAP at or below ``zero_level``, or an accuracy constant within one
    quantum (1/n_val) at the share of one class. The trivial value is named: chance for k classes
    (1/k with a loss of about ln k), the majority share (checked against the loss: predicting the
    prior costs a cross-entropy H(p), a model that learned has less), or 0 (no positives predicted).
    A frozen first epoch's average already contains the collapse, so the loss is compared from the
    first few epochs on, not from its first value.

    Why it matters: there is no checkpoint worth keeping and nothing to tune early stopping on: the
    network died (ReLUs that never fire again, a saturated sigmoid, NaN weights) or predicts one class
    for everything. Every epoch after the collapse was wasted.

    What to do: when the loss froze, exploded or went NaN at once, lower the learning rate 10x (or run
    an LR range test), normalise the inputs, use a standard initialisation and clip gradients. When
    only the metric is trivial while the loss falls, the model learned the class prior: balance the
    classes (class weights, focal loss, resampling) or, for segmentation, use a Dice/IoU loss. When
    the "frozen" loss still falls at nearly every epoch (a crawl: evidence ``crawling``), the steps are
    too small: raise the learning rate instead.

    Example: ``loss froze at 2.406 from epoch 2 to 24 (it changed by less than 0.012 after its first
    3 epochs); val_accuracy stays at 0.1 = chance for 10 classes.``
    """

    code = "CC104"
    name = "never-learned"
    kind = "never_learned"
    severity = "error"
    min_points = 5

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        head_epochs: int = setting(3, "first epochs in which the loss may still move before it freezes ...")
        head_share: float = setting(0.2, "... or this share of the run, whichever is longer")
        frozen_rel: float = setting(0.005, "improvement after the head below this share of the loss level is frozen")
        k_sigma: float = setting(3.0, "... or below this many times the loss's noise level")
        explode_ratio: float = setting(
            10.0, "a first epoch this many times the frozen level (and the next two epochs) is an explosion")
        zero_level: float = setting(0.01, "IoU/Dice/F1/precision/recall/mAP at or below this is trivial")

    settings: Settings

    @dataclass
    class Evidence(EvidenceBase):
        signal: str  # nan_from_start | frozen_loss | explosion_then_frozen | trivial_metric
        loss: str | None = None
        frozen_from: float | None = None  # the log's epoch from which the loss is frozen
        frozen_level: float | None = None
        first_value: float | None = None
        improvement_after: float | None = None  # how much the loss still improved after frozen_from
        tolerance: float | None = None  # the improvement that would have counted as learning
        non_finite_points: int | None = None
        metric: str | None = None
        trivial_value: float | None = None
        trivial_meaning: str | None = None
        prior_entropy: float | None = None
        crawling: bool = False  # the loss still falls at nearly every epoch (too small steps, see crawl())

    def run(self, ctx: RunContext) -> list[Finding]:
        loss = ctx.primary_loss("train") or ctx.primary_loss("val")
        if loss is not None and not np.isfinite(loss.values[0]) and (~loss.finite).mean() >= 0.5:
            return [self._nan(ctx, loss)]
        c = self._epoch_like(ctx, ctx.curve(loss))
        frozen = self._frozen(c) if c is not None and c.n >= self.min_points else None
        start = frozen if frozen is not None else min(self._head(ctx.num_points), max(ctx.num_points - 3, 0))
        trivial = self._trivial_metrics(ctx, start, c)
        if self._learned_before(ctx):
            return []  # it learned, then collapsed: divergence, not a run that never learned
        if frozen is not None:
            assert c is not None
            level = float(median(c.values[-max(3, (c.n - frozen) // 4):]))
            # far above the frozen level and above the next epochs too (a healthy first epoch is not)
            exploded = c.values[0] >= self.settings.explode_ratio * max(abs(level), float(median(c.values[1:3])))
            # the run's start is its first logged value, not the first per-evaluation average of a per-step
            # loss (which already holds the early descent of a run that learned within one interval)
            logged = loss.values[loss.finite] if loss is not None else np.array([])  # ctx.curve may be binned
            start_value = float(logged[0]) if logged.size else float(c.values[0])
            never_below_start = float(np.min(c.values[frozen:])) >= start_value - self._tolerance(c, frozen)
            if exploded or never_below_start or trivial:
                return [self._frozen_finding(ctx, c, frozen, level, exploded, trivial, start_value)]
        if trivial:
            return [self._trivial_finding(ctx, trivial)]
        return []

    @staticmethod
    def _learned_before(ctx: RunContext) -> bool:
        """True when a split's loss ends at or above what predicting its final accuracy's share costs
        but was clearly below it earlier: the model learned, then collapsed (a saturated run that
        reached 97 % validation accuracy in epoch 1)."""
        for split in ("val", "train"):
            loss = ctx.curve(ctx.primary_loss(split))
            for m in ctx.metrics(split):
                c = ctx.curve(m)
                if loss is None or c is None or m.kind != "accuracy" or c.n < 5:
                    continue
                share = float(median(c.values[-max(3, c.n // 3):]))
                if not 0 < share < 1:
                    continue
                cost = 0.9 * binary_entropy(share)
                if float(median(loss.values[-3:])) >= cost > float(np.min(loss.values)):
                    return True
        return False

    @staticmethod
    def _epoch_like(ctx: RunContext, c: Curve | None) -> Curve | None:
        """The loss averaged per evaluation when it was logged per optimizer step (minibatch noise would
        otherwise widen the tolerance until a falling loss looks frozen)."""
        if c is None:
            return None
        val = next((s for s in ctx.losses("val") if s.finite.sum() >= 5), None)
        binned = per_evaluation(c.x, c.values, val.x[val.finite] if val is not None else None)
        if binned is None:
            return c
        return Curve(c.series, binned[0], binned[1], c.sign)

    def _head(self, n: int) -> int:
        """How many first epochs may still move before the loss freezes."""
        return max(int(self.settings.head_epochs), math.ceil(self.settings.head_share * n))

    def _tolerance(self, c: Curve, start: int) -> float:
        rest = c.values[start:]
        sigma = noise_level(rest[1:])  # without the point itself: a first-epoch explosion is not noise
        return max(self.settings.k_sigma * (sigma if np.isfinite(sigma) else 0.0),
                   self.settings.frozen_rel * abs(float(median(rest))))

    def _frozen(self, c: Curve) -> int | None:
        """The first index (within the head) from which the loss never improves beyond noise."""
        last = min(self._head(c.n), c.n - 4)
        for i, improvement in zip(range(last + 1), self._improvements(c, last)):
            if improvement <= self._tolerance(c, i):
                return i
        return None

    @classmethod
    def _improvements(cls, c: Curve, last: int) -> Iterator[float]:
        """``_improvement_after(c, i)`` for i = 0 .. last, bit for bit, from one running median of the
        whole curve instead of one per start: from its third point on, the running median of
        ``values[i:]`` has the same windows as the whole curve's; only its first two (cut by the start)
        differ. Exactness: no NaN when every value is finite, and the sign of a zero minimum matters
        only for a start value of -0.0 (x - 0.0 == x - -0.0 otherwise), so zeros take the plain path."""
        v = c.values
        if not np.isfinite(v).all():
            yield from (cls._improvement_after(c, i) for i in range(last + 1))
            return
        trend = rolling_median(v, 5).tolist()
        lowest_from = list(itertools.accumulate(reversed(trend), min))[::-1]
        xs = v.tolist()
        for i in range(last + 1):
            if xs[i] == 0:
                yield cls._improvement_after(c, i)
                continue
            lowest = min(float(median(v[i:i + 3])), float(median(v[i:i + 4])), lowest_from[i + 2])
            yield max(xs[i] - lowest, 0.0)

    @staticmethod
    def _improvement_after(c: Curve, start: int) -> float:
        """How far the loss's running median got below its value at ``start``."""
        return max(float(c.values[start] - np.nanmin(rolling_median(c.values[start:], 5))), 0.0)

    def _trivial_metrics(self, ctx: RunContext, start: int, loss: Curve | None) -> list[TrivialValue]:
        out = []
        for split in ("val", "train"):
            split_loss = ctx.curve(ctx.primary_loss(split)) or loss
            for m in ctx.metrics(split):
                c = ctx.curve(m)
                if c is None or c.n < self.min_points or c.n != ctx.num_points and c.n < 3 + start:
                    continue
                level = float(median(split_loss.values[start:])) if split_loss is not None else None
                t = trivial_value(c, start, level, self.settings.zero_level)
                if t is not None:
                    out.append(t)
        return out

    def _nan(self, ctx: RunContext, loss) -> Finding:
        bad = int((~loss.finite).sum())
        unit = ctx.x_axis
        ev = self.Evidence(signal="nan_from_start", loss=loss.name, non_finite_points=bad)
        msg = (f"{loss.name} is NaN or inf from the first {unit} ({bad} of {len(loss)} {unit}s): the weights were "
               f"never finite, so no {unit} is worth keeping.")
        return self.finding(series=[loss.name], epochs={"start": loss.x[0], "end": loss.x[-1]}, message=msg,
                            evidence=ev, advice=self._advice(collapse=True))

    def _frozen_finding(self, ctx: RunContext, c: Curve, frozen: int, level: float, exploded: bool,
                        trivial: list[TrivialValue], start_value: float) -> Finding:
        unit = ctx.x_axis
        tol = self._tolerance(c, frozen)
        improvement = self._improvement_after(c, frozen)
        signal = "explosion_then_frozen" if exploded else "frozen_loss"
        head = trivial[0] if trivial else None
        ev = self.Evidence(signal=signal, loss=c.name, frozen_from=c.x[frozen], frozen_level=level,
                           first_value=start_value, improvement_after=improvement, tolerance=tol,
                           metric=head.metric if head else None, trivial_value=head.value if head else None,
                           trivial_meaning=head.meaning if head else None,
                           prior_entropy=head.prior_entropy if head else None)
        crawling = None if exploded else crawling_loss(ctx.run, self.settings.k_sigma)
        if crawling is not None and ev.prior_entropy is not None and level > CRAWL_SATURATED_VS_PRIOR * ev.prior_entropy:
            crawling = None  # far above the prior's cost: saturated by large steps, not barely moving
        ev.crawling = crawling is not None
        settled = self._settled_from(c, frozen, level, tol)
        rule = (f"less than {fmt(tol)} (the larger of {self.settings.k_sigma:g}x its noise and "
                f"{self.settings.frozen_rel:.1%} of its level)")
        if settled is None:  # still rising: it never improved, but it did not freeze either
            msg = (f"{c.name} never improved after {unit} {fx(c.x[frozen])}: it rose from {fmt(c.values[frozen])} "
                   f"to {fmt(c.values[-1])}.")
        else:
            rose = (f" after rising from {fmt(c.values[frozen])}" if c.values[frozen] < level - tol else "")
            msg = (f"{c.name} froze at {fmt(level)} from {unit} {fx(c.x[settled])} to {fx(c.x[-1])}{rose}: after "
                   f"{unit} {fx(c.x[frozen])} it improved by {fmt(improvement)}, {rule}.")
        if exploded:
            msg += f" Its first {unit} exploded to {fmt(c.values[0])}."
        elif level >= start_value - tol:
            msg += f" It never got more than {fmt(tol)} below its first value {fmt(start_value)}."
        if crawling is not None:
            name, falling, t = crawling[0].name, crawling[1], crawling[2]
            msg += (f" Yet {name} falls at {falling:.0%} of {unit}s (slope t = {t:.1f}): the network is not frozen, "
                    f"its steps are too small.")
        msg += self._trivial_text(trivial)
        return self.finding(series=[c.name] + [t.metric for t in trivial],
                            epochs={"start": c.x[frozen], "end": c.x[-1]}, message=msg, evidence=ev,
                            advice=self._crawl_advice() if crawling is not None else self._advice(collapse=True))

    @staticmethod
    def _settled_from(c: Curve, start: int, level: float, tol: float) -> int | None:
        """The first index from which the loss stays within ``tol`` of its final level (None: never)."""
        away = np.nonzero(np.abs(c.values[start:] - level) > tol)[0]
        first = start if away.size == 0 else start + int(away[-1]) + 1
        return first if first <= c.n - 3 else None

    def _trivial_finding(self, ctx: RunContext, trivial: list[TrivialValue]) -> Finding:
        head = trivial[0]
        c = ctx.curve(ctx.run.series[head.metric])
        assert c is not None
        ev = self.Evidence(signal="trivial_metric", metric=head.metric, trivial_value=head.value,
                           trivial_meaning=head.meaning, prior_entropy=head.prior_entropy)
        msg = f"The model never got past a trivial prediction:{self._trivial_text(trivial)[1:]}"
        return self.finding(series=[t.metric for t in trivial], epochs={"start": c.x[0], "end": c.x[-1]},
                            message=msg, evidence=ev, advice=self._advice(collapse=False))

    @staticmethod
    def _trivial_text(trivial: list[TrivialValue]) -> str:
        return "".join(f" {t.metric} stays at {fmt(t.value)} = {t.meaning}." for t in trivial[:3])

    @staticmethod
    def _crawl_advice() -> str:
        return ("No checkpoint of this run is usable yet. The loss moves at nearly every epoch by steps too small to "
                "matter: raise the learning rate (10x, or run an LR range test), then train again.")

    @staticmethod
    def _advice(collapse: bool) -> str:
        if collapse:
            return ("No checkpoint of this run is usable. Lower the learning rate 10x (or run an LR range test), "
                    "normalise the inputs, use a standard initialisation (He for ReLU, Glorot for sigmoid/tanh) "
                    "and clip gradients; then train again.")
        return ("The loss may fall, but the model only learned the class prior. Balance the classes (class "
                "weights, focal loss, resampling), use a Dice/IoU loss for small foregrounds, and check the "
                "metric's threshold and the labels.")
