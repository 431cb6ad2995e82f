"""Prechelt 1998, "Early Stopping - But When?": the GL, PQ and UP criteria.

Prechelt works on errors (lower is better); a metric that rises is negated first.
E_opt(t) is the lowest validation error so far; GL(t) = 100 (E_va(t) / E_opt(t) - 1).
"""

from __future__ import annotations

import math

import numpy as np

from .base import StopRule


class _Prechelt(StopRule):
    """Shared state: the validation (and training) errors so far and the best one."""

    def __init__(self, mode: str = "min", strip: int = 5) -> None:
        super().__init__(mode)
        self.strip = int(strip)
        self.errors: list[float] = []
        self.train: list[float] = []
        self.best = math.inf

    def _error(self, value: float) -> float:
        return value if self.mode == "min" else -value

    def _record(self, index: int, value: float, train_value: float | None) -> float:
        e = self._error(value)
        self.errors.append(e)
        if train_value is not None:
            self.train.append(self._error(train_value))
        if np.isfinite(e) and e < self.best:
            self.best, self.best_index = e, index
        return e

    def gl(self, e: float) -> float:
        """GL(t) in percent; for errors that may be negative, relative to |E_opt|."""
        if not np.isfinite(e):
            return math.inf
        if not np.isfinite(self.best) or self.best == 0:
            return 0.0
        return 100.0 * (e - self.best) / abs(self.best)


class PrecheltGL(_Prechelt):
    """GL_alpha: stop as soon as the generalisation loss GL(t) exceeds ``alpha`` percent.

    Args:
        mode: 'min' or 'max'.
        alpha: GL threshold in percent (Prechelt's GL5 is 5).
    """

    name = "gl"

    def __init__(self, mode: str = "min", alpha: float = 5.0, strip: int = 5) -> None:
        super().__init__(mode, strip)
        self.alpha = alpha
        self.params.update(alpha=alpha)

    def _step(self, index: int, value: float, train_value: float | None, epoch: int) -> bool:
        gl = self.gl(self._record(index, value, train_value))
        if gl > self.alpha:
            self.reason = f"generalisation loss GL = {gl:.1f}% > {self.alpha:g}%"
            return True
        return False


class PrecheltPQ(_Prechelt):
    """PQ_alpha: at the end of each strip, stop when GL(t) / P_k(t) > ``alpha``.

    P_k(t) = 1000 (sum of the last k training errors / (k * their minimum) - 1) is the training
    progress over the strip. Without a training curve it behaves like GL.

    Args:
        mode: 'min' or 'max'.
        alpha: threshold on GL / P_k (Prechelt's PQ0.5 is 0.5).
        strip: strip length k in evaluations (5).
    """

    name = "pq"

    def __init__(self, mode: str = "min", alpha: float = 0.5, strip: int = 5) -> None:
        super().__init__(mode, strip)
        self.alpha = alpha
        self.params.update(alpha=alpha, strip=self.strip)

    def _step(self, index: int, value: float, train_value: float | None, epoch: int) -> bool:
        e = self._record(index, value, train_value)
        if len(self.errors) % self.strip:
            return False
        if len(self.train) < self.strip:
            return self._gl_stop(e, self.alpha)
        last = np.array(self.train[-self.strip:])
        lo = np.min(last)
        if not np.isfinite(last).all() or lo == 0:
            return self._gl_stop(e, self.alpha)
        progress = 1000.0 * (np.sum(last) / (self.strip * lo) - 1.0) if lo > 0 else 1000.0 * (
            np.sum(last - lo) / (self.strip * abs(lo)))
        if progress <= 0:
            return self._gl_stop(e, 0.0)
        if self.gl(e) / progress > self.alpha:
            self.reason = f"GL / training progress = {self.gl(e) / progress:.2f} > {self.alpha:g}"
            return True
        return False

    def _gl_stop(self, e: float, alpha: float) -> bool:
        if self.gl(e) > alpha:
            self.reason = f"generalisation loss GL = {self.gl(e):.1f}% > {alpha:g}% (no training progress to weigh)"
            return True
        return False


class PrecheltUP(_Prechelt):
    """UP_s: stop when the validation error rose at the end of ``s`` successive strips.

    Args:
        mode: 'min' or 'max'.
        s: successive rising strips before stopping (Prechelt's UP3 is 3).
        strip: strip length in evaluations (5).
    """

    name = "up"

    def __init__(self, mode: str = "min", s: int = 3, strip: int = 5) -> None:
        super().__init__(mode, strip)
        self.s = int(s)
        self.params.update(s=self.s, strip=self.strip)
        self.rises = 0

    def _step(self, index: int, value: float, train_value: float | None, epoch: int) -> bool:
        e = self._record(index, value, train_value)
        n = len(self.errors)
        if n % self.strip or n <= self.strip:
            return False
        before = self.errors[n - 1 - self.strip]
        rose = not np.isfinite(e) or (np.isfinite(before) and e > before)
        self.rises = self.rises + 1 if rose else 0
        if self.rises >= self.s:
            self.reason = f"validation error rose over {self.s} successive strips of {self.strip} evaluations"
            return True
        return False
