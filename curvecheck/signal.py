"""Signal helpers shared by diagnostics, stopping rules and plots.

- :func:`tensorboard_smooth`: TensorBoard's scalar smoothing (debiased EMA by point index,
  non-finite points passed through), so curvecheck's smoothed curves match what users see there.
- :func:`noise_level`: a robust estimate of the epoch-to-epoch noise of a curve, so thresholds can
  be stated relative to it ("the rise is 4x the noise") instead of as fixed ratios.
- :func:`best_index`: the best point of a curve (raw, or smoothed when asked), first on ties.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np


def tensorboard_smooth(values: np.ndarray, weight: float = 0.6) -> np.ndarray:
    """Debiased exponential moving average, exactly as TensorBoard's scalar dashboard computes it.

    ``last = w*last + (1-w)*y; n += 1; smoothed = last / (1 - w**n)``. A non-finite point is
    returned unchanged and does not enter the average. ``weight`` 0 returns the raw values.
    """
    if not 0 <= weight < 1:
        raise ValueError("smoothing weight must be in [0, 1)")
    values = np.asarray(values, dtype=np.float64)
    if weight == 0:
        return values.copy()
    # Speed, same float operations in the same order as the loop above describes: the products
    # and the debias factors (a running product) are numpy passes; only the recurrence itself is
    # sequential, run by itertools.accumulate on plain floats.
    out = values.copy()
    finite = np.isfinite(values)
    terms = ((1 - weight) * values[finite]).tolist()
    last = list(itertools.accumulate(terms, lambda acc, y: weight * acc + y, initial=0.0))[1:]
    debias = np.multiply.accumulate(np.full(len(terms), weight))
    out[finite] = np.array(last) / (1 - debias)
    return out


def rolling_median(values: np.ndarray, window: int = 5) -> np.ndarray:
    """Centred running median over finite values (the window shrinks at the ends)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return values.copy()
    half = window // 2
    if half in (1, 2) and n > 2 * half and np.isfinite(values).all():
        return _short_rolling_median(values, half)
    padded = np.concatenate([np.full(half, np.nan), np.where(np.isfinite(values), values, np.nan),
                             np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return _row_medians(windows)


def _short_rolling_median(values: np.ndarray, half: int) -> np.ndarray:
    """:func:`rolling_median` of finite values over 3 or 5 points, bit for bit, ~10x faster on short
    curves (one is computed for every series): the inner points by a min/max selection network (it picks
    the middle value itself; only the sign of a zero may differ, and the + 0.0 that np.median's mean
    adds makes every zero 0.0), the shrunken windows at the two ends as np.median computes them."""
    n = values.shape[0]
    mn, mx = np.minimum, np.maximum
    if half == 1:
        a, b, c = values[:-2], values[1:-1], values[2:]
        middle = mx(mn(a, b), mn(mx(a, b), c))
    else:  # the median of 5 is the median of 3 of: e, the larger pair minimum, the smaller pair maximum
        a, b, c, d, e = values[:-4], values[1:-3], values[2:-2], values[3:-1], values[4:]
        low, high = mx(mn(a, b), mn(c, d)), mn(mx(a, b), mx(c, d))
        middle = mx(mn(low, high), mn(mx(low, high), e))
    out = np.empty(n)
    out[half:n - half] = middle + 0.0
    head, tail = values[:2 * half].tolist(), values[n - 2 * half:].tolist()
    for k in range(half):  # the windows cut by the ends hold half + 1 .. 2 * half points
        out[k] = _median_of_list(head[:half + 1 + k])
        out[n - 1 - k] = _median_of_list(tail[half - 1 - k:])
    return out


def _median_of_list(xs: list[float]) -> float:
    """np.median of a non-empty list of floats without NaN, bit for bit: the middle value, or the mean
    of the two middle values, summed onto 0.0 as numpy's mean does (so -0.0 becomes 0.0)."""
    xs = sorted(xs)
    k = len(xs)
    return xs[k // 2] + 0.0 if k % 2 else (xs[k // 2 - 1] + xs[k // 2] + 0.0) / 2


_SMALL = 256  # up to this many values a median is taken in Python: numpy's per-call overhead dominates


def median(values: np.ndarray) -> np.float64:
    """``np.median`` of a 1-D array, bit for bit (NaN when a value is NaN), without numpy's ~15 us per
    call on short arrays (:func:`_median_of_list`); longer arrays go to numpy itself."""
    values = np.asarray(values)
    if values.dtype != np.float64 or values.ndim != 1 or not 0 < values.shape[0] <= _SMALL:
        return np.median(values)
    xs = values.tolist()
    if any(map(math.isnan, xs)):  # numpy's answer, whatever it is
        return np.median(values)
    return np.float64(_median_of_list(xs))


def rolling_finite_median(values: np.ndarray, window: int) -> np.ndarray:
    """The median of the finite values in each run of ``window`` points (``values[k:k + window]``
    for k = 0 .. n - window), NaN where none is finite: the same numbers as ``np.median`` of each
    window's finite values, without a Python loop. Long windows go through pandas' rolling median
    (a skip list: O(n log window) instead of O(n * window))."""
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    if values.shape[0] < window:
        return np.empty(0)
    if (values.shape[0] - window + 1) * window <= _MEDIAN_VIEW_CELLS:
        return _row_medians(np.lib.stride_tricks.sliding_window_view(values, window))
    import pandas as pd  # only for long series: pandas is a slow import

    rolled = pd.Series(values).rolling(window, min_periods=1).median().to_numpy()
    return rolled[window - 1:]


def _row_medians(rows: np.ndarray) -> np.ndarray:
    """np.nanmedian(rows, axis=1) (NaN for an all-NaN row), bit for bit, without nanmedian's masked
    arrays (~1 ms a call: most of the time of a run with many short series)."""
    out = np.full(rows.shape[0], np.nan)
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        return out
    if rows.shape[1] <= 16:
        return _narrow_row_medians(rows)
    gaps = np.isnan(rows).any(axis=1)
    if not gaps.all():
        out[~gaps] = np.median(rows[~gaps], axis=1)
    if gaps.any():
        out[gaps] = _narrow_row_medians(rows[gaps])
    return out


def _narrow_row_medians(rows: np.ndarray) -> np.ndarray:
    """Each row sorted, NaN last: the middle of its k finite values, as np.median computes it (the middle
    value, or the mean of the two, summed onto 0.0: -0.0 becomes 0.0); NaN for a row without one. Exact
    for rows without NaN too (k = width), and faster than np.median for narrow rows (short windows)."""
    ordered = np.sort(rows, axis=1)
    width = rows.shape[1]
    k = width - np.count_nonzero(np.isnan(ordered), axis=1)
    start = np.arange(rows.shape[0]) * width  # flat index of each row's first cell
    flat = ordered.ravel()
    lo = flat[start + np.maximum(k - 1, 0) // 2]
    hi = flat[start + np.minimum(k // 2, width - 1)]
    with np.errstate(over="ignore", invalid="ignore"):
        mid = np.where(k % 2 == 1, hi + 0.0, (lo + hi + 0.0) / 2)
    return np.where(k > 0, mid, np.nan)


_MEDIAN_VIEW_CELLS = 2_000_000  # up to this many window cells, numpy's median over a strided view


def noise_level(values: np.ndarray) -> float:
    """Robust standard deviation of a curve's epoch-to-epoch noise.

    Uses first differences (a smooth trend barely changes from one epoch to the next, noise
    does): the median absolute deviation of the differences, x 1.4826 / sqrt(2), is the noise's
    standard deviation for Gaussian noise, and one spike or NaN epoch barely moves it. Quantised
    metrics (accuracy on a small validation set) often repeat exactly, making that MAD 0; then the
    mean absolute deviation (x 1.2533 / sqrt(2)) is used instead. NaN when fewer than 3 finite points.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] <= _SMALL:
        fast = _small_noise_level(values)
        if fast is not None:
            return fast
    finite = values[np.isfinite(values)]
    if finite.shape[0] < 3:
        return float("nan")
    diffs = np.diff(finite)
    deviations = np.abs(diffs - np.median(diffs))
    mad = np.median(deviations)
    if mad > 0:
        return float(1.4826 * mad / np.sqrt(2))
    return float(1.2533 * deviations.mean() / np.sqrt(2))


_SQRT2 = float(np.sqrt(2))


def _small_noise_level(values: np.ndarray) -> float | None:
    """:func:`noise_level` with plain-float medians (:func:`_median_of_list`), bit for bit: the same
    operations on the same values. None when numpy must decide: a non-finite median difference (the
    deviations would hold NaN), or a mean absolute deviation (numpy's pairwise sum is not a plain sum)."""
    finite = values[np.isfinite(values)]
    if finite.shape[0] < 3:
        return float("nan")
    diffs = (finite[1:] - finite[:-1]).tolist()  # np.diff
    centre = _median_of_list(diffs)
    if not math.isfinite(centre):
        return None
    mad = _median_of_list([abs(d - centre) for d in diffs])
    if mad > 0:
        return float(1.4826 * mad / _SQRT2)
    return None
    centre = _median_of_list(diffs)
    mad = _median_of_list([abs(d - centre) for d in diffs])
    if mad > 0:
        return float(1.4826 * mad / _SQRT2)
    return None


# --- local level and local noise (a curve starts noisy and ends calm: one number for the whole run
# --- makes early bumps look huge and late jitter look like oscillation) -------------------------

def neighbour_median(values: np.ndarray, half: int = 3) -> np.ndarray:
    """For each point, the median of the ``half`` points on each side of it, the point itself excluded:
    the local level a single point is compared with (the window shrinks at the ends)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return values.copy()
    padded = np.full(n + 2 * half, np.nan)
    np.copyto(padded[half:half + n], values, where=np.isfinite(values))
    return _row_medians(padded[_neighbour_index(n, half)])  # the point itself is not its own level


@functools.lru_cache(maxsize=256)
def _neighbour_index(n: int, half: int) -> np.ndarray:
    """Indices into the padded curve of each point's ``half`` neighbours on either side (the rows of a
    strided window view without its middle column, built once per length)."""
    offsets = np.r_[0:half, half + 1:2 * half + 1]
    index = np.arange(n)[:, None] + offsets[None, :]
    index.flags.writeable = False
    return index

def zigzag(values: np.ndarray) -> np.ndarray:
    """How far each inner point sits from the straight line through its two neighbours.

    A curve alternating level +-a gives 2a (its peak-to-trough swing); a straight trend, however
    steep, gives 0. The first and last points get NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape[0], np.nan)
    if values.shape[0] >= 3:
        out[1:-1] = np.abs(values[1:-1] - 0.5 * (values[:-2] + values[2:]))
    return out


def local_noise(values: np.ndarray, window: int = 9) -> np.ndarray:
    """Robust noise level around each point: :func:`noise_level` of the centred ``window`` points
    (NaN where fewer than 3 finite points)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    half = window // 2
    return np.array([noise_level(values[max(0, i - half):i + half + 1]) for i in range(n)])


def bin_medians(x: np.ndarray, values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-step (minibatch) values summarised per interval: the median of the finite values in each
    ``(edges[k-1], edges[k]]`` (the first interval is everything up to ``edges[0]``), placed at
    ``edges[k]``; values after the last edge form one more interval, placed at the last x.

    Minibatch noise is not a property of the model; the median over an evaluation interval is
    what an epoch-level curve would show.
    """
    x = np.asarray(x, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    if np.isnan(edges).any() or not np.all(edges[1:] >= edges[:-1]):  # unsorted or NaN edges: the plain scan
        return _bin_medians_scan(x, values, edges)
    # Speed (10^6 steps x 10^3 evaluations was a 10^9-cell scan): each finite point's interval by
    # binary search, then the middle of each interval's sorted values, with np.median's arithmetic
    # (as _row_medians); same numbers as the scan below (checked bit for bit on random curves).
    keep = np.isfinite(values) & (x > -np.inf)  # x = -inf or NaN lies in no interval
    xk, vk = x[keep], values[keep]
    if xk.shape[0] == 0:
        return np.array([]), np.array([])
    group = np.searchsorted(edges, xk, side="left")  # edges[g-1] < x <= edges[g]; g == len(edges): after the last
    order = np.lexsort((vk, group))
    group_sorted, v_sorted = group[order], vk[order]
    starts = np.flatnonzero(np.r_[True, group_sorted[1:] != group_sorted[:-1]])
    counts = np.diff(np.r_[starts, group_sorted.shape[0]])
    lo = v_sorted[starts + (counts - 1) // 2]
    hi = v_sorted[starts + counts // 2]
    with np.errstate(over="ignore", invalid="ignore"):
        medians = np.where(counts % 2 == 1, hi + 0.0, (lo + hi + 0.0) / 2)
    ids = group_sorted[starts]
    xs = edges[np.minimum(ids, max(edges.shape[0] - 1, 0))] if edges.shape[0] else np.empty(ids.shape[0])
    if ids[-1] == edges.shape[0]:  # the points after the last edge sit at the last of them in log order
        xs[-1] = xk[group == edges.shape[0]][-1]
    return xs.astype(np.float64), medians


def _bin_medians_scan(x: np.ndarray, values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.concatenate([[-np.inf], edges])
    xs, vs = [], []
    for lo, hi in itertools.pairwise(bounds):
        inside = (x > lo) & (x <= hi) & np.isfinite(values)
        if inside.any():
            xs.append(float(hi))
            vs.append(float(np.median(values[inside])))
    tail = (x > bounds[-1]) & np.isfinite(values)
    if tail.any():
        xs.append(float(x[tail][-1]))
        vs.append(float(np.median(values[tail])))
    return np.array(xs), np.array(vs)


def best_index(values: np.ndarray, direction: str, smooth: float = 0.0) -> int | None:
    """Index of a curve's best point: the one definition of "best epoch" every report, plot and
    recommendation uses.

    Raw values by default; ``smooth`` > 0 picks the best of the TensorBoard-smoothed curve (callers
    label such a result "smoothed"). Non-finite points are skipped; on ties the first wins (as Keras'
    EarlyStopping keeps the first best). None when the direction is unknown or no point is finite.
    """
    v = np.asarray(values, dtype=np.float64)
    if smooth:
        v = tensorboard_smooth(v, smooth)
    finite = np.isfinite(v)
    if direction not in ("min", "max") or not finite.any():
        return None
    goodness = np.where(finite, v if direction == "max" else -v, -np.inf)
    return int(np.argmax(goodness))


def per_evaluation(x: np.ndarray, values: np.ndarray, eval_x: np.ndarray | None,
                   max_points: int = 200) -> tuple[np.ndarray, np.ndarray] | None:
    """A training curve logged per optimizer step, summarised per evaluation interval
    (:func:`bin_medians`), or None when it is already epoch-like.

    Minibatch noise is not an epoch spike or a zigzag: a training curve with more than 3x as many points
    as the validation curve (logged at ``eval_x``) gets one point per evaluation, and one longer than
    ``max_points`` without validation gets 50 points.
    """
    n = values.shape[0]
    if eval_x is not None and eval_x.shape[0] >= 5 and n > 3 * eval_x.shape[0]:
        edges = np.asarray(eval_x, dtype=np.float64)
    elif n > max_points:
        edges = np.quantile(np.asarray(x, dtype=np.float64), np.linspace(0, 1, 51)[1:])
    else:
        return None
    return bin_medians(x, values, edges)
