"""Very long series judged in a reduced form, so that one run of 10^6 points is analysed in seconds.

A curve with more finite points than ``max_points`` (default :data:`MAX_POINTS`; 0 = never reduce)
is handed to the checks as every ``k``-th logged point (``k = ceil(points / max_points)``), plus the
first, the last and the best point. Every point kept is a real logged point, value and step, so
every epoch/step in a finding is one of the log's own, and the best value/epoch is the raw one.

Why keep points rather than average bins: the checks' thresholds are multiples of a curve's
point-to-point noise (:func:`curvecheck.signal.noise_level`). A sample of the points has the same
noise as the whole curve, so a threshold means what it means on the full curve; a bin median would
be ~sqrt(k) times calmer, making small drifts look significant and a quantised metric look frozen
(false findings). Fewer points only make the trend tests more conservative: a reduced analysis may
miss a borderline finding, it should not invent one. TensorBoard does the same (it shows a sample of
1,000 points per tag; the Python EventAccumulator keeps 10,000).

What a sample would hide is judged elsewhere:

- spikes (one bad point): the spike check sees :func:`peak_view`, the highest point of each run of
  ``k`` points (at its own step), so a spike is never sampled away;
- NaN/inf, divergence and the log's integrity (duplicate steps, metrics out of range) are judged on
  every raw point: those checks read the series, not the reduced curve;
- the summary (first/best/last, NaN steps) and the stopping-rule replays of ``recommend-stop`` read
  every raw point: they stay exact.

Settings counted in points (``plateau.min_epochs``, windows) count reduced points on such a curve.
The report says which series were reduced (a note and the JSON field ``reduced``).
No log in the project's samples, tests or the shared corpus comes near the default: the longest
series there has 7,720 points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_POINTS = 20_000


@dataclass
class ReducedSeries:
    """One series analysed in reduced form: ``points`` finite points, judged as ``analysed`` of them
    (every ``every``-th point plus the first, last and best)."""

    name: str
    points: int
    analysed: int
    every: int

    def to_dict(self) -> dict:
        return {"name": self.name, "points": self.points, "analysed": self.analysed, "every": self.every}


@dataclass
class Reduction:
    """Which series of a run were analysed in reduced form, and the limit that decided it."""

    max_points: int
    series: list[ReducedSeries]

    def to_dict(self) -> dict:
        return {"max_points": self.max_points, "series": [s.to_dict() for s in self.series]}

    def note_text(self, unit: str) -> str:
        parts = ", ".join(f"{s.name} ({s.points:,} {unit}s, 1 in {s.every})" for s in self.series)
        return (f"long series analysed on a sample of their points: {parts}. NaN/inf, divergence, data "
                f"integrity, spikes (the highest point of each stretch), the best values and the stop "
                f"recommendation use every point. Limit: max-points = {self.max_points:,} (0 = never reduce).")


def resolve_max_points(max_points: int | None) -> int:
    """The limit in force: ``None`` means the default :data:`MAX_POINTS`; 0 (or less) never reduces."""
    return MAX_POINTS if max_points is None else max(int(max_points), 0)


def stride(points: int, max_points: int) -> int:
    """Points per kept point (1: not reduced)."""
    if max_points <= 0 or points <= max_points:
        return 1
    return -(-points // max_points)


def level_view(x: np.ndarray, values: np.ndarray, sign: float, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``k``-th point of a finite curve, with its first, last and best point (best by ``sign``
    * value, the first on ties, as :func:`curvecheck.signal.best_index` picks it)."""
    n = values.shape[0]
    k = stride(n, max_points)
    if k == 1:
        return x, values
    best = int(np.argmax(sign * values))
    keep = np.unique(np.concatenate([np.arange(0, n, k), [n - 1, best]]))
    return x[keep], values[keep]


def peak_view(x: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The highest point of each run of ``k`` points (the first on ties), at its own x: a sample
    that keeps every upward spike of a loss."""
    n = values.shape[0]
    k = stride(n, max_points)
    if k == 1:
        return x, values
    starts = np.arange(0, n, k)
    full = n // k
    index = np.empty(starts.shape[0], dtype=np.int64)
    index[:full] = np.argmax(values[:full * k].reshape(full, k), axis=1) + starts[:full]
    if full < starts.shape[0]:
        index[full] = int(np.argmax(values[full * k:])) + full * k
    return x[index], values[index]
