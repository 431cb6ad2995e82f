"""``CurvecheckStopping``: a Lightning callback that stops training with a curvecheck rule.

    from curvecheck.callbacks.lightning import CurvecheckStopping
    trainer = L.Trainer(max_epochs=200, callbacks=[CurvecheckStopping(monitor="val_loss")])

The rule is fed once per validation run (as Lightning's EarlyStopping counts patience in
validation checks). Lightning does not restore weights: pair it with a ModelCheckpoint on the same
monitor to keep the best epoch. Tested with Lightning 2.6 (see tests/test_callbacks.py).
"""

from __future__ import annotations

from typing import Any

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the older package name
    from pytorch_lightning.callbacks import Callback  # type: ignore[assignment]

from ..stopping import StopRule
from .recorder import Recorder


class CurvecheckStopping(Callback):
    """Stop training when a curvecheck stopping rule fires; report the diagnostics at the end.

    Args:
        monitor: the logged metric to watch (``val_loss``), as in ``self.log("val_loss", ...)``.
        rule: a rule name (``auto``, ``keras``, ``lightning``, ``gl``, ``pq``, ``up``,
            ``threshold``) or a rule object from :mod:`curvecheck.stopping`.
        mode: 'min', 'max' or 'auto' (from the name, as curvecheck reads names).
        report: print curvecheck's diagnostics of the history at the end of training.
        verbose: print a line when the rule stops training.
        **settings: the rule's settings (e.g. ``patience=3`` for ``lightning``; see its Args).

    After training: ``stopped_epoch`` (None when the rule never fired), ``rule``, ``report``.
    """

    def __init__(self, monitor: str = "val_loss", rule: str | StopRule = "auto", mode: str = "auto",
                 report: bool = True, verbose: bool = True, **settings: Any) -> None:
        super().__init__()
        self.monitor, self.rule_spec, self.mode, self.settings = monitor, rule, mode, settings
        self.print_report, self.verbose = report, verbose
        self.recorder = Recorder(monitor, rule, mode, log_format="lightning_callback", **settings)
        self.stopped_epoch: int | None = None
        self.report = None

    @property
    def rule(self) -> StopRule:
        return self.recorder.rule

    def on_fit_start(self, trainer, pl_module) -> None:
        if not isinstance(self.rule_spec, StopRule):
            self.recorder = Recorder(self.monitor, self.rule_spec, self.mode, log_format="lightning_callback",
                                     **self.settings)
        self.stopped_epoch, self.report = None, None

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        stop = self.recorder.record(trainer.current_epoch, dict(trainer.callback_metrics))
        stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop and self.stopped_epoch is None:
            self.stopped_epoch = trainer.current_epoch
            trainer.should_stop = True
            if self.verbose:
                print(f"curvecheck {self.rule.name} rule stops training at epoch {trainer.current_epoch}: "
                      f"{self.rule.reason}")

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.print_report and trainer.is_global_zero:
            self.report = self.recorder.report()
