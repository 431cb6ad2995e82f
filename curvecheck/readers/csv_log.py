"""Keras CSVLogger files and other per-epoch CSV histories (pandas dumps, Ultralytics results.csv).

Keras CSVLogger writes a header ``epoch,<keys sorted>``, ``NA`` for missing values, ``nan``/``inf``
for non-finite ones, ``\\r\\n`` line ends, and with ``append=True`` appends a restarted run to the
same file without a new header (the epoch counter goes back). pandas dumps of ``history.history``
have an empty first header cell (the index) or no epoch column at all.

The stdlib ``csv`` module is used instead of pandas: it reads these small files faster than
pandas imports, and lets us say exactly which cell is missing versus non-numeric.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import Note, Run
from .common import run_from_table

_MISSING = {"", "na", "n/a", "nan", "null", "none", "-"}
_NOT_LOGGED = {"", "na", "n/a", "null", "none", "-"}  # markers of "no value", unlike a logged nan
_EPOCH_NAMES = ("epoch", "epochs")


def _parse_cell(cell: str) -> float | None:
    """A float (NaN/inf included), NaN for a missing marker, None when not a number."""
    text = cell.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.lower() in _MISSING:
        return float("nan")
    if text.lower() in ("infinity", "+infinity"):
        return float("inf")
    if text.lower() == "-infinity":
        return float("-inf")
    return None


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _is_sparse(body: list[list[str]], width: int) -> bool:
    """Lightning writes one row per log call, leaving the other keys' cells empty (Keras writes NA)."""
    rows_with_gaps = sum(1 for r in body if len(r) < width or any(not c.strip() for c in r))
    return rows_with_gaps > 0.5 * len(body)


def _format_name(header: list[str]) -> str:
    low = [h.lower() for h in header]
    if any(h.startswith(("train/", "metrics/", "val/")) for h in low) and "epoch" in low:
        return "ultralytics_csv"
    if low and low[0] == "epoch":
        return "keras_csv"
    return "csv"


def read_csv_log(path: Path, text: str, *, segment: int | None = None,
                 directions: dict[str, str] | None = None) -> Run:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines (old Mac files, stray \r)
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    delimiter = _sniff_delimiter(first)
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(path, f"not a readable CSV ({exc})") from None
    if not rows:
        raise InputError(path, "empty file: no header and no rows")
    header = [h.strip() for h in rows[0]]
    if all(_parse_cell(h) is not None and h.strip() for h in header):
        raise InputError(path, "CSV has no header row: cannot tell which column is which")
    body = [r for r in rows[1:] if [c.strip() for c in r] != header]  # skip repeated headers
    if not body:
        raise InputError(path, "CSV has a header but no data rows")

    low = [h.lower() for h in header]
    if "step" in low and "epoch" in low and _is_sparse(body, width=len(header)):
        raise InputError(path, "this looks like a PyTorch Lightning metrics.csv (sparse rows with epoch and "
                               "step), which curvecheck cannot read yet")
    notes: list[Note] = []
    width = len(header)
    short = [i for i, r in enumerate(body) if len(r) < width]
    if short:
        where = "last row" if short == [len(body) - 1] else f"{len(short)} rows"
        notes.append(Note("truncated", f"{where} has fewer cells than the header (file cut mid-write?); "
                                       f"missing cells read as NaN"))
    cells = [[(r[j] if j < len(r) else "") for j in range(width)] for r in body]

    parsed: dict[str, np.ndarray] = {}
    dropped: list[str] = []
    empty: list[str] = []
    index_col = header[0] in ("", "Unnamed: 0")
    for j, name in enumerate(header):
        if name and all(row[j].strip().lower() in _NOT_LOGGED for row in cells):
            empty.append(name)  # Keras adds val_* columns as NA when epoch 0 had no validation
            continue
        values = [_parse_cell(row[j]) for row in cells]
        bad = sum(v is None for v in values)
        if bad:  # a column of strings (dates, names, tensors) is not a curve
            dropped.append(name or f"column {j + 1}")
            continue
        key = name if name else "index"
        parsed[key] = np.array(values, dtype=np.float64)

    epoch_key = next((h for h in header if h.lower() in _EPOCH_NAMES and h in parsed), None)
    step_key = next((h for h in header if h.lower() in ("step", "global_step") and h in parsed), None)
    x_axis = "epoch"
    if (epoch_key is not None and step_key is not None and np.isfinite(parsed[step_key]).all()
            and (np.diff(parsed[epoch_key]) <= 0).any() and (np.diff(parsed[step_key]) > 0).all()):
        # several rows per epoch (logged every N steps): the step is the axis, not a restart
        x = parsed.pop(step_key)
        x_axis = "step"
        notes.append(Note("step_axis", f"several rows per epoch: using '{step_key}' as the x-axis "
                                       f"('{epoch_key}' is kept as a series)"))
    elif epoch_key is not None:
        x = parsed.pop(epoch_key)
        if np.isnan(x).any():
            raise InputError(path, f"column '{epoch_key}' has empty or non-numeric cells")
    elif index_col and "index" in parsed:
        x = parsed.pop("index")
        notes.append(Note("epochs_from_index", "no epoch column: epochs taken from the pandas index column "
                                               "(counted from 0, like Keras CSVLogger)"))
    else:
        x = np.arange(len(cells), dtype=np.float64)
        notes.append(Note("epochs_from_rows", "no epoch column: epochs numbered by row from 0 "
                                              "(as Keras CSVLogger counts; Keras prints them from 1)"))
    parsed.pop("index", None)
    if dropped:
        notes.append(Note("dropped_columns", f"non-numeric column(s) ignored: {', '.join(dropped)}"))
    if empty:
        notes.append(Note("empty_columns", f"column(s) never logged (NA or empty in every row) ignored: "
                                           f"{', '.join(empty)}"))
    if not parsed:
        raise InputError(path, "CSV has no numeric column besides the epoch")
    return run_from_table(path, _format_name(header), x, parsed, x_axis=x_axis, notes=notes, segment=segment,
                          directions=directions)
