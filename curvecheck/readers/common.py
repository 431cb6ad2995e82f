"""Helpers every reader shares: turning columns into a Run, segments, sanity checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import (
    Note,
    Run,
    Series,
    describe_segments,
    make_series,
    segment_starts,
    select_segment_indices,
)

MAX_X = 2.0 ** 53  # epochs and steps are counts: beyond 2^53 a float no longer holds one, and 1e308 - -1e308 is inf


def usable_x(x: np.ndarray) -> np.ndarray:
    """Where ``x`` is an epoch or step number the checks can use: finite and at most 2^53 in size."""
    x = np.asarray(x, dtype=np.float64)
    return np.isfinite(x) & (np.abs(x) <= MAX_X)


def check_segment_choice(path: Path, which: int | None, available: int) -> None:
    if which is not None and not 1 <= which <= available:
        raise InputError(path, f"--segment {which} does not exist: the log has {available} segment(s)")


def segments_note(segments, chosen: int | None, unit: str, restart_rows: list[int] | None = None) -> Note:
    spans = ", ".join(f"#{s.index}: {unit}s {_fmt(s.x_start)}-{_fmt(s.x_end)}" for s in segments)
    where = f" (the {unit} counter goes back at data rows {', '.join(map(str, restart_rows))})" if restart_rows else ""
    if chosen is None:
        last = segments[-1]
        if last.x_start > segments[0].x_start:
            what = (f"analysing the last one, resumed at {unit} {_fmt(last.x_start)}, joined to the "
                    f"earlier {unit}s it did not overwrite")
        else:
            what = f"analysing the last one (#{last.index})"
        return Note("segments", f"log holds {len(segments)} appended runs{where}: {spans}; {what}; "
                                f"use --segment N to pick another.")
    return Note("segments", f"log holds {len(segments)} appended runs{where}: {spans}; analysing #{chosen} "
                            f"as asked (--segment {chosen}).")


def name_list(names: list[str], limit: int = 12) -> str:
    """'a, b, c' for a note; long lists (a JSON of 20,000 keys) are cut: '... and 19,988 more'."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} ... and {len(names) - limit:,} more"


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def run_from_table(
    path: Path,
    fmt: str,
    x: np.ndarray,
    columns: dict[str, np.ndarray],
    *,
    present: dict[str, np.ndarray] | None = None,
    block_starts: list[int] | None = None,
    x_axis: str = "epoch",
    notes: list[Note] | None = None,
    segment: int | None = None,
    directions: dict[str, str] | None = None,
    roles: dict[str, str] | None = None,
    wall_time: np.ndarray | None = None,
    meta: dict | None = None,
) -> Run:
    """Build a Run from columns that share one x column (CSV rows, History JSON lists, JSON Lines).

    ``present[name]`` marks the rows where ``name`` was logged (default: every row): the other
    rows are gaps and are left out of that series. ``block_starts`` are rows where a new run
    starts although x does not go back (a repeated CSV header).
    """
    notes = list(notes or [])
    directions = directions or {}
    roles = roles or {}
    present = present or {}
    x = np.asarray(x, dtype=np.float64)
    starts = sorted(set(segment_starts(x)) | set(block_starts or ()))
    segments = describe_segments(x, starts)
    check_segment_choice(path, segment, len(segments))
    rows = select_segment_indices(x, starts, segment) if len(segments) > 1 else np.arange(x.shape[0])
    if len(segments) > 1:
        notes.append(segments_note(segments, segment, x_axis, [s + 1 for s in starts[1:]]))
    series: dict[str, Series] = {}
    absent: list[str] = []
    every_row = len(segments) <= 1
    for name, values in columns.items():
        mask = None if name not in present else np.asarray(present[name])
        if every_row and (mask is None or mask.all()):
            keep: np.ndarray | slice = slice(None)  # the usual column: views, no copies of a large log
        else:
            keep = rows if mask is None else rows[mask[rows]]
            if keep.shape[0] == 0:
                absent.append(name)
                continue
        wt = None if wall_time is None else wall_time[keep]
        series[name] = make_series(name, x[keep], np.asarray(values, dtype=np.float64)[keep], wt,
                                   directions.get(name), roles.get(name))
    if absent:
        which = f"segment {segment}" if segment is not None and len(segments) > 1 else "the rows analysed"
        notes.append(Note("not_in_segment", f"logged elsewhere in the file but not in {which}: {name_list(absent)}"))
    first_x = x[rows[0]] if rows.shape[0] else 0
    return Run(
        source=str(path),
        format=fmt,
        x_axis=x_axis,
        series=series,
        notes=notes,
        segments=segments if len(segments) > 1 else [],
        selected_segment=segment if len(segments) > 1 else None,
        epoch_base=int(first_x) if x_axis == "epoch" and first_x in (0, 1) else 0,
        meta=dict(meta or {}),
    )


def validate_run(run: Run, path: Path) -> Run:
    """Refuse runs that hold nothing to analyse, with a one-line reason."""
    signals = [s for s in run.signals() if len(s)]
    if not signals:
        raise InputError(path, "no numeric training series found")
    if all(not s.finite.any() for s in signals):
        raise InputError(path, "every value of every series is NaN or inf: nothing to analyse")
    if run.num_points < 2:
        raise InputError(path, f"only one {run.x_axis} logged: at least 2 are needed to analyse a curve")
    return run


def check_roles(label: str, roles: dict[str, str], columns: list[str]) -> None:
    """--column must name columns of this log (a typo should not pass silently)."""
    unknown = [name for name in roles if name not in columns]
    if unknown:
        raise InputError(label, f"--column names unknown column(s) {', '.join(unknown)} "
                                f"(columns: {name_list(columns)})")


def apply_directions(run: Run, directions: dict[str, str], path: Path) -> None:
    """Check that every --direction names a series of this run (typos should not pass silently)."""
    unknown = [name for name in directions if name not in run.series]
    if unknown:
        known = ", ".join(sorted(run.series)) or "none"
        raise InputError(path, f"--direction names unknown series {', '.join(unknown)} (series: {known})")
