"""curvecheck's own stopping rule (``--strategy auto``): noise-banded relative progress.

At evaluation t (counting from 0), with values oriented so that lower is better:

- best so far ``b_t``; progress so far ``P_t = x_0 - b_t`` (x_0 the first finite value);
- noise ``s_t`` = median of the last ``noise_window`` (20) absolute step-to-step changes / 0.954
  (the median of |N(0, 2 sigma^2)| is 0.954 sigma); when that median is 0 (an exactly constant
  stretch, e.g. a quantised accuracy) their mean is used instead, so a flat stretch is not read as
  "noise-free and finished";
- a window that grows with the run, ``W_t = max(min_window, ceil(window_frac * t))`` (0.35 and 8),
  and the window's gain ``D_t = b_(t - W_t) - b_t``.

Stop when ``t >= min_window`` and ``D_t + z * sqrt(2) * s_t < eps * P_t``: over the last ~35 % of
the run the best improved by less than 3 % of all progress so far, even after adding one noise band.
Noisy or barely-learning runs keep going; clean saturating or overfitting runs stop early.

With the planned number of evaluations T known (``planned_epochs``), ``D_t`` is scaled by
``((T - 1 - t) / W_t) ** planned_power`` and ``eps_planned`` replaces ``eps``: a gain is worth more
when many epochs remain to repeat it, less near the end.

Safety nets: a non-finite value stops at once (``nan_patience`` 1); a run whose best is older than
``max(safety_min, safety_frac * t)`` evaluations stops even when it made no progress at all
(``P_t = 0`` would otherwise never stop).

The kept checkpoint is the best evaluation seen (what ``restore_best_weights=True`` restores).
Re-derived and verified on disjoint tuning and confirmation samples of real learning curves
(benchmarks/tune_auto.py, benchmarks/stop_quality.py, benchmarks/RESULTS.md).
"""

from __future__ import annotations

import math
from collections import deque
from statistics import median

from .base import StopRule

_SQRT2 = math.sqrt(2.0)
_MEDIAN_ABS_GAUSS = 0.954  # median of |X - Y| for X, Y ~ N(0, 1) is 0.954 (= sqrt(2) * 0.6745)


class AutoRule(StopRule):
    """Stop when the recent gain of the best, plus one noise band, is a small share of all progress.

    Args:
        mode: 'min' or 'max'.
        eps: the share of the progress so far the window's gain must reach to keep going (0.03).
        z: noise bands added to the gain before comparing (1.0).
        window_frac: the window is this share of the evaluations so far (0.35) ...
        min_window: ... and at least this many evaluations (8); no stop before it.
        noise_window: step-to-step changes the noise is estimated from (20).
        planned_epochs: planned number of evaluations (epochs), when known; None otherwise.
        eps_planned: ``eps`` used when ``planned_epochs`` is known (0.04).
        planned_power: exponent of the remaining-epochs scaling (0.5).
        safety_min, safety_frac: stop when the best is older than max(safety_min, safety_frac * t)
            evaluations (50, 0.5), whatever the progress.
        nan_patience: non-finite values in a row that stop the run (1: at once).

    >>> rule = AutoRule()
    >>> values = [1 / (1 + i) for i in range(10)] + [0.09] * 30
    >>> next(i for i, v in enumerate(values) if rule.update(v))
    17
    """

    name = "auto"

    def __init__(self, mode: str = "min", eps: float = 0.03, z: float = 1.0, window_frac: float = 0.35,
                 min_window: int = 8, noise_window: int = 20, planned_epochs: int | None = None,
                 eps_planned: float = 0.04, planned_power: float = 0.5, safety_min: int = 50,
                 safety_frac: float = 0.5, nan_patience: int = 1) -> None:
        super().__init__(mode)
        self.sign = 1.0 if mode == "min" else -1.0
        self.eps, self.z, self.window_frac, self.min_window = eps, z, window_frac, int(min_window)
        self.planned_epochs = None if planned_epochs is None else int(planned_epochs)
        self.eps_planned, self.planned_power = eps_planned, planned_power
        self.safety_min, self.safety_frac, self.nan_patience = int(safety_min), safety_frac, int(nan_patience)
        self.params.update(eps=eps, z=z, window_frac=window_frac, min_window=self.min_window,
                           noise_window=int(noise_window), planned_epochs=self.planned_epochs,
                           eps_planned=eps_planned, planned_power=planned_power, safety_min=self.safety_min,
                           safety_frac=safety_frac, nan_patience=self.nan_patience)
        self.first: float | None = None
        self.previous: float | None = None
        self.best = math.inf
        self.bests: list[float] = []  # best so far after each evaluation (inf before the first finite one)
        self.changes: deque[float] = deque(maxlen=int(noise_window))
        self.nan_run = 0
        self.last = {"gain": math.nan, "noise": math.nan, "progress": math.nan, "window": 0}

    def noise(self) -> float:
        if not self.changes:
            return 0.0
        m = median(self.changes)
        return (m if m > 0 else sum(self.changes) / len(self.changes)) / _MEDIAN_ABS_GAUSS

    def _step(self, index: int, value: float, train_value: float | None, epoch: int) -> bool:
        x = self.sign * value if value is not None else math.nan
        if not math.isfinite(x):
            self.bests.append(self.best)
            self.nan_run += 1
            if self.nan_run >= self.nan_patience:
                self.reason = f"{self.nan_run} non-finite value(s) in a row"
                return True
            return False
        self.nan_run = 0
        if self.first is None:
            self.first = x
        if self.previous is not None:
            self.changes.append(abs(x - self.previous))
        self.previous = x
        if x < self.best:
            self.best, self.best_index = x, index
        self.bests.append(self.best)
        t = index
        if t < self.min_window:
            return False
        window = max(self.min_window, math.ceil(self.window_frac * t))
        gain = self.bests[t - window] - self.best
        eps = self.eps
        if self.planned_epochs is not None:
            gain *= (max(self.planned_epochs - 1 - t, 0) / window) ** self.planned_power
            eps = self.eps_planned
        progress = self.first - self.best
        noise = self.noise()
        self.last = {"gain": gain, "noise": noise, "progress": progress, "window": window}
        if gain + self.z * _SQRT2 * noise < eps * progress:
            self.reason = (f"over the last {window} evaluations the best improved by {gain:.3g}, which even with "
                           f"one noise band ({noise:.3g}) is under {eps:.0%} of the progress so far ({progress:.3g})")
            self.extra = dict(self.last)
            return True
        age = t - (self.best_index if self.best_index is not None else 0)
        if age > max(self.safety_min, self.safety_frac * t):
            self.reason = f"no new best for {age} evaluations (safety net)"
            return True
        return False

    def progress(self) -> str:
        last = self.last
        if not last["window"]:
            return f"warming up ({self.count}/{self.min_window + 1} evaluations)"
        return (f"gain over the last {last['window']}: {last['gain']:.3g} + noise {last['noise']:.3g} vs "
                f"{self.eps:.0%} of progress {last['progress']:.3g}")
