"""``CurvecheckStopping``: a Keras 3 callback that stops training with a curvecheck rule.

    from curvecheck.callbacks.keras import CurvecheckStopping
    model.fit(x, y, validation_data=(xv, yv), epochs=200,
              callbacks=[CurvecheckStopping(monitor="val_loss")])

Tested with Keras 3.15 on the torch backend (see tests/test_callbacks.py).
"""

from __future__ import annotations

from typing import Any

import keras

from ..stopping import StopRule
from .recorder import Recorder


class CurvecheckStopping(keras.callbacks.Callback):
    """Stop training when a curvecheck stopping rule fires; report the diagnostics at the end.

    The rule is fed the monitored value at the end of every epoch, exactly as
    ``curvecheck recommend-stop --strategy RULE`` replays it over the finished log, so both name
    the same epoch.

    Args:
        monitor: the logged quantity to watch (``val_loss``).
        rule: a rule name (``auto``, ``keras``, ``lightning``, ``gl``, ``pq``, ``up``,
            ``threshold``) or a rule object from :mod:`curvecheck.stopping`.
        mode: 'min', 'max' or 'auto' (from the name, as curvecheck reads names).
        restore_best_weights: at the end of training, restore the weights of the epoch the rule
            keeps (its best epoch).
        report: print curvecheck's diagnostics of the history at the end of training.
        verbose: 1 prints a line when the rule stops training.
        **settings: the rule's settings (e.g. ``patience=10`` for ``keras``; see its Args).

    After training: ``stopped_epoch`` (0-based, None when the rule never fired), ``best_epoch``,
    ``rule`` (its ``reason``), ``report`` (curvecheck's Report, when ``report=True``).
    """

    def __init__(self, monitor: str = "val_loss", rule: str | StopRule = "auto", mode: str = "auto",
                 restore_best_weights: bool = True, report: bool = True, verbose: int = 1, **settings: Any) -> None:
        super().__init__()
        self.monitor, self.rule_spec, self.mode, self.settings = monitor, rule, mode, settings
        self.restore_best_weights, self.print_report, self.verbose = restore_best_weights, report, verbose
        self.recorder = Recorder(monitor, rule, mode, **settings)
        self._reset()

    def _reset(self) -> None:
        if not isinstance(self.rule_spec, StopRule):
            self.recorder = Recorder(self.monitor, self.rule_spec, self.mode, **self.settings)
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self.best_weights = None
        self.report = None

    @property
    def rule(self) -> StopRule:
        return self.recorder.rule

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        stop = self.recorder.record(epoch, logs)
        kept = self.rule.kept_index
        if self.monitor in logs and kept is not None and kept == self.rule.count - 1:
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        if stop and self.stopped_epoch is None:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"Epoch {epoch + 1}: curvecheck {self.rule.name} rule stops training: {self.rule.reason}")

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != self.recorder.epochs[-1]:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
        if self.print_report:
            self.report = self.recorder.report()
