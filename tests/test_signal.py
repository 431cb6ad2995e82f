"""Smoothing matches TensorBoard's definition; the noise estimate is robust to spikes and NaN."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import curvecheck
from curvecheck.signal import noise_level, tensorboard_smooth

from .conftest import SAMPLES


def reference_smooth(values, w):
    """REFERENCE.md's loop, written out literally."""
    out, last, n = [], 0.0, 0
    for y in values:
        if not np.isfinite(y):
            out.append(y)
            continue
        last = w * last + (1 - w) * y
        n += 1
        out.append(last / (1 - w ** n))
    return np.array(out)


def test_smoothing_on_a_real_curve_matches_the_definition():
    values = curvecheck.load(SAMPLES / "fluctuating_validation.csv")["val_loss"].values
    np.testing.assert_allclose(tensorboard_smooth(values, 0.6), reference_smooth(values, 0.6), rtol=1e-12)
    assert tensorboard_smooth(values, 0.6)[0] == values[0]  # debiasing: no pull towards 0


def test_non_finite_points_pass_through():
    values = curvecheck.load(SAMPLES / "nan_divergence.csv")["loss"].values
    smooth = tensorboard_smooth(values, 0.9)
    assert np.isnan(smooth[12:]).all() and np.isfinite(smooth[:12]).all()


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(1, 50), st.floats(0, 0.99))
def test_constant_curve_stays_constant(c, n, w):
    np.testing.assert_allclose(tensorboard_smooth(np.full(n, c), w), c, rtol=1e-9, atol=1e-9)


def test_bad_weight():
    with pytest.raises(ValueError):
        tensorboard_smooth([1.0, 2.0], 1.0)


def test_noise_level_is_robust_to_one_spike_and_nan():
    rng = np.random.default_rng(0)
    trend = np.linspace(1.0, 0.2, 200)
    noisy = trend + rng.normal(0, 0.01, 200)
    base = noise_level(noisy)
    assert 0.0075 < base < 0.0125  # the true sigma is 0.01 (the estimate varies ~7% at n=200)
    spiked = noisy.copy()
    spiked[100] += 5.0
    spiked[50] = np.nan
    assert noise_level(spiked) == pytest.approx(base, rel=0.1)


def test_validation_noisier_than_train_on_the_fluctuating_sample():
    run = curvecheck.load(SAMPLES / "fluctuating_validation.csv")
    late = slice(10, None)  # after the initial descent
    assert noise_level(run["val_loss"].values[late]) > 3 * noise_level(run["loss"].values[late])
    # a 40-sample validation accuracy moves in steps of 1/40: its MAD is 0, the estimate is not
    assert noise_level(run["val_accuracy"].values) > 0


# --- the short-curve fast paths give numpy's numbers bit for bit (results must not move) ----------

_EDGY = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.5, 1e308, -1e308, np.inf, -np.inf, np.nan])
_CURVES = st.lists(st.one_of(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), _EDGY), max_size=40)


def _reference_rolling(values: np.ndarray, window: int, skip_middle: bool = False) -> np.ndarray:
    """np.nanmedian of each centred window (shrinking at the ends; inf counts as missing), one by one."""
    half, out = window // 2, []
    clean = np.where(np.isfinite(values), values, np.nan)
    for i in range(values.shape[0]):
        w = np.concatenate([clean[max(0, i - half):i], clean[i + 1:i + half + 1]]) if skip_middle else \
            clean[max(0, i - half):i + half + 1]
        w = w[~np.isnan(w)]
        out.append(np.median(w) if w.size else np.nan)
    return np.array(out)


@given(_CURVES, st.sampled_from([3, 5, 4, 7]))
def test_running_medians_are_numpys_bit_for_bit(values, window):
    from curvecheck.signal import neighbour_median, rolling_median

    v = np.array(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        assert rolling_median(v, window).tobytes() == _reference_rolling(v, window).tobytes()
        assert neighbour_median(v, 3).tobytes() == _reference_rolling(v, 7, skip_middle=True).tobytes()


@given(_CURVES)
def test_median_and_noise_level_are_numpys_bit_for_bit(values):
    from curvecheck.signal import median

    v = np.array(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        if v.size:
            assert np.array(median(v)).tobytes() == np.array(np.median(v)).tobytes()
        finite = v[np.isfinite(v)]
        if finite.size >= 3:  # noise_level as its docstring defines it, with numpy throughout
            d = np.diff(finite)
            dev = np.abs(d - np.median(d))
            mad = np.median(dev)
            expected = float(1.4826 * mad / np.sqrt(2)) if mad > 0 else float(1.2533 * dev.mean() / np.sqrt(2))
        else:
            expected = float("nan")
        assert np.array(noise_level(v)).tobytes() == np.array(expected).tobytes()
