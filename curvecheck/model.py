"""The normalised run model: every reader produces a :class:`Run`, every check consumes one.

A run is a set of named series. Each series keeps every logged point (x, value, optional wall
time), NaN and inf included; ``x`` is the log's own epoch or step number (Keras CSVLogger counts
epochs from 0, so epoch 0 is the first epoch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

import numpy as np

from .metrics import MetricInfo, is_bookkeeping, understand


@dataclass
class Note:
    """A data-quality remark about the log (segments, truncation, dropped columns...)."""

    kind: str
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass
class Segment:
    """One uninterrupted stretch of a log: x only increases inside it.

    A log gets several segments when training was restarted and appended to the same file
    (Keras ``CSVLogger(append=True)``: the epoch counter resets) or resumed (TensorBoard: the
    step goes backwards).
    """

    index: int  # 1-based, in file order
    x_start: float
    x_end: float
    points: int

    def to_dict(self) -> dict:
        return {"index": self.index, "x_start": _num(self.x_start), "x_end": _num(self.x_end),
                "points": self.points}


@dataclass
class Series:
    """One logged quantity: ``x`` (epoch or step, the log's own numbers) and ``values``."""

    name: str
    x: np.ndarray
    values: np.ndarray
    info: MetricInfo
    wall_time: np.ndarray | None = None
    # logged several times per epoch in an epoch-based run (Lightning's train_loss_step): kept for
    # plots and users, but not a curve the checks judge; its per-epoch value is another series
    step_level: bool = False

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def split(self) -> str:
        return self.info.split

    @property
    def direction(self) -> str:
        return self.info.direction

    @property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.values)

    @property
    def is_signal(self) -> bool:
        """True for curves worth diagnosing (not epoch/time/step bookkeeping columns)."""
        return not self.step_level and not _is_bookkeeping(self.name)


@dataclass
class Run:
    """A training run read from one log file or TensorBoard run directory.

    ``series`` is read-only once the run is built: facts derived from it (distinct x values,
    train/val pairs) are computed once and cached, because every check asks for them.
    ``framework`` names what wrote the log (keras, lightning, hf, ultralytics, tensorboard,
    generic) so advice can be framework-specific. ``meta`` holds what the log says about the
    run besides its curves, e.g. ``planned_epochs``, ``checkpoints`` (``{step: path}`` of the
    checkpoint folders on disk), ``best_model_checkpoint``.
    """

    source: str
    format: str
    x_axis: str  # "epoch" or "step"
    series: dict[str, Series]
    notes: list[Note] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    selected_segment: int | None = None  # 1-based; None when the log has one segment
    epoch_base: int = 0  # the number the log gives its first epoch (Keras CSVLogger: 0)
    framework: str = "generic"
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # short unique label when several runs are read together (default: the source)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _cached(self, key: str, compute):
        # keyed on the series mapping too, so a run whose series were replaced is recomputed
        stamp = (id(self.series), len(self.series))
        hit = self._cache.get(key)
        if hit is None or hit[0] != stamp:
            hit = (stamp, compute())
            self._cache[key] = hit
        return hit[1]

    def __iter__(self) -> Iterator[Series]:
        return iter(self.series.values())

    def __getitem__(self, name: str) -> Series:
        return self.series[name]

    def __contains__(self, name: str) -> bool:
        return name in self.series

    @property
    def num_points(self) -> int:
        """Number of distinct x values (epochs or steps) across all series."""
        return self._cached("num_points", self._count_points)

    def _count_points(self) -> int:
        xs = [s.x for s in self.series.values() if len(s) and not s.step_level]
        if not xs:
            return 0
        if all(x is xs[0] or np.array_equal(x, xs[0]) for x in xs[1:]):
            xs = xs[:1]  # one shared axis (CSV, JSON): no need to concatenate copies
        return int(np.unique(np.concatenate(xs)).shape[0])

    def signals(self) -> list[Series]:
        return [s for s in self.series.values() if s.is_signal]

    def pairs(self) -> list[tuple[Series, Series]]:
        """(train, val) series of the same quantity: loss/val_loss, iou/val_iou, ..."""
        return list(self._cached("pairs", self._find_pairs))

    def _find_pairs(self) -> list[tuple[Series, Series]]:
        by_base: dict[str, dict[str, Series]] = {}
        for s in self.signals():
            if s.kind == "lr":
                continue
            by_base.setdefault(s.info.base, {}).setdefault(s.split, s)
        return [(d["train"], d["val"]) for d in by_base.values() if "train" in d and "val" in d]

    def partner(self, name: str) -> Series | None:
        """The other half of ``name``'s train/val pair (one dict lookup, not a scan of all pairs)."""
        return self._cached("partners", self._partner_map).get(name)

    def _partner_map(self) -> dict[str, Series]:
        out: dict[str, Series] = {}
        for train, val in self.pairs():
            out.setdefault(train.name, val)
            out.setdefault(val.name, train)
        return out

    def lr_series(self) -> Series | None:
        candidates = [s for s in self.series.values() if s.kind == "lr"]
        return candidates[0] if candidates else None

    def to_dataframe(self):
        """All series as a pandas DataFrame indexed by x (pandas is imported only here)."""
        import pandas as pd

        frames = [pd.Series(s.values, index=s.x, name=s.name) for s in self.series.values()]
        df = pd.concat(frames, axis=1) if frames else pd.DataFrame()
        df.index.name = self.x_axis
        return df


# the same names recur in every run of a sweep or a logdir; MetricInfo is immutable, so share it
_understand = lru_cache(maxsize=8192)(understand)
_is_bookkeeping = lru_cache(maxsize=8192)(is_bookkeeping)


def make_series(name: str, x, values, wall_time=None, direction: str | None = None,
                meaning: str | None = None) -> Series:
    """``meaning`` is what the user said the series is (``--column acc2=val_accuracy``)."""
    return Series(
        name=name,
        x=np.asarray(x, dtype=np.float64),
        values=np.asarray(values, dtype=np.float64),
        info=_understand(meaning or name, direction),
        wall_time=None if wall_time is None else np.asarray(wall_time, dtype=np.float64),
    )


# --- segments -------------------------------------------------------------------------------

def segment_starts(x: np.ndarray, strict: bool = False) -> list[int]:
    """Indices where a new segment starts: 0, and every point whose x does not increase.

    ``strict=True`` starts a segment only where x decreases (TensorBoard: several points at one
    step are normal, e.g. per-batch values logged at the epoch's step; only a smaller step is a
    restart). Otherwise a repeated x is a restart too (Keras CSVLogger: epoch 0 twice means an
    aborted run followed by a new one).
    """
    if x.shape[0] == 0:
        return [0]
    d = np.diff(x)
    back = np.nonzero(d < 0 if strict else d <= 0)[0] + 1
    return [0, *back.tolist()]


def describe_segments(x: np.ndarray, starts: list[int]) -> list[Segment]:
    bounds = [*starts, x.shape[0]]
    return [
        Segment(index=i + 1, x_start=float(x[a]), x_end=float(x[b - 1]), points=b - a)
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
        if b > a
    ]


def select_segment_indices(x: np.ndarray, starts: list[int], which: int | None) -> np.ndarray:
    """Row indices of the chosen segment.

    ``which`` is 1-based. ``None`` means "the run as it stands now": the last segment, preceded
    by the earlier points it did not overwrite (a resume from epoch k keeps epochs < k of the
    run before it; a restart from 0 keeps nothing earlier). This is how TensorBoard displays a
    resumed run, except that curvecheck reports the restart instead of hiding it.
    """
    bounds = [*starts, x.shape[0]]
    if which is not None:
        return np.arange(bounds[which - 1], bounds[which])
    pieces = [np.arange(bounds[-2], bounds[-1])]
    cutoff = x[bounds[-2]] if x.shape[0] else 0.0  # earlier points at or after this x were overwritten
    for k in range(len(starts) - 2, -1, -1):
        idx = np.arange(bounds[k], bounds[k + 1])
        keep = idx[x[idx] < cutoff]
        if keep.shape[0]:
            pieces.append(keep)
            cutoff = min(cutoff, x[keep[0]])
    return np.concatenate(pieces[::-1])


def _num(v: float | None) -> float | int | None:
    """JSON-safe number: ints stay ints, non-finite becomes None."""
    if v is None or not np.isfinite(v):
        return None
    return int(v) if float(v).is_integer() else float(v)
