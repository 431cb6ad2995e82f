"""Long-format metric exports: one row per (metric, step, value), e.g. MLflow's ``key,value,timestamp,step``
or ``metric,step,value`` tables.

Each metric becomes its own series. The x-axis is ``--x`` (or ``--column NAME=epoch|step``) when
given, else ``epoch``, else ``step``; when the x column does not advance for a metric (MLflow logs
step 0 when no step is given) the metric's values are numbered in file order. ``--column NAME=name``
and ``--column NAME=value`` say which columns hold the metric name and the value.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..errors import InputError
from ..model import Note, Run, make_series
from .common import usable_x
from .csv_log import EPOCH_NAMES, STEP_NAMES, pick_x
from .registry import ReadOptions
from .source import Source
from .table import parse_cell, sniff_delimiter

_NAME_COLUMNS = ("metric", "key", "name", "tag", "metric_name")


def _role(header: list[str], roles: dict[str, str], role: str, usual: tuple[str, ...]) -> int | None:
    for name, r in roles.items():
        if r == role and name in header:
            return header.index(name)
    low = [h.lower() for h in header]
    return next((low.index(u) for u in usual if u in low), None)


def _last_per_step(x: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The last value logged at each step, in step order when a step repeats; and how many repeated."""
    _, last_from_end = np.unique(x[::-1], return_index=True)
    keep = x.shape[0] - 1 - last_from_end
    if keep.shape[0] == x.shape[0]:
        return x, values, 0
    keep = np.sort(keep)
    keep = keep[np.argsort(x[keep], kind="stable")]
    return x[keep], values[keep], int((np.unique(x, return_counts=True)[1] > 1).sum())


def read(source: Source, options: ReadOptions) -> Run:
    text = source.text
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first)) if any(r)]
    partial = len(rows) > 1 and not text.endswith(("\n", "\r"))
    if partial:  # a last row without its line end may be cut anywhere, even inside its step
        rows.pop()
    if len(rows) < 2:
        raise InputError(source.label, "long-format table has no data rows")
    header = [h.strip() for h in rows[0]]
    name_i = _role(header, options.roles, "name", _NAME_COLUMNS)
    value_i = _role(header, options.roles, "value", ("value",))
    if name_i is None or value_i is None:
        raise InputError(source.label, "long format needs a metric-name column (metric/key/name) and a 'value' "
                                       "column (or say which with --column NAME=name / NAME=value)")
    numeric_names = [h for h in header if h.lower() in (*EPOCH_NAMES, *STEP_NAMES)]
    try:
        x_name, x_axis = pick_x(numeric_names or header, options)
    except InputError as exc:
        raise InputError(source.label, exc.problem) from None
    x_i = header.index(x_name) if x_name is not None else None
    by_metric: dict[str, tuple[list[float], list[float]]] = {}
    bad = 0
    for row in rows[1:]:
        if len(row) != len(header):
            bad += 1
            continue
        try:
            value = parse_cell(row[value_i])
            x = parse_cell(row[x_i]) if x_i is not None else None
        except ValueError:
            bad += 1
            continue
        if value is None:
            continue
        xs, vs = by_metric.setdefault(row[name_i].strip(), ([], []))
        xs.append(np.nan if x is None else x)
        vs.append(value)
    notes = [Note("long_format", f"long format: {len(by_metric)} metric(s) from the '{header[name_i]}' and "
                                 f"'{header[value_i]}' columns")]
    if partial:
        notes.append(Note("partial_row", f"last line ({len(rows) + 1}) has no line end, so it may be cut mid-write: "
                                         f"dropped, not read as data"))
    if bad:
        notes.append(Note("bad_cells", f"{bad} row(s) with a wrong cell count or a non-numeric value left out"))
    series = {}
    for name, (xs, vs) in by_metric.items():
        xv = np.array(xs, dtype=np.float64)
        values = np.asarray(vs, dtype=np.float64)
        if not usable_x(xv).all() or (xv.shape[0] > 1 and np.all(xv == xv[0])):
            xv = np.arange(len(vs), dtype=np.float64)  # no usable x for this metric: file order
        else:
            xv, values, repeated = _last_per_step(xv, values)
            if repeated:
                notes.append(Note("repeated_steps", f"'{name}': {repeated} step(s) logged more than once "
                                                    f"(a restarted run, or two metrics of one name): the last "
                                                    f"value logged at each step is read"))
        if options.roles.get(name) == "ignore":
            continue
        series[name] = make_series(name, xv, values, direction=options.directions.get(name),
                                   meaning=options.roles.get(name))
    if not series:
        raise InputError(source.label, "long-format table holds no numeric values")
    if options.segment not in (None, 1):
        raise InputError(source.label, f"--segment {options.segment} does not exist: the log has 1 segment(s)")
    return Run(source=str(source.path), format="long_csv", x_axis=x_axis, series=series, notes=notes)
