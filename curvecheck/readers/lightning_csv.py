"""PyTorch Lightning ``CSVLogger`` files (``lightning_logs/version_N/metrics.csv``).

Lightning writes one row per logging call, with ``epoch`` and ``step`` columns and every other
cell empty: a training row every ``log_every_n_steps``, a validation row at each epoch's end, a
``LearningRateMonitor`` row (``lr-Adam``) with an empty epoch. ``self.log(..., on_step=True,
on_epoch=True)`` gives ``name_step`` and ``name_epoch`` columns.

The run is read per epoch (x = the log's epoch, 0-based as Lightning counts):
- a column logged at most once per epoch is an epoch-level series as it is;
- a column logged several times per epoch is step-level: it is kept as its own series
  (``name_step``; x in fractional epochs, ``epoch + share of the epoch's steps done``), and, when the
  log has no ``name_epoch`` column, its per-epoch mean is the epoch-level ``name`` (what
  Lightning's ``on_epoch=True`` would have logged);
- rows without an epoch (the LR monitor) get the epoch whose steps contain theirs.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InputError
from ..model import Note, Run, Series, make_series
from .common import check_roles, name_list, usable_x
from .csv_log import read_table
from .registry import ReadOptions
from .source import Source, is_stdin

_SUFFIX_STEP, _SUFFIX_EPOCH = "_step", "_epoch"


def _epoch_map(epoch: np.ndarray, step: np.ndarray, both: np.ndarray):
    """Per epoch: (epoch numbers, first step, last step) from the rows that give both."""
    e, s = epoch[both], step[both]
    epochs = np.unique(e)
    ends = np.array([s[e == k].max() for k in epochs])
    starts = np.concatenate([[0.0], ends[:-1] + 1])
    return epochs, starts, ends


def read(source: Source, options: ReadOptions) -> Run:
    table = read_table(source)
    if len(table.blocks) > 1:
        raise InputError(source.label, "metrics.csv with several header rows: not a single Lightning run")
    check_roles(source.label, options.roles, [*table.blocks[0].columns, *table.dropped])
    cols = {n.lower(): c for n, c in table.blocks[0].columns.items()}
    names = {n.lower(): n for n in table.blocks[0].columns}
    if "epoch" not in cols or "step" not in cols:
        raise InputError(source.label, "not a Lightning metrics.csv: needs 'epoch' and 'step' columns")
    epoch, step = cols["epoch"], cols["step"]
    epoch_ok = epoch.present & usable_x(epoch.values)
    step_ok = step.present & usable_x(step.values)
    both = epoch_ok & step_ok
    if not both.any():
        raise InputError(source.label, "no row gives both an epoch and a step")
    epochs, starts, ends = _epoch_map(epoch.values, step.values, both)
    # the epoch of every row: its own, else the epoch whose step range holds its step
    steps = np.where(step_ok, step.values, -1.0)
    idx = np.clip(np.searchsorted(ends, steps, side="left"), 0, len(epochs) - 1)
    row_epoch = np.where(epoch_ok, epoch.values, epochs[idx])
    row_ok = epoch_ok | step_ok
    ep_idx = np.clip(np.searchsorted(epochs, row_epoch), 0, len(epochs) - 1)
    lengths = np.maximum(ends - starts + 1, 1)
    frac = np.clip((steps - starts[ep_idx]) / lengths[ep_idx], 0.0, 0.999)
    row_frac_epoch = row_epoch + np.where(step_ok, frac, 0.0)

    metric_names = [n for low, n in names.items() if low not in ("epoch", "step")]
    ignored = {c for c, r in options.roles.items() if r == "ignore"}
    epoch_level: dict[str, Series] = {}
    step_level: dict[str, Series] = {}
    averaged: list[str] = []
    for name in metric_names:
        if name in ignored:
            continue
        col = table.blocks[0].columns[name]
        rows = col.present & row_ok
        if not rows.any():
            continue
        e, v = row_epoch[rows], col.values[rows]
        uniq, counts = np.unique(e, return_counts=True)
        direction, meaning = options.directions.get(name), options.roles.get(name)
        if counts.max() <= 1 and not name.endswith(_SUFFIX_STEP):
            epoch_level[name] = make_series(name, e, v, direction=direction, meaning=meaning)
            continue
        step_name = name if name.endswith(_SUFFIX_STEP) else name + _SUFFIX_STEP
        step_level[step_name] = make_series(step_name, row_frac_epoch[rows], v,
                                            direction=options.directions.get(step_name), meaning=meaning)
        step_level[step_name].step_level = True
        base = name.removesuffix(_SUFFIX_STEP)
        logged = table.blocks[0].columns
        if base + _SUFFIX_EPOCH not in logged and (base == name or base not in logged):
            means = np.array([np.mean(v[e == k]) for k in uniq])
            epoch_level[base] = make_series(base, uniq, means, direction=options.directions.get(base),
                                            meaning=meaning)
            averaged.append(base)
    series = {**epoch_level, **step_level}
    if not series:
        raise InputError(source.label, "metrics.csv has no numeric metric besides epoch and step")
    notes = list(table.notes)
    if table.dropped:
        notes.append(Note("dropped_columns", f"non-numeric column(s) ignored: {name_list(table.dropped)}"))
    if averaged:
        notes.append(Note("epoch_means", f"logged per step, read per epoch as the mean of each epoch's values "
                                         f"(as Lightning's on_epoch=True does): {name_list(averaged)}; the raw "
                                         f"values are kept as {name_list([a + _SUFFIX_STEP for a in averaged])}"))
    if options.segment not in (None, 1):
        raise InputError(source.label, f"--segment {options.segment} does not exist: the log has 1 segment(s)")
    first = float(epochs[0])
    meta: dict = {"step_level": sorted(step_level),
                  "epoch_last_step": {int(k): int(s) for k, s in zip(epochs, ends, strict=True)}}
    checkpoints = _checkpoints(source)
    if checkpoints:
        meta["checkpoints"] = checkpoints
    return Run(source=str(source.path), format="lightning_csv", x_axis="epoch", series=series, notes=notes,
               epoch_base=int(first) if first in (0, 1) else 0, framework="lightning", meta=meta)


_CKPT_EPOCH = re.compile(r"epoch=(\d+)")


def _checkpoints(source: Source) -> dict[int, str]:
    """``{epoch: path}`` of the ModelCheckpoint files in ``checkpoints/`` beside metrics.csv
    (``epoch=3-step=100.ckpt``; the epoch is Lightning's own, 0-based like the log's)."""
    if is_stdin(source.path):
        return {}
    try:
        files = sorted((source.path.parent / "checkpoints").glob("*.ckpt"))
    except OSError:
        return {}
    out: dict[int, str] = {}
    for f in files:
        m = _CKPT_EPOCH.search(f.name)
        if m:
            out.setdefault(int(m.group(1)), str(f))
    return out
