"""The JSON documents CI users script against, each with ``schema_version`` (report.py) and a
shipped JSON Schema (curvecheck/schema/): analyze, recommend-stop and compare."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..report import SCHEMA_VERSION, Report

if TYPE_CHECKING:
    from ..gate import GateResult
    from ..lr import SweepReport
    from ..recommend import Recommendation


def _dumps(doc: dict[str, Any]) -> str:
    # allow_nan=False: non-finite numbers are already None, so the output is strict JSON.
    return json.dumps(doc, indent=2, allow_nan=False)


def render_json(report: Report) -> str:
    return _dumps(report.to_dict())


def recommendation_json(rec: Recommendation) -> str:
    """``recommend-stop --json``: the recommendation's keys (as in analyze's ``recommendation``)."""
    return _dumps({"schema_version": SCHEMA_VERSION, **rec.to_dict()})


def comparison_json(sweep: SweepReport | None, gates: list[GateResult]) -> str:
    """``compare --json``: the ranked sweep, and/or ``gates`` (one per candidate of ``--baseline``)."""
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if sweep is not None:
        doc.update(sweep.to_dict())
    if gates:
        doc["gates"] = [g.to_dict() for g in gates]
    return _dumps(doc)
