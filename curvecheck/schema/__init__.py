"""The JSON Schemas of ``analyze --json`` (``report.schema.json``), ``recommend-stop --json``
(``recommend.schema.json``) and ``compare --json`` (``compare.schema.json``, a sweep and/or the
regression gate of ``--baseline``), generated from the code.

The document's shape comes from the report dataclasses (:mod:`curvecheck.report`, findings,
recommendation, LR verdict) and each check's ``Evidence`` dataclass, so the shipped schema cannot
drift from what curvecheck writes: a test regenerates it and compares with the committed file.
Regenerate after changing a dataclass::

    python -m curvecheck.schema            # rewrites the three files in curvecheck/schema/
    python -m curvecheck.schema --check    # exit 1 when a committed file is out of date
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from .. import gate, vocab

if typing.TYPE_CHECKING:
    from ..checks.base import Check

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
SCHEMA_ID = "https://github.com/curvecheck/curvecheck/schema/report.schema.json"
# the command whose --json output each file describes
SCHEMA_FILES = {"analyze": SCHEMA_FILE, "recommend-stop": SCHEMA_FILE.with_name("recommend.schema.json"),
                "compare": SCHEMA_FILE.with_name("compare.schema.json")}
SCHEMA_VERSION = {"const": 1}

# Fields kept in Python but not written to JSON (the ``to_dict`` methods leave them out).
_NOT_IN_JSON = {
    "SeriesSummary": {"is_signal", "sparkline_values"},
    "Report": {"loaded"},
    "Recommendation": {"failing_findings"},
    "GateResult": {"deltas"},  # written as "metrics" (see _EXTRA)
}
# Fields a ``to_dict`` writes under another name or computes (not dataclass fields).
_EXTRA = {
    "GateResult": {"passed": {"type": "boolean"},
                   "metrics": {"type": "array", "items": {"$ref": "#/$defs/MetricDelta"}}},
}
# Fields written only when they have a value (absent otherwise, so older documents stay as they were).
_OPTIONAL = {("RunReport", "reduced")}
# Fields whose Python type is loose but whose JSON shape is fixed.
_REFS = {
    ("RunReport", "findings"): {"type": "array", "items": {"$ref": "#/$defs/Finding"}},
    ("RunReport", "recommendation"): {"anyOf": [{"$ref": "#/$defs/Recommendation"}, {"type": "null"}]},
    ("RunReport", "lr_verdict"): {"anyOf": [{"$ref": "#/$defs/LRVerdict"}, {"type": "null"}]},
    ("Finding", "epochs"): {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
    ("Finding", "evidence"): {"type": "object"},  # refined per code below
    ("GateResult", "conditions"): {"type": "array", "items": {"type": "string"}},  # 'val_iou < -0.01'
}
# Fields that take one of the vocabulary's words.
_ENUMS = {
    ("SeriesSummary", "kind"): vocab.SERIES_KINDS, ("SeriesSummary", "split"): vocab.SPLITS,
    ("SeriesSummary", "direction"): vocab.DIRECTIONS, ("Finding", "kind"): vocab.FINDING_KINDS,
    ("Finding", "severity"): vocab.SEVERITIES, ("Recommendation", "strategy"): vocab.STRATEGIES,
    ("Recommendation", "status"): vocab.STOP_STATUSES, ("LRVerdict", "verdict"): vocab.LR_VERDICTS,
    ("RunReport", "x_axis"): vocab.X_AXES,
    ("SweepEntry", "verdict"): vocab.LR_VERDICTS, ("SweepEntry", "own_verdict"): vocab.LR_VERDICTS,
    ("MetricDelta", "direction"): vocab.DIRECTIONS, ("MetricDelta", "verdict"): gate.VERDICTS,
    ("GateResult", "at"): gate.AT_CHOICES,
}


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of a Python type hint (numbers may be null: non-finite values are written as null)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any or tp is object:
        return {}
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(a, defs) for a in args if a is not type(None)]
        if type(None) in args and not any("null" in o.get("type", ()) for o in options):
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": ["number", "null"]}
    if tp is str:
        return {"type": "string"}
    if origin in (list, tuple) or tp in (list, tuple):
        return {"type": "array", "items": _type_schema(args[0], defs)} if args else {"type": "array"}
    if origin is dict or tp is dict:
        return ({"type": "object", "additionalProperties": _type_schema(args[1], defs)} if args
                else {"type": "object"})
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return {"$ref": f"#/$defs/{_define(tp, defs)}"}
    raise TypeError(f"no JSON Schema for the type {tp!r}")


def _define(cls: type, defs: dict[str, Any], name: str | None = None) -> str:
    """Add the object schema of a dataclass to ``defs`` (every JSON field required but the ``_OPTIONAL``
    ones, no others)."""
    name = name or cls.__qualname__.replace(".", "")  # nested parts: LRScheduleDrop, not Drop
    if name in defs:
        return name
    defs[name] = {}  # placeholder against recursion
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in _NOT_IN_JSON.get(cls.__name__, ()):
            continue
        hint = hints[f.name]
        if (cls.__name__, f.name) in _OPTIONAL:  # absent rather than null: the type without None
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        schema = _REFS.get((cls.__name__, f.name)) or _type_schema(hint, defs)
        if (cls.__name__, f.name) in _ENUMS:
            schema = {"enum": list(_ENUMS[cls.__name__, f.name])}
        props[f.name] = schema
    props.update(_EXTRA.get(cls.__name__, {}))
    required = [p for p in props if (cls.__name__, p) not in _OPTIONAL]
    defs[name] = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
        defs[name]["description"] = " ".join(cls.__doc__.split())
    return name


def evidence_schema(check: type[Check]) -> dict[str, Any] | None:
    """The schema of a check's evidence: ``{"names": [...], "defs": {...}}`` with one object schema per
    evidence class it declares (named CODE + class name); None while it has declared none."""
    classes = [c for c in check.evidence_classes() if dataclasses.fields(c)]
    if not classes:
        return None
    defs: dict[str, Any] = {}
    names = [_define(c, defs, f"{check.code}{c.__name__}") for c in classes]
    return {"names": names, "defs": defs}


def build_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the analyze document, from the dataclasses."""
    from ..checks import CHECKS
    from ..lr import LRVerdict
    from ..model import Note, Segment
    from ..recommend import Recommendation
    from ..report import Report, RunError, RunReport, SeriesSummary

    defs: dict[str, Any] = {}
    for cls in (RunReport, SeriesSummary, Note, Segment, Recommendation, LRVerdict, RunError):
        _define(cls, defs)
    from ..findings import Finding

    _define(Finding, defs)
    # per code: the evidence's shape (checks that have not declared one accept any object)
    per_code = []
    for code, check in CHECKS.items():
        typed = evidence_schema(check)
        if typed is None:
            evidence: dict[str, Any] = {"type": "object"}
        else:
            defs.update(typed["defs"])
            refs = [{"$ref": f"#/$defs/{name}"} for name in typed["names"]]
            evidence = refs[0] if len(refs) == 1 else {"anyOf": refs}
        per_code.append({"if": {"properties": {"code": {"const": code}}},
                         "then": {"properties": {"name": {"const": check.name}, "kind": {"const": check.kind},
                                                 "evidence": evidence}}})
    defs["Finding"]["properties"]["code"] = {"enum": list(CHECKS)}
    defs["Finding"]["allOf"] = per_code
    report = _define(Report, defs)
    root = dict(defs.pop(report))
    root["properties"]["schema_version"] = SCHEMA_VERSION
    return _document("analyze", root, defs)


def _document(command: str, root: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID.replace("report.schema.json", SCHEMA_FILES[command].name),
            "title": f"curvecheck {command} --json", **root, "$defs": dict(sorted(defs.items()))}


def build_recommend_schema() -> dict[str, Any]:
    """``recommend-stop --json``: the Recommendation (as in analyze's ``runs[i].recommendation``)
    with ``schema_version``."""
    from ..recommend import Recommendation

    defs: dict[str, Any] = {}
    root = dict(defs.pop(_define(Recommendation, defs)))
    root["properties"] = {"schema_version": SCHEMA_VERSION, **root["properties"]}
    root["required"] = ["schema_version", *root["required"]]
    return _document("recommend-stop", root, defs)


def build_compare_schema() -> dict[str, Any]:
    """``compare --json``: the sweep (ranked runs, LR verdicts), and with ``--baseline`` the gates
    (one per candidate) instead."""
    from ..gate import GateResult, MetricDelta
    from ..lr import SweepEntry, SweepReport

    defs: dict[str, Any] = {}
    for cls in (SweepEntry, MetricDelta, GateResult):
        _define(cls, defs)
    sweep = dict(defs.pop(_define(SweepReport, defs)))
    # SweepReport.to_dict writes its entries as "runs"
    sweep_props = {("runs" if k == "entries" else k): v for k, v in sweep["properties"].items()}
    sweep_props["runs"] = {"type": "array", "items": {"$ref": "#/$defs/SweepEntry"}}
    props = {"schema_version": SCHEMA_VERSION, **sweep_props,
             "gates": {"type": "array", "items": {"$ref": "#/$defs/GateResult"}}}
    root = {"type": "object", "properties": props, "required": ["schema_version"],
            "anyOf": [{"required": list(sweep_props)}, {"required": ["gates"]}], "additionalProperties": False,
            "description": "A sweep ranked by compare (the sweep's keys), or the regression gate of "
                           "compare --baseline (gates: one per candidate)."}
    return _document("compare", root, defs)


_BUILDERS = {"analyze": build_schema, "recommend-stop": build_recommend_schema, "compare": build_compare_schema}


def schema_text(command: str = "analyze") -> str:
    return json.dumps(_BUILDERS[command](), indent=2) + "\n"


def load_schema(command: str = "analyze") -> dict[str, Any]:
    """The shipped schema of a command's --json output (the file in the package)."""
    return json.loads(SCHEMA_FILES[command].read_text())


def main(argv: list[str] | None = None) -> int:
    import sys

    args = sys.argv[1:] if argv is None else argv
    stale = 0
    for command, path in SCHEMA_FILES.items():
        text = schema_text(command)
        if "--check" in args:
            if (path.read_text() if path.exists() else "") != text:
                print(f"{path} is out of date: run python -m curvecheck.schema", file=sys.stderr)
                stale = 1
            continue
        path.write_text(text)
        print(f"wrote {path}")
    return stale
