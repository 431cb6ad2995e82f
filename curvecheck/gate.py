"""The regression gate: did a candidate run get worse than a baseline run?

``curvecheck compare CANDIDATE --baseline BASELINE --fail-if 'val_iou < -0.01'`` compares, for every
series both runs have, the value at each run's best epoch (or at its recommended epoch, or its last
epoch) and reports ``delta = candidate - baseline`` in the series' own units, with the noise band
``2 * sqrt(noise_baseline**2 + noise_candidate**2)`` (each run's epoch-to-epoch noise, see
:func:`curvecheck.signal.noise_level`): a delta inside the band is not evidence of a change.

A condition is ``METRIC OP THRESHOLD`` with OP one of ``< <= > >=`` and THRESHOLD a number in the
metric's units (``val_iou < -0.01``: IoU dropped by more than 0.01) or a percentage of the
baseline's magnitude (``val_loss > 5%``). The gate fails when any condition holds.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import UsageError
from .findings import json_safe
from .model import Run, Series

AT_CHOICES = ("best", "recommended", "last")
VERDICTS = ("better", "worse", "within_noise", "unknown")  # a MetricDelta's verdict
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_CONDITION = re.compile(r"^\s*(?P<metric>[^<>=]+?)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+]?[0-9.eE+-]+)\s*(?P<pct>%?)\s*$")


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``: holds when the metric's delta (candidate - baseline) satisfies it."""

    metric: str
    op: str
    threshold: float
    relative: bool = False  # threshold in percent of |baseline|

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}{'%' if self.relative else ''}"

    def holds(self, delta: "MetricDelta") -> bool:
        value = delta.relative_percent if self.relative else delta.delta
        return value is not None and math.isfinite(value) and _OPS[self.op](value, self.threshold)


def parse_condition(text: str, where: str = "--fail-if") -> Condition:
    """Parse ``'val_iou < -0.01'`` or ``'val_loss>5%'``; a malformed one is a :class:`UsageError` that
    starts with ``where`` (the flag, or the config file and key)."""
    m = _CONDITION.match(text)
    if not m:
        raise UsageError(f"{where}: expected 'METRIC < NUMBER' (or <=, >, >=; NUMBER may end in %), got '{text}'")
    try:
        value = float(m["value"])
    except ValueError:
        raise UsageError(f"{where}: '{m['value']}' is not a number in '{text}'") from None
    if not math.isfinite(value):
        raise UsageError(f"{where}: the threshold must be finite in '{text}'")
    return Condition(m["metric"], m["op"], value, bool(m["pct"]))


@dataclass
class MetricDelta:
    """One series compared between the two runs, at the chosen epochs."""

    metric: str
    direction: str
    baseline: float | None
    baseline_epoch: float | None
    candidate: float | None
    candidate_epoch: float | None
    delta: float | None
    relative_percent: float | None
    noise_band: float | None
    verdict: str  # one of VERDICTS

    def to_dict(self) -> dict[str, Any]:
        return json_safe(dict(self.__dict__))


@dataclass
class GateResult:
    """The comparison of a candidate with a baseline and which conditions failed it."""

    baseline: str
    candidate: str
    at: str
    deltas: list[MetricDelta]
    conditions: list[Condition] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # the candidate's findings per severity (as compare's)

    @property
    def passed(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "baseline": self.baseline, "candidate": self.candidate, "at": self.at,
            "conditions": [str(c) for c in self.conditions], "failed": self.failed, "passed": self.passed,
            "metrics": [d.to_dict() for d in self.deltas], "findings": self.findings,
        })


def _value_at(series: Series, at: str, epoch: float | None) -> tuple[float | None, float | None]:
    from .signal import best_index

    finite = np.flatnonzero(series.finite)
    if not finite.size:
        return None, None
    if at == "best":
        i = best_index(series.values, series.direction)
        if i is None:
            i = int(finite[-1])
    elif at == "recommended" and epoch is not None:
        hits = np.flatnonzero(series.x == epoch)
        if not hits.size or not series.finite[hits[-1]]:
            return None, None
        i = int(hits[-1])
    else:
        i = int(finite[-1])
    return float(series.values[i]), float(series.x[i])


def _recommended_epoch(run: Run) -> float | None:
    from .recommend import recommend_stop

    try:
        return recommend_stop(run).epoch
    except UsageError:
        return None


def _verdict(direction: str, delta: float | None, band: float | None) -> str:
    if delta is None or direction == "none":
        return "unknown"
    if band is not None and abs(delta) <= band:
        return "within_noise"
    better = delta < 0 if direction == "min" else delta > 0
    return "better" if better else "worse"


def compare_series(baseline: Series, candidate: Series, at: str,
                   epochs: tuple[float | None, float | None]) -> MetricDelta:
    from .signal import noise_level

    b, b_epoch = _value_at(baseline, at, epochs[0])
    c, c_epoch = _value_at(candidate, at, epochs[1])
    delta = c - b if b is not None and c is not None else None
    if delta is not None and not math.isfinite(delta):
        delta = None  # e.g. 1e308 - (-1e308): no meaningful difference to gate on
    relative = 100.0 * delta / abs(b) if delta is not None and b else None
    noises = [noise_level(baseline.values), noise_level(candidate.values)]
    band = 2.0 * math.sqrt(sum(n * n for n in noises)) if all(math.isfinite(n) for n in noises) else None
    return MetricDelta(candidate.name, candidate.direction, b, b_epoch, c, c_epoch, delta, relative, band,
                       _verdict(candidate.direction, delta, band))


def gate(candidate: Run, baseline: Run, conditions: list[str] | list[Condition] | None = None,
         at: str = "best", where: str = "--fail-if") -> GateResult:
    """Compare ``candidate`` with ``baseline`` series by series; ``failed`` lists the conditions that hold.
    ``where`` (the flag, or the config file and key) starts the error about a condition's metric."""
    if at not in AT_CHOICES:
        raise UsageError(f"--at must be one of {', '.join(AT_CHOICES)}, got '{at}'")
    parsed = [c if isinstance(c, Condition) else parse_condition(c, where) for c in conditions or []]
    shared = [s for s in candidate.signals() if s.name in baseline.series and s.kind != "lr"
              and s.direction != "none"]
    epochs = (_recommended_epoch(baseline), _recommended_epoch(candidate)) if at == "recommended" else (None, None)
    deltas = [compare_series(baseline.series[s.name], s, at, epochs) for s in shared]
    by_name = {d.metric: d for d in deltas}
    failed = []
    for cond in parsed:
        d = by_name.get(cond.metric)
        if d is None:
            names = ", ".join(sorted(by_name)) or "none"
            raise UsageError(f"{where} '{cond}': {cond.metric} is not a series of both runs (shared: {names})")
        if d.delta is None:  # a gate that cannot be checked must not pass silently
            failed.append(f"{cond} (no finite {cond.metric} to compare in "
                          f"{'the candidate' if d.candidate is None else 'the baseline'})")
        elif cond.holds(d):
            failed.append(str(cond))
    return GateResult(baseline.source, candidate.source, at, deltas, parsed, failed)
