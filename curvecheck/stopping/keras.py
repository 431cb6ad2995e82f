"""keras.callbacks.EarlyStopping (Keras 3), replayed exactly."""

from __future__ import annotations

from .base import StopRule, f32


class KerasEarlyStopping(StopRule):
    """keras.callbacks.EarlyStopping, reproduced exactly, float32 comparisons included.

    Each epoch: ``wait += 1``; an improvement (beating the best by strictly more than
    ``|min_delta|``) records the best and resets ``wait`` (only if it also beats ``baseline``);
    otherwise stop when ``wait >= patience`` and the epoch is not 0. Epochs before
    ``start_from_epoch`` are ignored entirely. NaN is never an improvement.

    Args:
        mode: 'min' or 'max'.
        patience: epochs without improvement before stopping (Keras' default 0).
        min_delta: smallest change that counts as an improvement (absolute).
        baseline: the value must beat it for the wait to reset.
        start_from_epoch: epochs to wait before watching at all (the log's epoch numbers).
        restore_best_weights: keep the best epoch's weights (True) or the last ones.

    >>> rule = KerasEarlyStopping(patience=1)
    >>> [rule.update(v) for v in (1.0, 0.8, 0.9)]
    [False, False, True]
    >>> rule.kept_index
    1
    """

    name = "keras"

    def __init__(self, mode: str = "min", patience: int = 0, min_delta: float = 0.0, baseline: float | None = None,
                 start_from_epoch: int = 0, restore_best_weights: bool = True) -> None:
        super().__init__(mode)
        self.patience, self.baseline = int(patience), baseline
        self.start_from_epoch, self.restore_best_weights = int(start_from_epoch), restore_best_weights
        # keras MonitorCallback: min_delta = abs(min_delta), negated for 'min' (monitor_op == less)
        self.min_delta = -abs(min_delta) if mode == "min" else abs(min_delta)
        self.params.update(patience=self.patience, min_delta=abs(min_delta), baseline=baseline,
                           start_from_epoch=self.start_from_epoch, restore_best_weights=restore_best_weights)
        self.wait = 0
        self.best: float | None = None
        self.weights_index: int | None = None  # the epoch whose weights restore_best_weights restores
        self.last_index: int | None = None

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        a, b = f32(value - self.min_delta), f32(reference)
        return bool(a < b) if self.mode == "min" else bool(a > b)

    def _step(self, index: int, value: float, train_value: float | None, epoch: int) -> bool:
        self.last_index = index
        if value is None or epoch < self.start_from_epoch:
            return False
        if self.restore_best_weights and self.weights_index is None:
            self.weights_index = index
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best, self.best_index = value, index
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

    def progress(self) -> str:
        return f"wait {self.wait}/{self.patience}, best {self.best} at evaluation {self.best_index}"
