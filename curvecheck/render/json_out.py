"""The JSON document CI users script against (``schema_version`` in report.py)."""

from __future__ import annotations

import json

from ..report import Report


def render_json(report: Report) -> str:
    # allow_nan=False: non-finite numbers are already None, so the output is strict JSON.
    return json.dumps(report.to_dict(), indent=2, allow_nan=False)
