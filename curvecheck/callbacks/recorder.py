"""What the Keras and Lightning callbacks share: the history so far, the rule, the final report."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import understand
from ..stopping import StopRule, ThresholdRule, make_rule


def monitor_mode(monitor: str, mode: str = "auto") -> str:
    """'min' or 'max' for a monitored name (as curvecheck reads names: loss -> min, accuracy -> max)."""
    if mode in ("min", "max"):
        return mode
    direction = understand(monitor).direction
    if direction not in ("min", "max"):
        raise ValueError(f"cannot tell whether '{monitor}' should go up or down: pass mode='min' or mode='max'")
    return direction


def train_partner(monitor: str) -> str | None:
    """The training twin of a validation name (val_loss -> loss), for rules that use it (Prechelt PQ)."""
    for prefix in ("val_", "validation_", "val/"):
        if monitor.startswith(prefix):
            return monitor[len(prefix):]
    return None


class Recorder:
    """Keeps the logged values epoch by epoch and feeds the monitored one to a stop rule.

    ``log_format`` names where the history came from in the report (``keras_callback``,
    ``lightning_callback``), as a reader names its format.
    """

    def __init__(self, monitor: str, rule: str | StopRule = "auto", mode: str = "auto", *,
                 log_format: str = "keras_callback", **settings: Any) -> None:
        self.monitor, self.log_format = monitor, log_format
        self.mode = monitor_mode(monitor, mode)
        self.rule = rule if isinstance(rule, StopRule) else make_rule(rule, mode=self.mode, **settings)
        self.epochs: list[float] = []
        self.history: dict[str, list[float]] = {}

    def record(self, epoch: int, logs: dict[str, Any]) -> bool:
        """Store one epoch's logs; True when the rule says stop now. A missing monitor is skipped."""
        values = {k: f for k, f in ((k, _as_float(v)) for k, v in logs.items()) if f is not None}
        self.epochs.append(float(epoch))
        for name in set(self.history) | set(values):
            column = self.history.setdefault(name, [math.nan] * (len(self.epochs) - 1))
            column.append(values.get(name, math.nan))
        if isinstance(self.rule, ThresholdRule):  # its conditions name their own series
            if not all(name in values for name, _op, _bound in self.rule.conditions):
                return False
            return self.rule.update(values, epoch=epoch)
        if self.monitor not in values:
            return False
        partner = train_partner(self.monitor)
        return self.rule.update(values[self.monitor], values.get(partner) if partner else None, epoch=epoch)

    @property
    def evaluations(self) -> int:
        return self.rule.count

    def run(self, source: str = "training history"):
        """The history as a curvecheck Run (the same model every reader produces)."""
        from ..readers.common import run_from_table

        return run_from_table(Path(source), self.log_format, np.array(self.epochs),
                              {k: np.array(v) for k, v in self.history.items()})

    def report(self, console=None, source: str = "training history") -> Any:
        """Run curvecheck's diagnostics on the history and print the report; returns it."""
        from ..api import analyze_run
        from ..report import Report

        if len(self.epochs) < 2:
            return None
        report = Report(runs=[analyze_run(self.run(source))])
        from ..render.terminal import render_terminal

        render_terminal(report, console=console)
        return report


def _as_float(value: Any) -> float | None:
    try:
        if hasattr(value, "item"):
            value = value.item()
        return float(value)
    except (TypeError, ValueError):
        return None
