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
    lines.append(inspect.cleandoc(check.__doc__ or ""))
    lines.append("")
    lines.append(f"Needs at least {check.min_points} epochs.")
    docs = setting_docs(check.Settings)
    if docs:
        lines.append(f"Settings (default: meaning); set with --set {check.name}.NAME=VALUE or in config:")
        for key, _typ, default, meaning in docs:
            lines.append(f"  {key} = {default:g}: {meaning}")
    return "\n".join(lines)


def readme_catalogue(checks: Iterable[type[Check]]) -> str:
    """The README's catalogue section (Markdown), generated from the same docstrings."""
    out = ["| code | name | severity | what it detects |", "| --- | --- | --- | --- |"]
    out += [f"| {c.code} | {c.name} | {c.severity} | {c.summary()} |" for c in checks]
    return "\n".join(out)
