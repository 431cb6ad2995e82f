"""Several monitors on one causal scale, watched by one rule.

A loss falls and an IoU rises, and their units differ, so raw values are never added: each monitor
is first put on its own scale in its own direction (0 at the median of its first 5 finite values,
1 at its best so far), and the weighted mean of those is the combined score (higher is better).
Only the evaluations seen so far set the scales, so a replay over a finished log and the same log
read as it grows give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .base import StopRule

ANCHOR_EVALUATIONS = 5  # each monitor's 0 is the median of its first 5 finite values
RESCALE_STEP = 1.01  # re-normalise the history when a monitor's scale moved by more than 1%


def scales_of(goodness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per monitor (columns; higher is better, NaN missing): its 0 (median of the first finite values)
    and its scale (best - that 0; 1 while it has made no progress)."""
    lows, scales = [], []
    for column in np.asarray(goodness, dtype=np.float64).T:
        finite = column[np.isfinite(column)]
        low = float(np.median(finite[:ANCHOR_EVALUATIONS])) if finite.size else np.nan
        best = float(finite.max()) if finite.size else np.nan
        lows.append(low)
        scales.append(best - low if best > low else 1.0)
    return np.array(lows), np.array(scales)


def combine(goodness: np.ndarray, lows: np.ndarray, scales: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """The weighted mean of each monitor on its scale; NaN where any monitor is missing."""
    w = np.asarray(weights, dtype=np.float64)
    total = ((np.asarray(goodness, dtype=np.float64) - lows) / scales) @ w / w.sum()
    return np.where(np.isfinite(total), total, np.nan)


def normalised_scores(goodness: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Combined score of every row of ``goodness`` (rows: evaluations, columns: monitors, higher is
    better), normalised with these rows only."""
    lows, scales = scales_of(goodness)
    return combine(goodness, lows, scales, weights)


class CombinedScore(StopRule):
    """Feeds a rule the combined score of several monitors, normalised causally.

    :meth:`update` takes one value per monitor. While the scales hold, each new score is fed to the
    inner rule; when a monitor's 0 or scale moves (its first few evaluations, or its best grew the
    scale by more than 1%), the inner rule is replayed from the start on the whole history
    re-normalised, so its decision is always a replay of the score as normalised with what has been
    seen so far.

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
        self.anchors: list[list[float]] = [[] for _ in directions]
        self.best = np.full(len(directions), -np.inf)
        self.lows: np.ndarray | None = None
        self.scales: np.ndarray | None = None
        self.inner = make_inner(mode="max")
        self.params = dict(self.inner.params, monitors=len(directions), weights=self.weights)

    def _rescaled(self, row: np.ndarray) -> bool:
        """Update the running anchors and bests; True when the history must be re-normalised."""
        moved = False
        for j, g in enumerate(row):
            if np.isfinite(g):
                if len(self.anchors[j]) < ANCHOR_EVALUATIONS:
                    self.anchors[j].append(float(g))
                    moved = True
                self.best[j] = max(self.best[j], g)
        lows = np.array([np.median(a) if a else np.nan for a in self.anchors])
        scales = np.where(self.best > lows, self.best - lows, 1.0)
        if moved or self.scales is None or not np.all((scales >= self.scales) & (scales <= self.scales * RESCALE_STEP)):
            self.lows, self.scales = lows, scales
            return True
        return False

    def scores(self) -> np.ndarray:
        """The combined score of every evaluation so far, on the scales in use."""
        if not self.goodness or self.lows is None or self.scales is None:
            return np.zeros(0)
        return combine(np.array(self.goodness), self.lows, self.scales, self.weights)

    def _step(self, index: int, value: Sequence[float], train_value: float | None, epoch: int) -> bool:
        row = self.signs * np.asarray(value, dtype=np.float64)
        self.goodness.append(row)
        self.train.append(train_value)
        self.epochs.append(epoch)
        if self._rescaled(row):  # replay the inner rule on the whole re-normalised history
            self.inner = self.make_inner(mode="max")
            scores = self.scores()
            for s, tv, e in zip(scores[:-1], self.train[:-1], self.epochs[:-1]):
                if self.inner.update(float(s), tv, epoch=e):
                    break
            score = float(scores[-1])
        else:
            assert self.lows is not None and self.scales is not None
            score = float(combine(row[None, :], self.lows, self.scales, self.weights)[0])
        stop = self.inner.update(score, train_value, epoch=epoch)
        self.best_index = self.inner.best_index
        self.reason, self.extra = self.inner.reason, self.inner.extra
        return stop

    @property
    def kept_index(self) -> int | None:
        return self.inner.kept_index

    def state(self) -> str:
        return self.inner.state()
