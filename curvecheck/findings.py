"""A finding: what one check concluded about one run, with the evidence to verify it on the curve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
KINDS = (
    "non_finite", "divergence", "spike", "overfitting", "plateau", "oscillation",
    "loss_metric_divergence", "stuck_metric", "undertrained", "lr_schedule",
    "suspicious_validation", "data_integrity",
)


def json_safe(value: Any) -> Any:
    """Numbers as JSON numbers (non-finite -> None, integral floats -> int), recursively."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not np.isfinite(v):
            return None
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass
class Finding:
    """One diagnosis.

    ``epochs`` holds ``start``/``end`` (a span) or ``at`` (one epoch), in the log's own numbering
    (the run's ``x_axis`` says whether they are epochs or steps). ``evidence`` holds the numbers
    that triggered the finding and the thresholds they crossed.
    """

    code: str
    name: str
    kind: str
    severity: str
    series: list[str]
    epochs: dict[str, float]
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    advice: str = ""

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "code": self.code, "name": self.name, "kind": self.kind, "severity": self.severity,
            "series": self.series, "epochs": self.epochs, "message": self.message,
            "evidence": self.evidence, "advice": self.advice,
        })
