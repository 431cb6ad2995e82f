"""Check documentation as text: used by `curvecheck explain` and to generate the README catalogue."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from ..checks.base import Check, setting_docs


def check_table(checks: Iterable[type[Check]]) -> str:
    """One line per check: code, name, severity, what it detects."""
    rows = [f"{c.code}  {c.name:<24} {c.severity:<8} {c.summary()}" for c in checks]
    return "\n".join(rows) + "\n\n'curvecheck explain CODE' for details."


def check_doc(check: type[Check]) -> str:
    """The check's docstring followed by its thresholds."""
    lines = [f"{check.code} {check.name} (kind: {check.kind}, severity: {check.severity})", ""]
    lines.append(inspect.cleandoc(check.__doc__ or "").replace("``", "`"))  # reST literals read as Markdown ones
    lines.append("")
    lines.append(f"Needs at least {check.min_points} epochs.")
    docs = setting_docs(check.Settings)
    if docs:
        lines.append(f"Settings (default: meaning); set with --set {check.name}.NAME=VALUE or in config:")
        for key, _typ, default, meaning in docs:
            lines.append(f"  {key} = {default:g}: {meaning}")
    lines += evidence_lines(check)
    return "\n".join(lines)


def evidence_lines(check: type[Check]) -> list[str]:
    """The JSON shape of the check's ``evidence`` (from its Evidence dataclass, as in the schema)."""
    from ..schema import evidence_schema

    typed = evidence_schema(check)
    if typed is None:
        return ["Evidence (JSON 'evidence'): an object whose keys are not fixed yet."]
    out = []
    for shape in typed["names"]:
        out.append(f"Evidence (JSON 'evidence', schema $defs/{shape}):")
        for name, schema in typed["defs"][shape]["properties"].items():
            out.append(f"  {name}: {_describe(schema)}")
    return out


def _describe(schema: dict) -> str:
    """A JSON Schema fragment in words: 'number or null', 'array of number', 'object'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if "anyOf" in schema:
        return " or ".join(_describe(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array" and "items" in schema:
        return f"array of {_describe(schema['items'])}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_describe(schema['additionalProperties'])}"
    return kind


def readme_catalogue(checks: Iterable[type[Check]]) -> str:
    """The README's catalogue section (Markdown), generated from the same docstrings."""
    out = ["| code | name | severity | what it detects |", "| --- | --- | --- | --- |"]
    out += [f"| {c.code} | {c.name} | {c.severity} | {c.summary()} |" for c in checks]
    return "\n".join(out)
