"""JSON Lines: one JSON object per logged step or epoch (custom loops, ``wandb``-style dumps).

A key absent from a line is a gap, not NaN. The x-axis is ``--x`` when given, else ``epoch``,
else a step key (``step``, ``global_step``, ``_step``, ``iteration``), else the line number.
A line that is not a complete JSON object is reported: when it is the last line (a log read while
it is written) it is dropped with a note; elsewhere it is an error naming the line.
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import InputError
from ..model import Note, Run
from .common import check_roles, name_list, run_from_table, usable_x
from .csv_log import pick_x
from .keras_json import parse_json
from .registry import ReadOptions
from .source import Source


def _records(source: Source) -> tuple[list[dict], list[Note]]:
    lines = [(i + 1, ln) for i, ln in enumerate(source.text.splitlines()) if ln.strip()]
    records: list[dict] = []
    notes: list[Note] = []
    for k, (line_no, line) in enumerate(lines):
        try:
            rec = parse_json(line)
        except (json.JSONDecodeError, ValueError):
            if k == len(lines) - 1 and not source.text.endswith("\n"):
                notes.append(Note("partial_row", f"last line ({line_no}) is cut mid-write: dropped, not read as data"))
                break
            raise InputError(source.label, f"line {line_no} is not a JSON object") from None
        if not isinstance(rec, dict):
            raise InputError(source.label, f"line {line_no} is not a JSON object")
        records.append(_flatten(rec))
    return records, notes


def _flatten(rec: dict, prefix: str = "", depth: int = 0) -> dict:
    """{"train": {"loss": 0.5}} -> {"train/loss": 0.5}, as W&B and TensorBoard name nested metrics."""
    out: dict = {}
    for key, value in rec.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 3:
            out.update(_flatten(value, f"{name}/", depth + 1))
        else:
            out[name] = value
    return out


def _number(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def read(source: Source, options: ReadOptions) -> Run:
    records, notes = _records(source)
    if not records:
        raise InputError(source.label, "no JSON records")
    keys = list(dict.fromkeys(k for r in records for k in r))
    check_roles(source.label, options.roles, [str(k) for k in keys])
    columns: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    ignored: list[str] = []
    for key in keys:
        nums = [_number(r.get(key)) for r in records]
        mask = np.array([n is not None for n in nums])
        if not mask.any():
            ignored.append(str(key))
            continue
        columns[str(key)] = np.array([n if n is not None else np.nan for n in nums])
        present[str(key)] = mask
    try:
        x_name, x_axis = pick_x(list(columns), options)
    except InputError as exc:
        raise InputError(source.label, exc.problem) from None
    if x_name is not None:
        keep = present[x_name] & usable_x(columns[x_name])
        if not keep.all():
            notes.append(Note("rows_without_x", f"{int((~keep).sum())} record(s) without a usable '{x_name}' (absent, NaN, inf or "
                                                 f"beyond 2^53) left out"))
        x = columns.pop(x_name)[keep]
        columns = {k: v[keep] for k, v in columns.items()}
        present = {k: v[keep] for k, v in present.items() if k in columns}
    else:
        x = np.arange(len(records), dtype=np.float64)
        notes.append(Note("epochs_from_rows", "no epoch or step key: records numbered by line from 0"))
    for name in [c for c, r in options.roles.items() if r == "ignore"]:
        columns.pop(name, None)
    if ignored:
        notes.append(Note("dropped_keys", f"keys that are not numbers ignored: {name_list(ignored)}"))
    if not columns:
        raise InputError(source.label, "JSON Lines records hold no numeric values besides the x-axis")
    return run_from_table(source.path, "jsonl", x, columns, present=present, x_axis=x_axis, notes=notes,
                          segment=options.segment, directions=options.directions,
                          roles={n: r for n, r in options.roles.items() if r not in ("epoch", "step", "ignore")})
