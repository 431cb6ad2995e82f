"""Facts about a run that several parts of curvecheck need, defined once: which curve is monitored
by default, and whether the series are epoch- or step-level.

(The LR schedule is :mod:`curvecheck.schedule`; the best point of a curve is
:func:`curvecheck.signal.best_index`; percent metrics are :func:`curvecheck.metrics.is_percent`.)
"""

from __future__ import annotations

from .model import Run, Series


def default_monitor(run: Run) -> Series | None:
    """The curve recommend-stop, the plot's "keep" line and the analysis monitor when none is named:
    what Keras monitors by default (val_loss), else another validation loss, else the first
    validation metric, else the training loss, else any curve with a known direction. A log whose
    framework keeps its best checkpoint by a score of its own names it in ``run.meta["monitor"]``
    (Ultralytics' fitness): that score comes first, so the epoch to keep is the framework's best."""
    own = run.series.get(run.meta.get("monitor", ""))
    if own is not None and own.direction in ("min", "max") and own.finite.any():
        return own
    vals = [s for s in run.signals() if s.split == "val" and s.direction != "none" and s.finite.any()]
    for s in vals:
        if s.kind == "loss" and s.info.base == "loss":
            return s
    for s in vals:
        if s.kind == "loss":
            return s
    if vals:
        return vals[0]
    train = [s for s in run.signals() if s.kind == "loss" and s.finite.any()]
    if train:
        return train[0]
    # no usable loss (e.g. NaN throughout): any curve with a known direction
    return next((s for s in run.signals() if s.direction in ("min", "max") and s.finite.any()), None)


def granularity(run: Run) -> str:
    """'epoch' when the run's points are epochs, 'step' when they are optimiser steps (TensorBoard
    scalars, step-level CSVs): the unit every message, table and axis label names."""
    return "step" if run.x_axis == "step" else "epoch"
