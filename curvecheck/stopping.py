"""Early-stopping rules, replayable over a finished log and usable online on a growing one.

Each rule is a small state machine (like Keras callbacks): ``update(index, epoch, value,
train_value)`` returns True when the rule would stop training after that epoch, and
``kept_index`` says which epoch's checkpoint would be kept. :func:`replay` runs a rule over a
whole curve.

- ``keras``: keras.callbacks.EarlyStopping (Keras 3), reproduced exactly, including its
  float32 comparisons, ``baseline``, ``start_from_epoch`` and ``restore_best_weights``.
- ``lightning``: lightning.pytorch.callbacks.EarlyStopping (check_finite, stopping and divergence
  thresholds, patience in validation checks).
- ``gl``, ``pq``, ``up``: Prechelt 1998, "Early Stopping - But When?".
- ``auto``: curvecheck's own rule (see :class:`AutoRule`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RULES = ("auto", "keras", "lightning", "gl", "pq", "up")


@dataclass
class StopResult:
    """Where a rule stops (``stop_index`` None: it never stopped) and which checkpoint it keeps."""

    rule: str
    params: dict[str, Any]
    stop_index: int | None
    kept_index: int | None
    epochs_seen: int
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        return self.stop_index is not None


def _f32(v: float) -> np.float32:
    return np.float32(v)


class KerasEarlyStopping:
    """keras.callbacks.EarlyStopping, replayed exactly (Keras 3.x semantics).

    Args mirror Keras: ``mode`` 'min'/'max', ``patience``, ``min_delta``, ``baseline``,
    ``start_from_epoch``, ``restore_best_weights``. ``epoch`` passed to :meth:`update` is the
    0-based epoch index Keras would pass to ``on_epoch_end`` (CSVLogger's epoch column).
    Keras compares through ``keras.ops`` on Python floats, which the backend turns into float32
    tensors; the replay compares in float32 too, so ties and tiny deltas match the callback.
    """

    name = "keras"

    def __init__(self, mode: str = "min", patience: int = 0, min_delta: float = 0.0,
                 baseline: float | None = None, start_from_epoch: int = 0, restore_best_weights: bool = True):
        if mode not in ("min", "max"):
            raise ValueError("mode must be 'min' or 'max'")
        self.mode, self.patience, self.baseline = mode, int(patience), baseline
        self.start_from_epoch, self.restore_best_weights = int(start_from_epoch), restore_best_weights
        # MonitorCallback: min_delta = abs(min_delta), negated for 'min' (monitor_op == less)
        self.min_delta = -abs(min_delta) if mode == "min" else abs(min_delta)
        self.params = {"mode": mode, "patience": self.patience, "min_delta": abs(min_delta), "baseline": baseline,
                       "start_from_epoch": self.start_from_epoch, "restore_best_weights": restore_best_weights}
        self.wait = 0
        self.reason = ""
        self.best: float | None = None
        self.best_epoch = 0
        self.best_index: int | None = None
        self.weights_index: int | None = None  # index whose "weights" restore_best_weights would restore
        self.last_index: int | None = None

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        a, b = _f32(value - self.min_delta), _f32(reference)
        return bool(a < b) if self.mode == "min" else bool(a > b)

    def update(self, index: int, epoch: int, value: float, train_value: float | None = None) -> bool:
        self.last_index = index
        if value is None or epoch < self.start_from_epoch:
            return False
        if self.restore_best_weights and self.weights_index is None:
            self.weights_index = index
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best = value
            self.best_epoch = epoch
            self.best_index = index
            if self.restore_best_weights:
                self.weights_index = index
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return False
        if self.wait >= self.patience and epoch > 0:
            self.reason = (f"no improvement by more than min_delta={abs(self.min_delta):g} for {self.wait} "
                           f"epochs (patience {self.patience})")
            return True
        return False

    @property
    def kept_index(self) -> int | None:
        if self.restore_best_weights and self.weights_index is not None:
            return self.weights_index
        return self.last_index


class LightningEarlyStopping:
    """lightning.pytorch.callbacks.EarlyStopping, replayed (patience counts validation checks).

    Order of checks, as in Lightning: non-finite (``check_finite``) -> stop; ``stopping_threshold``
    reached -> stop; ``divergence_threshold`` crossed -> stop; improvement by more than
    ``min_delta`` -> reset; else wait += 1 and stop when wait >= patience. Lightning does not
    restore weights; the kept checkpoint reported is the best one (a ModelCheckpoint on the same
    monitor keeps it).
    """

    name = "lightning"

    def __init__(self, mode: str = "min", patience: int = 3, min_delta: float = 0.0, check_finite: bool = True,
                 stopping_threshold: float | None = None, divergence_threshold: float | None = None):
        self.mode, self.patience, self.check_finite = mode, int(patience), check_finite
        self.stopping_threshold, self.divergence_threshold = stopping_threshold, divergence_threshold
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)
        self.params = {"mode": mode, "patience": self.patience, "min_delta": abs(min_delta),
                       "check_finite": check_finite, "stopping_threshold": stopping_threshold,
                       "divergence_threshold": divergence_threshold}
        self.best = np.float32(np.inf if mode == "min" else -np.inf)
        self.best_index: int | None = None
        self.wait = 0
        self.reason = ""

    def _better(self, a: float, b: float) -> bool:
        return bool(_f32(a) < _f32(b)) if self.mode == "min" else bool(_f32(a) > _f32(b))

    def update(self, index: int, epoch: int, value: float, train_value: float | None = None) -> bool:
        current = _f32(value)
        if self.check_finite and not np.isfinite(current):
            self.reason = "non-finite"
            return True
        if self.stopping_threshold is not None and self._better(current, self.stopping_threshold):
            self.reason = "stopping threshold reached"
            return True
        if self.divergence_threshold is not None and self._better(-current, -self.divergence_threshold):
            self.reason = "divergence threshold crossed"
            return True
        if self._better(current - _f32(self.min_delta), self.best):
            self.best, self.best_index, self.wait = current, index, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.reason = "patience exhausted"
            return True
        return False

    @property
    def kept_index(self) -> int | None:
        return self.best_index


class _PrecheltBase:
    """Shared state of Prechelt's criteria: validation error so far and the best epoch."""

    def __init__(self, mode: str = "min", strip: int = 5):
        self.mode, self.strip = mode, int(strip)
        self.errors: list[float] = []
        self.train: list[float] = []
        self.reason = ""
        self.best_index: int | None = None
        self.best = math.inf

    def _error(self, value: float) -> float:
        # Prechelt works on errors (lower is better); for a metric that rises, use its negation
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
        """GL(t) = 100 (E_va(t) / E_opt(t) - 1); for errors that may be negative, relative to |E_opt|."""
        if not np.isfinite(e):
            return math.inf
        if not np.isfinite(self.best) or self.best == 0:
            return 0.0
        return 100.0 * (e - self.best) / abs(self.best)

    @property
    def kept_index(self) -> int | None:
        return self.best_index


class PrecheltGL(_PrecheltBase):
    """GL_alpha: stop as soon as the generalisation loss GL(t) exceeds ``alpha`` (percent)."""

    name = "gl"

    def __init__(self, mode: str = "min", alpha: float = 5.0, strip: int = 5):
        super().__init__(mode, strip)
        self.alpha = alpha
        self.params = {"mode": mode, "alpha": alpha}

    def update(self, index: int, epoch: int, value: float, train_value: float | None = None) -> bool:
        gl = self.gl(self._record(index, value, train_value))
        if gl > self.alpha:
            self.reason = f"generalisation loss GL = {gl:.1f}% > {self.alpha:g}%"
            return True
        return False


class PrecheltPQ(_PrecheltBase):
    """PQ_alpha: at the end of each strip of ``strip`` epochs, stop when GL(t) / P_k(t) > ``alpha``.

    P_k(t) = 1000 (sum of the last k training errors / (k * their minimum) - 1): training progress.
    Needs the training curve; without it, behaves like GL.
    """

    name = "pq"

    def __init__(self, mode: str = "min", alpha: float = 0.5, strip: int = 5):
        super().__init__(mode, strip)
        self.alpha = alpha
        self.params = {"mode": mode, "alpha": alpha, "strip": strip}

    def update(self, index: int, epoch: int, value: float, train_value: float | None = None) -> bool:
        e = self._record(index, value, train_value)
        if len(self.errors) % self.strip:
            return False
        if len(self.train) < self.strip:
            return self.gl(e) > self.alpha
        last = np.array(self.train[-self.strip:])
        lo = np.min(last)
        if not np.isfinite(last).all() or lo == 0:
            return self.gl(e) > self.alpha
        progress = 1000.0 * (np.sum(last) / (self.strip * lo) - 1.0) if lo > 0 else 1000.0 * (
            np.sum(last - lo) / (self.strip * abs(lo)))
        if progress <= 0:
            return self.gl(e) > 0
        if self.gl(e) / progress > self.alpha:
            self.reason = f"GL / training progress = {self.gl(e) / progress:.2f} > {self.alpha:g}"
            return True
        return False


class PrecheltUP(_PrecheltBase):
    """UP_s: stop when the validation error rose at the end of ``s`` successive strips."""

    name = "up"

    def __init__(self, mode: str = "min", s: int = 3, strip: int = 5):
        super().__init__(mode, strip)
        self.s = int(s)
        self.params = {"mode": mode, "s": self.s, "strip": strip}
        self.rises = 0

    def update(self, index: int, epoch: int, value: float, train_value: float | None = None) -> bool:
        e = self._record(index, value, train_value)
        n = len(self.errors)
        if n % self.strip or n <= self.strip:
            return False
        before = self.errors[n - 1 - self.strip]
        rose = not np.isfinite(e) or (np.isfinite(before) and e > before)
        self.rises = self.rises + 1 if rose else 0
        if self.rises >= self.s:
            self.reason = f"validation error rose over {self.s} successive strips of {self.strip} epochs"
            return True
        return False


def make_rule(rule: str, mode: str = "min", **params):
    """A fresh rule object by name (see :data:`RULES`)."""
    from .stopping_auto import AutoRule

    classes = {"keras": KerasEarlyStopping, "lightning": LightningEarlyStopping, "gl": PrecheltGL,
               "pq": PrecheltPQ, "up": PrecheltUP, "auto": AutoRule}
    if rule not in classes:
        raise ValueError(f"unknown rule '{rule}' (choose from {', '.join(RULES)})")
    return classes[rule](mode=mode, **params)


def replay(values, mode: str = "min", train_values=None, rule: str = "auto", epochs=None,
           **params) -> StopResult:
    """Replay a stopping rule over a whole curve, as if training had run with it.

    ``values`` is the monitored curve (NaN allowed), ``mode`` 'min' or 'max', ``train_values`` the
    training curve when the rule uses it (Prechelt's PQ), ``epochs`` the log's epoch numbers
    (default 0, 1, 2...). Returns where the rule would have stopped and which checkpoint it keeps
    (indices into ``values``).

    >>> replay([1.0, 0.8, 0.7, 0.72, 0.71, 0.73], rule="keras", patience=2).stop_index
    4
    """
    values = np.asarray(values, dtype=np.float64)
    epochs = np.arange(values.shape[0]) if epochs is None else np.asarray(epochs)
    train = None if train_values is None else np.asarray(train_values, dtype=np.float64)
    state = make_rule(rule, mode=mode, **params)
    for i, v in enumerate(values):
        tv = None if train is None else float(train[i])
        if state.update(i, int(epochs[i]), float(v), tv):
            return StopResult(rule, state.params, i, state.kept_index, i + 1, getattr(state, "reason", ""),
                              getattr(state, "extra", {}))
    return StopResult(rule, state.params, None, state.kept_index, int(values.shape[0]), "",
                      getattr(state, "extra", {}))
