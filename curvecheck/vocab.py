"""The words curvecheck's results are made of, declared once.

Every module that needs one of these lists imports it from here (the JSON Schema, the CLI's
choices and the config file's validation too), so a new kind or strategy is added in one place.
Input formats are the readers' registry (:data:`curvecheck.readers.FORMATS`), not listed here.
"""

from __future__ import annotations

# What a series measures (see metrics.py for how a name maps to a kind).
SERIES_KINDS = ("loss", "accuracy", "iou", "dice", "f1", "precision", "recall", "auc", "map", "lr", "other")
# Metrics that live in [0, 1] (or 0-100 when logged in percent; see metrics.is_percent).
BOUNDED_KINDS = ("iou", "dice", "f1", "accuracy", "map", "auc", "precision", "recall")
SPLITS = ("train", "val", "test")
# Which way is better: 'none' for curves without a direction (the LR, bookkeeping columns).
DIRECTIONS = ("min", "max", "none")

# Severities of findings, most severe first; --fail-on takes these or "never".
SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
FAIL_ON_LEVELS = (*SEVERITIES, "never")

# What a finding is about: one per check (a check's ``kind``).
FINDING_KINDS = (
    "non_finite", "divergence", "spike", "overfitting", "plateau", "oscillation",
    "loss_metric_divergence", "stuck_metric", "undertrained", "lr_schedule",
    "suspicious_validation", "data_integrity", "never_learned",
)

# Early-stopping strategies of recommend-stop.
STRATEGIES = ("auto", "keras", "lightning", "gl", "pq", "up", "threshold")
# Status of a recommendation: a finished run, or (with --live) a run in progress.
STOP_STATUSES = ("finished", "stop_now", "continue", "never_learned", "no_finite_monitor")
# Learning-rate verdicts.
LR_VERDICTS = ("too_high", "too_low", "ok", "unknown")
# The x axis of a run: epoch-level or step-level series.
X_AXES = ("epoch", "step")
