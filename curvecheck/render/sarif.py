"""SARIF 2.1.0 for code-scanning UIs: one result per finding, rules documented from ``explain``.

A log path becomes a URI reference (percent-encoded, so spaces, ``#`` or ``?`` in a name cannot
change its meaning); messages are plain text with control characters shown escaped.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..names import terminal_text

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GATE_RULE = "gate"


def _rules() -> list[dict]:
    from ..checks import CHECKS
    from .docs import check_doc

    rules = []
    for check in CHECKS.values():
        doc = check_doc(check)
        rules.append({
            "id": check.code, "name": check.name,
            "shortDescription": {"text": check.summary()},
            "fullDescription": {"text": inspect.cleandoc(check.__doc__ or check.summary())},
            "help": {"text": doc},
            "defaultConfiguration": {"level": _LEVEL[check.severity]},
            "properties": {"kind": check.kind, "tags": ["training-curves", check.kind]},
        })
    rules.append({
        "id": GATE_RULE, "name": "regression-gate",
        "shortDescription": {"text": "A --fail-if condition of `compare --baseline` holds: the run got worse."},
        "help": {"text": "curvecheck compare CANDIDATE --baseline BASELINE --fail-if 'METRIC < DELTA' compares "
                         "each series' value at the chosen epoch and fails when a condition holds."},
        "defaultConfiguration": {"level": "error"},
    })
    return rules


def _uri(source: str) -> str:
    return quote(Path(source).as_posix(), safe="/")


def _location(source: str) -> dict:
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(source)}, "region": {"startLine": 1}}}


def _result(rule_index: dict[str, int], source: str, finding) -> dict:
    return {
        "ruleId": finding.code, "ruleIndex": rule_index[finding.code], "level": _LEVEL.get(finding.severity, "note"),
        "message": {"text": terminal_text(finding.message + (f" What to do: {finding.advice}" if finding.advice
                                                               else ""))},
        "locations": [_location(source)],
        "properties": {"series": finding.series, "epochs": finding.to_dict()["epochs"],
                       "evidence": finding.to_dict()["evidence"]},
    }


def render(findings_by_source: list[tuple[str, list]], gates: list | None = None) -> str:
    """One SARIF log: a run of curvecheck with a result per finding (and per failed gate)."""
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [_result(index, source, f) for source, findings in findings_by_source for f in findings]
    for g in gates or []:
        if not g.passed:
            results.append({"ruleId": GATE_RULE, "ruleIndex": index[GATE_RULE], "level": "error",
                            "message": {"text": terminal_text(f"worse than the baseline {g.baseline}: "
                                                              f"{'; '.join(g.failed)}")},
                            "locations": [_location(g.candidate)], "properties": {"gate": g.to_dict()}})
    artifacts = list(dict.fromkeys([s for s, _ in findings_by_source] + [g.candidate for g in gates or []]))
    doc = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "curvecheck", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "artifacts": [{"location": {"uri": _uri(s)}} for s in artifacts],
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, allow_nan=False)
