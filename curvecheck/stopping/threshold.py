"""Stop once target values are reached: ``val_loss<0.1`` and ``val_iou>0.8`` held for a while."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from typing import Any

from ..errors import UsageError
from .base import StopRule

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_CONDITION = re.compile(r"^\s*([^<>=\s]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+|nan|inf)\s*$")


def parse_conditions(conditions: list[str] | str) -> list[tuple[str, str, float]]:
    """``['val_loss<0.1']`` -> ``[('val_loss', '<', 0.1)]``; the name may be left out (``'<0.1'``)."""
    if isinstance(conditions, str):
        conditions = [conditions]
    out = []
    for c in conditions:
        m = _CONDITION.match(c)
        if not m:
            raise UsageError(f"--when expects NAME<VALUE or NAME>VALUE (also <=, >=), got '{c}'")
        out.append((m.group(1), m.group(2), float(m.group(3))))
    return out


def condition_text(conditions: list[tuple[str, str, float]]) -> list[str]:
    return [f"{name}{op}{bound:g}" for name, op, bound in conditions]


class ThresholdRule(StopRule):
    """Stop when every condition held for ``patience`` evaluations in a row.

    :meth:`update` takes either one number (checked against every condition, whatever its name)
    or a mapping ``{series name: value}``. A non-finite value never meets a condition. The kept
    checkpoint is the evaluation where the rule stops.

    Args:
        when: conditions such as ``"val_loss<0.1"`` (also ``<=``, ``>``, ``>=``); all must hold.
        patience: consecutive evaluations the conditions must hold (1: stop at the first).
        mode: unused (the conditions say which way is better); accepted for a uniform interface.

    >>> rule = ThresholdRule(when="val_loss<0.5", patience=2)
    >>> [rule.update({"val_loss": v}) for v in (0.9, 0.4, 0.6, 0.4, 0.3)]
    [False, False, False, False, True]
    """

    name = "threshold"

    def __init__(self, when: list[str] | str | None = None, patience: int = 1, mode: str = "min") -> None:
        super().__init__(mode)
        self.conditions = parse_conditions(when or [])
        if not self.conditions:
            raise UsageError("--strategy threshold needs at least one --when condition")
        self.patience = int(patience)
        self.params = {"when": condition_text(self.conditions), "patience": self.patience}
        self.held = 0
        self.held_total = 0

    def holds(self, value: Any) -> bool:
        for name, op, bound in self.conditions:
            v = value[name] if isinstance(value, Mapping) else value
            if v is None or not math.isfinite(v) or not OPERATORS[op](v, bound):
                return False
        return True

    def _step(self, index: int, value: Any, train_value: float | None, epoch: int) -> bool:
        if self.holds(value):
            self.held += 1
            self.held_total += 1
        else:
            self.held = 0
        if self.held >= self.patience:
            self.best_index = index
            self.reason = f"{' and '.join(self.params['when'])} held for {self.patience} evaluation(s)"
            return True
        return False

    def progress(self) -> str:
        return f"{' and '.join(self.params['when'])} held {self.held}/{self.patience}"
