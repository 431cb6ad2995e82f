"""Keras History JSON: ``json.dump(history.history)`` and the variants people actually commit.

Accepted shapes: a dict of per-epoch lists (bare ``NaN``/``Infinity`` tokens included), the same
wrapped as ``{"history": {...}}``, a list of per-epoch dicts, and a JSON string holding a Python
dict repr (``json.dump(str(history.history))``). Keys whose values are not lists of numbers
(config dicts, test scores, timestamps) are ignored and listed in a note.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter

import numpy as np

from ..errors import InputError
from ..model import Note, Run
from .common import name_list, run_from_table, usable_x
from .registry import ReadOptions
from .source import Source

_NOT_HISTORY = ("JSON is not a training history (expected a dict of per-epoch lists, "
                "{\"history\": {...}} or a list of per-epoch dicts)")


_GAP = object()  # an absent key or a null: not logged, unlike a written NaN


def _as_number(v) -> float | None | object:
    """A float, :data:`_GAP` for null, None when not a number."""
    if v is None:
        return _GAP
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        return _int_to_float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    if isinstance(v, list) and len(v) == 1:  # [0.5] from a logged 1-element tensor
        return _as_number(v[0])
    return None


def _int_to_float(v: int) -> float:
    try:
        return float(v)
    except OverflowError:  # an integer beyond the float range
        return float("inf") if v > 0 else float("-inf")


def parse_json(text: str):
    """json.loads that turns every number into a float: an integer of 5,000 digits is inf, not an error."""
    return json.loads(text, parse_int=float)


def _python_repr(text: str):
    """Parse a Python dict repr (single quotes, nan/inf as bare names) without eval."""
    safe = re.sub(r"\bnan\b", "None", text)
    safe = re.sub(r"\binf\b", "1e999", safe)
    return ast.literal_eval(safe)


def _unwrap(doc):
    if isinstance(doc, str):
        stripped = doc.strip()
        try:
            return _unwrap(parse_json(stripped))
        except ValueError:
            pass
        try:
            return _python_repr(stripped)
        except (ValueError, SyntaxError):
            return doc
    if isinstance(doc, dict):
        inner = doc.get("history")
        if isinstance(inner, (dict, list)):
            return _unwrap(inner)
    return doc


def _from_records(records: list) -> dict[str, list]:
    """Columns of a list of per-epoch dicts; a key absent from a record is a gap (None)."""
    keys: dict[str, None] = {}
    for rec in records:
        keys.update(dict.fromkeys(rec))
    return {k: [rec.get(k) for rec in records] for k in keys}


def read(source: Source, options: ReadOptions) -> Run:
    path, text = source.label, source.text
    try:
        doc = parse_json(text)
    except json.JSONDecodeError as exc:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and all(ln.startswith("{") and ln.endswith("}") for ln in lines[:20]):
            raise InputError(path, "this is JSON Lines (one record per line): "
                                   "read it with --log-format jsonl") from None
        raise InputError(path, f"invalid JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:
        raise InputError(path, f"invalid JSON: {exc}") from None
    doc = _unwrap(doc)
    if isinstance(doc, dict) and "log_history" in doc:
        raise InputError(path, "this is a Hugging Face trainer_state.json: read it with --log-format hf_trainer_state")
    if isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
        doc = _from_records(doc)
    if not isinstance(doc, dict):
        raise InputError(path, _NOT_HISTORY)

    numeric: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    ignored: list[str] = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            nums = [_as_number(v) for v in value]
            if all(n is not None for n in nums) and any(n is not _GAP for n in nums):
                present[str(key)] = np.array([n is not _GAP for n in nums], dtype=bool)
                numeric[str(key)] = np.array([n if n is not _GAP else np.nan for n in nums], dtype=np.float64)
                continue
        ignored.append(str(key))
    if not numeric:
        raise InputError(path, _NOT_HISTORY)

    # Lists of another length (phase markers, per-test scores) are not per-epoch curves.
    length = Counter(len(v) for v in numeric.values()).most_common(1)[0][0]
    for key in [k for k, v in numeric.items() if len(v) != length]:
        ignored.append(key)
        del numeric[key], present[key]

    notes: list[Note] = []
    epoch_key = next((k for k in numeric if k.lower() in ("epoch", "epochs")), None)
    if epoch_key is not None and present[epoch_key].all() and usable_x(numeric[epoch_key]).all():
        x = numeric.pop(epoch_key)
    else:
        x = np.arange(length, dtype=np.float64)
        notes.append(Note("epochs_from_rows", "History JSON has no epoch numbers: epochs numbered by "
                                              "position from 0 (as Keras CSVLogger counts; Keras prints "
                                              "them from 1)"))
    if ignored:
        notes.append(Note("dropped_keys", f"keys that are not per-epoch lists ignored: {name_list(ignored)}"))
    if not numeric:
        raise InputError(path, _NOT_HISTORY)
    return run_from_table(source.path, "keras_json", x, numeric, present=present, notes=notes,
                          segment=options.segment, directions=options.directions, roles=options.roles)
