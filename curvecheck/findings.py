"""A finding: what one check concluded about one run, with the evidence to verify it on the curve."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

from .vocab import FINDING_KINDS as KINDS  # noqa: F401  (re-exported)
from .vocab import SEVERITIES, SEVERITY_RANK  # noqa: F401


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
class Evidence:
    """Base of a check's typed evidence: the numbers that triggered a finding and the thresholds they
    crossed, as named fields. Each check declares its own subclass; the message is formatted from it,
    and verdicts and plots read its fields (never the message)."""

    def to_dict(self) -> dict[str, Any]:
        return evidence_dict(self)

    # read access by key, as for the plain dicts of checks not yet converted (``f.evidence["onset_epoch"]``)
    def __getitem__(self, key: str) -> Any:
        if key not in self:
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in {f.name for f in fields(self)}

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self else default


def evidence_dict(evidence: Evidence | dict[str, Any]) -> dict[str, Any]:
    """Evidence as a JSON-ready dict, whether typed or (for checks not yet converted) a plain dict."""
    if is_dataclass(evidence) and not isinstance(evidence, type):
        return json_safe(asdict(evidence))
    return json_safe(evidence)


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
    evidence: Evidence | dict[str, Any] = field(default_factory=dict)
    advice: str = ""

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "code": self.code, "name": self.name, "kind": self.kind, "severity": self.severity,
            "series": self.series, "epochs": self.epochs, "message": self.message,
            "evidence": evidence_dict(self.evidence), "advice": self.advice,
        })


def at_level(findings: list[Finding], fail_on: str) -> list[Finding]:
    """The findings at ``fail_on`` severity or worse (none for 'never'): what makes a command exit 1."""
    if fail_on == "never":
        return []
    if fail_on not in SEVERITY_RANK:
        from .errors import UsageError

        raise UsageError(f"fail-on must be one of error, warning, info, never; got {fail_on!r}")
    return [f for f in findings if SEVERITY_RANK[f.severity] <= SEVERITY_RANK[fail_on]]
