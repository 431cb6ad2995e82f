"""The interface every early-stopping rule follows, and what a replay returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


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


def check_mode(mode: str) -> str:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got '{mode}'")
    return mode


def f32(value: float | np.floating) -> np.float32:
    """Keras and Lightning compare float32 tensors: so do their replays, so ties match."""
    return np.float32(value)


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


class StopRule:
    """One early-stopping rule, fed one evaluation at a time, like a Keras callback.

    Call :meth:`update` after each evaluation with the monitored value (and the training value
    when the rule uses it); it returns True when training should stop now. Once it has returned
    True the rule is finished: later calls return True and change nothing.

    Attributes after each update: ``best_index`` (index of the best value seen, counting updates
    from 0), ``kept_index`` (the checkpoint the rule keeps), ``stop_index`` (None until it fires),
    ``reason`` (why it fired), ``params`` (its settings, for reports).
    """

    name: ClassVar[str] = ""

    def __init__(self, mode: str = "min") -> None:
        self.mode = check_mode(mode)
        self.count = 0
        self.best_index: int | None = None
        self.stop_index: int | None = None
        self.reason = ""
        self.extra: dict[str, Any] = {}
        self.params: dict[str, Any] = {"mode": mode}

    def update(self, value: Any, train_value: float | None = None, *, epoch: int | None = None) -> bool:
        """Feed the next evaluation; True when training should stop after it.

        ``epoch`` is the log's epoch number (only Keras' ``start_from_epoch`` and its "never at
        epoch 0" use it); by default the number of updates so far.
        """
        if self.stop_index is not None:
            return True
        index = self.count
        self.count += 1
        if self._step(index, value, train_value, index if epoch is None else int(epoch)):
            self.stop_index = index
            return True
        return False

    def _step(self, index: int, value: Any, train_value: float | None, epoch: int) -> bool:
        raise NotImplementedError

    @property
    def kept_index(self) -> int | None:
        """The checkpoint this rule keeps: the best one seen (as ``restore_best_weights=True``)."""
        return self.best_index

    @property
    def stopped(self) -> bool:
        return self.stop_index is not None

    def state(self) -> str:
        """One line on where the rule stands (for ``curvecheck watch``)."""
        if self.stopped:
            return f"stopped after evaluation {self.stop_index}: {self.reason}"
        return self.progress()

    def progress(self) -> str:
        """How far the rule is from firing (each rule says it in its own terms)."""
        return f"{self.count} evaluations seen, best at {self.best_index}"

    def result(self) -> StopResult:
        return StopResult(self.name, dict(self.params), self.stop_index, self.kept_index, self.count,
                          self.reason, dict(self.extra))
