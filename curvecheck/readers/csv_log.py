"""Per-epoch (or per-step) CSV histories: Keras CSVLogger, Ultralytics results.csv, fastai, pandas dumps, W&B exports.

Keras CSVLogger writes a header ``epoch,<keys sorted>``, ``NA`` for missing values, ``nan``/``inf``
for non-finite ones, ``\\r\\n`` line ends, and with ``append=True`` appends a restarted run to the
same file without a new header (the epoch counter goes back). pandas dumps of ``history.history``
have an empty first header cell (the index) or no epoch column at all. W&B exports are wide and
sparse (``Step`` or ``_step``, one column per metric, empty where not logged).

The x-axis: ``--x COLUMN`` (or ``--column NAME=epoch|step``) when given; else the epoch column;
else a step column (``step``, ``global_step``, ``_step``, ``Step``), making the log step-based;
else the pandas index; else the row number. Cells are read by :mod:`curvecheck.readers.table`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import Note, Run
from . import ultralytics
from .common import check_roles, run_from_table, usable_x
from .registry import ReadOptions
from .source import Source
from .table import Table, first_line, header_names, is_number, parse_table, sniff_delimiter

EPOCH_NAMES = ("epoch", "epochs")
STEP_NAMES = ("step", "global_step", "_step", "steps", "iteration", "iter", "trainer/global_step")
_LONG_NAME_COLUMNS = ("metric", "key", "name", "tag", "metric_name")
X_ROLES = ("epoch", "step")


def _first_row(text: str) -> list[str]:
    import csv
    import io

    first = first_line(text)
    start = text.find(first)
    try:  # the first record, not the first line: a quoted header name may hold a newline
        rows = csv.reader(io.StringIO(text[max(start, 0):], newline=""), delimiter=sniff_delimiter(first))
        return header_names(next(rows, []))
    except Exception:  # noqa: BLE001 - a header we cannot split is read (and reported) by the reader
        return []


def csv_flavour(text: str) -> str:
    """Which CSV reader fits, from the header (and how sparse the first rows are)."""
    low = [h.lower() for h in _first_row(text)]
    if "value" in low and any(h in low for h in _LONG_NAME_COLUMNS):
        return "long_csv"
    if "epoch" in low and "step" in low:
        return "lightning_csv"  # Lightning's CSVLogger always writes both
    return _format_name(low)


def _format_name(low: list[str]) -> str:
    if any(h.startswith(("train/", "metrics/", "val/")) for h in low) and "epoch" in low:
        return "ultralytics_csv"
    if low[:1] == ["epoch"] and "train_loss" in low and "valid_loss" in low:
        return "fastai_csv"
    if low[:1] == ["epoch"]:
        return "keras_csv"
    return "csv"


def read_table(source: Source) -> Table:
    """The source's text as a :class:`Table`, or a one-line InputError when it has no data."""
    try:
        table = parse_table(source.data or b"", lambda: source.text)
    except ValueError as exc:
        raise InputError(source.label, str(exc)) from None
    if not table.blocks:
        if (source.data or b"").strip():  # lines, but each one text: read as headers with no rows under them
            raise InputError(source.label, "no numeric rows: every line is text (a header with no numbers under it)")
        raise InputError(source.label, "empty file: no header and no rows")
    header = table.header
    if all(h and is_number(h) for h in header):
        raise InputError(source.label, "CSV has no header row: cannot tell which column is which")
    if not any(b.rows for b in table.blocks):
        raise InputError(source.label, "CSV has a header but no data rows")
    return table


def pick_x(names: list[str], options: ReadOptions) -> tuple[str | None, str]:
    """The x column and the axis name ('epoch' or 'step') from --x / --column, or the usual names."""
    role_x = [n for n, r in options.roles.items() if r in X_ROLES]
    if options.x is not None or role_x:
        name = options.x if options.x is not None else role_x[0]
        if name not in names:
            raise InputError(None, f"--x/--column names '{name}', which is not a numeric column "
                                   f"(columns: {', '.join(names)})")
        axis = options.roles.get(name) or ("epoch" if name.lower() in EPOCH_NAMES else "step")
        return name, axis if axis in X_ROLES else "step"
    epoch = next((n for n in names if n.lower() in EPOCH_NAMES), None)
    if epoch is not None:
        return epoch, "epoch"
    step = next((n for n in names if n.lower() in STEP_NAMES), None)
    return (step, "step") if step is not None else (None, "epoch")


def read(source: Source, options: ReadOptions) -> Run:
    table = read_table(source)
    notes = list(table.notes)
    names = list(dict.fromkeys(n for b in table.blocks for n in b.columns))
    check_roles(source.label, options.roles, [*names, *table.dropped])
    try:
        x_name, x_axis = pick_x(names, options)
    except InputError as exc:
        raise InputError(source.label, exc.problem) from None
    # several rows per epoch (logged every N steps) with a step column: the step is the axis
    step_name = next((n for n in names if n.lower() in STEP_NAMES), None)
    if (options.x is None and x_axis == "epoch" and x_name is not None and step_name is not None
            and _several_rows_per_epoch(table, x_name, step_name)):
        notes.append(Note("step_axis", f"several rows per epoch: using '{step_name}' as the x-axis "
                                       f"('{x_name}' is kept as a series)"))
        x_name, x_axis = step_name, "step"

    xs: list[np.ndarray] = []
    offsets: list[int] = []
    values: dict[str, list[np.ndarray]] = {n: [] for n in names}
    present: dict[str, list[np.ndarray]] = {n: [] for n in names}
    start = 0
    for block in table.blocks:
        col = block.columns.get(x_name) if x_name else None
        if col is not None:
            x_block = col.values
            keep = col.present & usable_x(col.values)
        else:
            x_block = np.arange(block.rows, dtype=np.float64)
            keep = np.ones(block.rows, dtype=bool)
        kept = int(keep.sum())
        if kept < block.rows:
            notes.append(Note("rows_without_x", f"{block.rows - kept} row(s) without an {x_axis} number in "
                                                f"'{x_name}' (empty, NaN, inf or beyond 2^53) left out"))
        else:
            keep = slice(None)  # a view, not a copy
        offsets.append(start)
        xs.append(x_block[keep])
        for n in names:
            c = block.columns.get(n)
            values[n].append(c.values[keep] if c is not None else np.full(kept, np.nan))
            present[n].append(c.present[keep] if c is not None else np.zeros(kept, dtype=bool))
        start += kept
    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)  # one block: no copy of a large column

    x = joined(xs)
    columns = {n: joined(values[n]) for n in names}
    masks = {n: joined(present[n]) for n in names}

    if x_name is None:
        if "index" in columns and table.header[0] == "" and masks["index"].all() and usable_x(columns["index"]).all():
            x = columns["index"]
            notes.append(Note("epochs_from_index", "no epoch column: epochs taken from the pandas index column "
                                                   "(counted from 0, like Keras CSVLogger)"))
        else:
            notes.append(Note("epochs_from_rows", "no epoch column: epochs numbered by row from 0 "
                                                  "(as Keras CSVLogger counts; Keras prints them from 1)"))
    for n in [x_name or "", "index", *(c for c, r in options.roles.items() if r == "ignore")]:
        columns.pop(n, None)
    never = [n for n in columns if not masks[n].any()]
    for n in never:
        del columns[n]
    if table.dropped:
        notes.append(Note("dropped_columns", f"non-numeric column(s) ignored: {', '.join(table.dropped)}"))
    if never:
        notes.append(Note("empty_columns", f"column(s) never logged (NA or empty in every row) ignored: "
                                           f"{', '.join(never)}"))
    if not columns:
        raise InputError(source.label, "CSV has no numeric column besides the epoch")
    if len(table.blocks) > 1:
        notes.append(Note("headers", f"{len(table.blocks)} header rows: each run appended under its own header "
                                     f"(lines {', '.join(str(b.first_line) for b in table.blocks)})"))
    fmt = _format_name([h.lower() for h in table.header])
    meta = ultralytics.planned_epochs(source) if fmt == "ultralytics_csv" else {}
    run = run_from_table(source.path, fmt, x, columns, present=masks, block_starts=offsets[1:], x_axis=x_axis,
                         notes=notes, segment=options.segment, directions=options.directions,
                         roles={n: r for n, r in options.roles.items() if r not in (*X_ROLES, "ignore")},
                         meta=meta)
    return ultralytics.add_fitness(run) if fmt == "ultralytics_csv" else run


def _several_rows_per_epoch(table: Table, epoch: str, step: str) -> bool:
    for block in table.blocks:
        e, s = block.columns.get(epoch), block.columns.get(step)
        if e is None or s is None or not s.present.all() or not e.present.all():
            return False
        if not ((np.diff(e.values) <= 0).any() and (np.diff(s.values) > 0).all()):
            return False
    return True


def read_csv_log(path: Path, text: str, *, segment: int | None = None,
                 directions: dict[str, str] | None = None) -> Run:
    """Read CSV ``text`` (already taken from ``path``, e.g. its complete lines only) as a per-epoch table."""
    source = Source(Path(path), text.encode("utf-8"))
    return read(source, ReadOptions(segment=segment, directions=dict(directions or {})))
