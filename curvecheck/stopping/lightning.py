"""lightning.pytorch.callbacks.EarlyStopping, replayed."""

from __future__ import annotations

import numpy as np

from .base import StopRule, f32


class LightningEarlyStopping(StopRule):
    """lightning.pytorch.callbacks.EarlyStopping, replayed; patience counts validation checks.

    Order of checks, as in Lightning: non-finite (``check_finite``) -> stop; ``stopping_threshold``
    reached -> stop; ``divergence_threshold`` crossed -> stop; improvement by more than
    ``min_delta`` -> reset; else ``wait += 1`` and stop when ``wait >= patience``. Lightning does
    not restore weights; the kept checkpoint is the best one (what a ModelCheckpoint on the same
    monitor keeps).

    Args:
        mode: 'min' or 'max'.
        patience: validation checks without improvement before stopping (Lightning's default 3).
        min_delta: smallest change that counts as an improvement.
        check_finite: stop on NaN or infinity.
        stopping_threshold: stop as soon as the value is better than this.
        divergence_threshold: stop as soon as the value is worse than this.
    """

    name = "lightning"

    def __init__(self, mode: str = "min", patience: int = 3, min_delta: float = 0.0, check_finite: bool = True,
                 stopping_threshold: float | None = None, divergence_threshold: float | None = None) -> None:
        super().__init__(mode)
        self.patience, self.check_finite = int(patience), check_finite
        self.stopping_threshold, self.divergence_threshold = stopping_threshold, divergence_threshold
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)
        self.params.update(patience=self.patience, min_delta=abs(min_delta), check_finite=check_finite,
                           stopping_threshold=stopping_threshold, divergence_threshold=divergence_threshold)
        self.best = f32(np.inf if mode == "min" else -np.inf)
        self.wait = 0

    def _better(self, a: float | np.floating, b: float | np.floating) -> bool:
        return bool(f32(a) < f32(b)) if self.mode == "min" else bool(f32(a) > f32(b))

    def _step(self, index: int, value: float, train_value: float | None, epoch: int) -> bool:
        current = f32(value)
        if self.check_finite and not np.isfinite(current):
            self.reason = "non-finite value"
            return True
        if self.stopping_threshold is not None and self._better(current, self.stopping_threshold):
            self.reason = f"stopping threshold {self.stopping_threshold:g} reached"
            return True
        if self.divergence_threshold is not None and self._better(-current, -self.divergence_threshold):
            self.reason = f"divergence threshold {self.divergence_threshold:g} crossed"
            return True
        if self._better(current - f32(self.min_delta), self.best):
            self.best, self.best_index, self.wait = current, index, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.reason = f"no improvement for {self.wait} validation checks (patience {self.patience})"
            return True
        return False

    def progress(self) -> str:
        return f"wait {self.wait}/{self.patience}, best {float(self.best):.6g} at evaluation {self.best_index}"
