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
