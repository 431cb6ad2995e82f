"""The learning-rate schedule of a run, classified once: drops, smooth decay, warm-up, floor.

Every consumer (the plateau, divergence and lr-schedule checks, the LR verdict, the plot) reads the
schedule from here, so they cannot disagree on whether the LR dropped or sits at its floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .model import Series

LR_DROP_RATIO = 0.1  # a fall of more than this share of the LR is a drop
LR_SMOOTH_SHARE = 0.34  # an LR that changes at more than this share of epochs follows a smooth schedule


def lr_profile(v: np.ndarray, drop_ratio: float = LR_DROP_RATIO,
               smooth_share: float = LR_SMOOTH_SHARE) -> tuple[np.ndarray, list[int], bool]:
    """(indices where the LR changes, indices where it drops, whether the schedule is smooth)."""
    changes = np.nonzero(np.abs(np.diff(v)) > 1e-3 * np.abs(v[:-1]))[0] + 1
    drops = [int(i) for i in changes if v[i] < (1 - drop_ratio) * v[i - 1]]
    return changes, drops, bool(changes.size > smooth_share * len(v))


@dataclass(frozen=True)
class Schedule:
    """What the LR did over a run (x values are the log's epochs or steps).

    ``drops``: where a step schedule cut the LR; ``increases``: where it rose (warm-up, restarts);
    ``smooth``: a schedule that changes at most epochs (cosine, exponential decay, one-cycle);
    ``floor_since``: where the LR reached the value it ends at, when that is its minimum and below
    its start (ReduceLROnPlateau at ``min_lr``), else None.
    """

    has_lr: bool
    smooth: bool = False
    drops: list[float] = field(default_factory=list)
    increases: list[float] = field(default_factory=list)
    first: float | None = None
    last: float | None = None
    min: float | None = None
    peak_at: float | None = None
    floor_since: float | None = None
    warm_up: bool = False  # the LR rises from its start to a higher peak

    @property
    def at_floor(self) -> bool:
        return self.floor_since is not None


def describe_schedule(lr: Series | None, drop_ratio: float = LR_DROP_RATIO,
                      smooth_share: float = LR_SMOOTH_SHARE) -> Schedule:
    """Classify the LR series of a run (None or fewer than 2 finite points: ``has_lr`` False)."""
    if lr is None or lr.finite.sum() < 2:
        return Schedule(has_lr=False)
    x, v = lr.x[lr.finite], lr.values[lr.finite]
    changes, drops, smooth = lr_profile(v, drop_ratio, smooth_share)
    increases = [float(x[i]) for i in changes if v[i] > (1 + drop_ratio) * v[i - 1]]
    floor_since = None
    if v[-1] <= v.min() and v[-1] < v[0]:
        start = len(v) - 1
        while start > 0 and v[start - 1] == v[-1]:
            start -= 1
        floor_since = float(x[start])
    return Schedule(has_lr=True, smooth=smooth, drops=[float(x[i]) for i in drops], increases=increases,
                    first=float(v[0]), last=float(v[-1]), min=float(v.min()),
                    peak_at=float(x[int(np.argmax(v))]), floor_since=floor_since,
                    warm_up=bool(v.max() > (1 + drop_ratio) * v[0]))
