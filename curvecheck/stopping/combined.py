"""Several monitors on one causal scale, watched by one rule.

A loss falls and an IoU rises, and their units differ, so raw values are never added: each monitor
is first turned into "how close to its own best so far", in its own direction, and the weighted
mean of those is the combined score (higher is better). Normalising uses only the evaluations seen
so far, so a replay over a finished log and the same log read as it grows give the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .base import StopRule

ANCHOR_EVALUATIONS = 5  # the "bad early" anchor of each monitor: the median of its first 5 finite values


def normalised_scores(goodness: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Combined score of every row of ``goodness`` (rows: evaluations, columns: monitors, higher is
    better, NaN for a missing value), normalised with these rows only: per monitor, 1 at its best,
    0 at the median of its first few finite values. NaN where any monitor is missing."""
    goodness = np.asarray(goodness, dtype=np.float64)
    total = np.zeros(goodness.shape[0])
    for j, w in enumerate(weights):
        g = goodness[:, j]
        finite = g[np.isfinite(g)]
        if finite.size == 0:
            return np.full(goodness.shape[0], np.nan)
        best = finite.max()
        low = float(np.median(finite[:ANCHOR_EVALUATIONS]))
        scale = best - low if best > low else 1.0
        total += w * ((g - best) / scale + 1.0)
    return np.where(np.isfinite(total), total / sum(weights), np.nan)


class CombinedScore(StopRule):
    """Feeds a rule the combined score of several monitors, normalised causally.

    :meth:`update` takes one value per monitor. Whenever the normalisation changes (a monitor
    reaches a new best, or during its first few evaluations), the inner rule is replayed from the
    start on the whole history rescaled, so its decision always equals a replay of the score as
    normalised with what has been seen so far.

    Args:
        make_inner: builds a fresh inner rule (it receives ``mode='max'``).
        directions: 'min' or 'max' per monitor.
        weights: weight per monitor (default 1 each).
    """

    name = "combined"

    def __init__(self, make_inner: Callable[..., StopRule], directions: Sequence[str],
                 weights: Sequence[float] | None = None) -> None:
        super().__init__("max")
        self.make_inner = make_inner
        self.signs = np.array([1.0 if d == "max" else -1.0 for d in directions])
        self.weights = list(weights) if weights else [1.0] * len(directions)
        if len(self.weights) != len(directions):
            raise ValueError("give one weight per monitor")
        self.goodness: list[np.ndarray] = []
        self.train: list[float | None] = []
        self.epochs: list[int] = []
        self.marks: tuple = ()
        self.inner = make_inner(mode="max")
        self.params = dict(self.inner.params, monitors=len(directions), weights=self.weights)

    def _normalisation_marks(self) -> tuple:
        g = np.array(self.goodness)
        marks = []
        for j in range(g.shape[1]):
            finite = g[np.isfinite(g[:, j]), j]
            marks.append((finite.max() if finite.size else math.nan, finite[:ANCHOR_EVALUATIONS].tolist()))
        return tuple((b, tuple(a)) for b, a in marks)

    def scores(self) -> np.ndarray:
        """The combined score of every evaluation so far, as normalised now."""
        if not self.goodness:
            return np.zeros(0)
        return normalised_scores(np.array(self.goodness), self.weights)

    def _step(self, index: int, value: Sequence[float], train_value: float | None, epoch: int) -> bool:
        self.goodness.append(self.signs * np.asarray(value, dtype=np.float64))
        self.train.append(train_value)
        self.epochs.append(epoch)
        marks = self._normalisation_marks()
        scores = self.scores()
        if marks != self.marks:  # rescaled: replay the inner rule on the whole rescaled history
            self.marks = marks
            self.inner = self.make_inner(mode="max")
            for s, tv, e in zip(scores[:-1], self.train[:-1], self.epochs[:-1]):
                if self.inner.update(float(s), tv, epoch=e):
                    break
        stop = self.inner.update(float(scores[-1]), train_value, epoch=epoch)
        self.best_index = self.inner.best_index
        self.reason, self.extra = self.inner.reason, self.inner.extra
        return stop

    @property
    def kept_index(self) -> int | None:
        return self.inner.kept_index

    def state(self) -> str:
        return self.inner.state()
