"""What an Ultralytics ``results.csv`` says besides its columns: the planned epochs (``args.yaml``
beside it) and the *fitness* score Ultralytics keeps ``best.pt`` by.

Ultralytics does not log fitness, but it chooses ``best.pt`` (and stops on ``patience``) by it, so
a recommendation on another curve (a validation loss) names a different epoch than the checkpoint
the user already has. The weights are Ultralytics' own (YOLOv5 and YOLOv8/11 ``metrics.py``):

- detection: 0.1 x mAP50 + 0.9 x mAP50-95 (precision and recall weigh 0);
- segmentation and pose: that sum for the boxes plus the same sum for the masks / keypoints;
- classification: the mean of top-1 and top-5 accuracy.
"""

from __future__ import annotations

import re

import numpy as np

from ..model import Note, Run, make_series
from .source import Source, is_stdin

FITNESS = "fitness"

# (mAP50 column, mAP50-95 column) per task head: YOLOv8/11 suffixes (B)ox, (M)ask, (P)ose; YOLOv5 names
_MAP_PAIRS = [(f"metrics/mAP50({h})", f"metrics/mAP50-95({h})") for h in "BMP"] + [
    ("metrics/mAP_0.5", "metrics/mAP_0.5:0.95")]
_TOP = ("metrics/accuracy_top1", "metrics/accuracy_top5")


def planned_epochs(source: Source) -> dict:
    """``epochs`` planned, from the ``args.yaml`` Ultralytics writes beside results.csv (read without a YAML parser)."""
    if is_stdin(source.path):
        return {}
    try:
        text = (source.path.parent / "args.yaml").read_text(errors="replace")
    except OSError:
        return {}
    m = re.search(r"^epochs:\s*(\d+)\s*$", text, re.MULTILINE)
    return {"planned_epochs": int(m.group(1))} if m else {}


def add_fitness(run: Run) -> Run:
    """Add the ``fitness`` series (see the module docstring) and make it the run's monitor.

    Nothing is added when the columns it is made of are missing or do not share one x axis
    (e.g. a results.csv cut by hand); the run then keeps the usual default monitor.
    """
    if FITNESS in run.series:
        return run
    terms: list[tuple[float, str]] = []
    for m50, m95 in _MAP_PAIRS:
        if m50 in run.series and m95 in run.series:
            terms += [(0.1, m50), (0.9, m95)]
    if not terms and all(t in run.series for t in _TOP):
        terms = [(0.5, _TOP[0]), (0.5, _TOP[1])]
    if not terms:
        return run
    parts = [run.series[name] for _, name in terms]
    x = parts[0].x
    if any(p.x.shape != x.shape or not np.array_equal(p.x, x) for p in parts[1:]):
        return run
    values = np.zeros_like(parts[0].values)
    for (weight, _), part in zip(terms, parts):
        values = values + weight * part.values
    run.series[FITNESS] = make_series(FITNESS, x, values, direction="max", meaning="metrics/fitness")
    run.meta["monitor"] = FITNESS
    formula = " + ".join(f"{w:g} x {name}" for w, name in terms)
    run.notes.append(Note("derived_fitness", f"fitness = {formula}: the score Ultralytics keeps best.pt by "
                                             "(computed by curvecheck; not a column of the file)"))
    return run
