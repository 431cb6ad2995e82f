"""Signal helpers shared by diagnostics, stopping rules and plots.

- :func:`tensorboard_smooth`: TensorBoard's scalar smoothing (debiased EMA by point index,
  non-finite points passed through), so curvecheck's smoothed curves match what users see there.
- :func:`noise_level`: a robust estimate of the epoch-to-epoch noise of a curve, so thresholds can
  be stated relative to it ("the rise is 4x the noise") instead of as fixed ratios.
"""

from __future__ import annotations

import math
import warnings

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
    out = values.tolist()  # plain floats: this loop is ~10x faster than on numpy scalars
    last, n, debias = 0.0, 0, 1.0
    for i, y in enumerate(out):
        if not math.isfinite(y):
            continue
        last = weight * last + (1 - weight) * y
        n += 1
        debias *= weight
        out[i] = last / (1 - debias)
    return np.array(out)


def rolling_median(values: np.ndarray, window: int = 5) -> np.ndarray:
    """Centred running median over finite values (the window shrinks at the ends)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return values.copy()
    half = window // 2
    padded = np.concatenate([np.full(half, np.nan), np.where(np.isfinite(values), values, np.nan),
                             np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN, as intended
        return np.nanmedian(windows, axis=1)


def noise_level(values: np.ndarray) -> float:
    """Robust standard deviation of a curve's epoch-to-epoch noise.

    Uses first differences (a smooth trend barely changes from one epoch to the next, noise
    does): the median absolute deviation of the differences, x 1.4826 / sqrt(2), is the noise's
    standard deviation for Gaussian noise, and one spike or NaN epoch barely moves it. Quantised
    metrics (accuracy on a small validation set) often repeat exactly, making that MAD 0; then the
    mean absolute deviation (x 1.2533 / sqrt(2)) is used instead. NaN when fewer than 3 finite points.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.shape[0] < 3:
        return float("nan")
    diffs = np.diff(finite)
    deviations = np.abs(diffs - np.median(diffs))
    mad = np.median(deviations)
    if mad > 0:
        return float(1.4826 * mad / np.sqrt(2))
    return float(1.2533 * deviations.mean() / np.sqrt(2))
