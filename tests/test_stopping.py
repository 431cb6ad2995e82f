"""Stopping rules: the Keras and Lightning replays equal the real callbacks on recorded cases,
Prechelt's criteria follow their definitions, and the auto rule behaves as documented."""

import json
from functools import lru_cache

import numpy as np
import pytest

import curvecheck
from curvecheck.stopping import replay

from .conftest import SAMPLES, WRITTEN

RECORDED = json.loads((WRITTEN / "early_stopping_cases.json").read_text())
ROOT = WRITTEN.parents[2]


@lru_cache(maxsize=None)
def series_of(log: str, monitor: str):
    s = curvecheck.load(ROOT / log)[monitor]
    return tuple(s.values.tolist()), tuple(s.x.astype(int).tolist())


def values_and_epochs(case):
    if case["values"] is not None:
        return case["values"], case["epochs"]
    return series_of(case["log"], case["monitor"])


def test_recorded_with_real_callbacks():
    assert RECORDED["keras"].startswith("3.") and len(RECORDED["cases"]) > 3000
    assert {c["rule"] for c in RECORDED["cases"]} == {"keras", "lightning"}


def test_keras_replay_equals_the_real_callback():
    mismatches = []
    for case in (c for c in RECORDED["cases"] if c["rule"] == "keras"):
        values, epochs = values_and_epochs(case)
        res = replay(values, mode=case["mode"], rule="keras", epochs=epochs, **case["params"])
        exp = case["expected"]
        got_restored = res.kept_index if case["params"]["restore_best_weights"] else None
        if res.stop_index != exp["stop_index"] or (exp["restored_index"] is not None
                                                   and got_restored != exp["restored_index"]):
            mismatches.append((case["log"], case["monitor"], case["params"], exp, res.stop_index, res.kept_index))
    assert not mismatches, mismatches[:3]


def test_lightning_replay_equals_the_real_callback():
    mismatches = []
    for case in (c for c in RECORDED["cases"] if c["rule"] == "lightning"):
        values, _ = values_and_epochs(case)
        res = replay(values, mode=case["mode"], rule="lightning", **case["params"])
        if res.stop_index != case["expected"]["stop_index"]:
            mismatches.append((case["log"], case["params"], case["expected"], res.stop_index))
    assert not mismatches, mismatches[:3]


def test_keras_compares_in_float32():
    """0.1 - 1e-10 is not an improvement over 0.1 for Keras (float32 tensors): the replay agrees."""
    res = replay([0.3, 0.1, 0.1 - 1e-10, 0.1 - 2e-10, 0.09], rule="keras", patience=2)
    assert res.stop_index == 3 and res.kept_index == 1


def test_prechelt_gl_stops_at_the_first_epoch_above_alpha():
    path = SAMPLES / "overfitting_mlp.csv"
    val = curvecheck.load(path)["val_loss"].values
    gl = 100 * (val / np.minimum.accumulate(val) - 1)
    res = replay(val, rule="gl", alpha=5)
    assert res.stop_index == int(np.argmax(gl > 5)) and res.kept_index == int(np.argmin(val[: res.stop_index + 1]))


def test_prechelt_up_needs_successive_rising_strips():
    rising_every_strip = [1.0] * 5 + [0.5] * 5 + [0.6] * 5 + [0.7] * 5 + [0.8] * 5 + [0.9] * 5
    res = replay(rising_every_strip, rule="up", s=3, strip=5)
    assert res.stop_index == 24  # rises at the ends of strips 3, 4 and 5
    assert replay(rising_every_strip, rule="up", s=4, strip=5).stop_index == 29


def test_auto_waits_for_significant_progress_and_stops_on_nan():
    loss = curvecheck.load(SAMPLES / "nan_divergence.csv")["val_loss"].values
    res = replay(loss, rule="auto")
    assert res.stop_index == 14 and "non-finite" in res.reason  # NaN from epoch 12, 3 in a row
    # a plateau with noise below 3% of the progress does not reset the patience
    noisy_plateau = [1.0, 0.5, 0.3, 0.2] + [0.2 - 0.001 * (i % 3) for i in range(40)]
    res = replay(noisy_plateau, rule="auto")
    assert res.stop_index == 3 + 22 and noisy_plateau[res.kept_index] == min(noisy_plateau[: res.stop_index + 1])


def test_auto_runs_to_the_end_while_progress_continues():
    assert not replay(curvecheck.load(SAMPLES / "lr_sweep/lr_0.0001.csv")["val_loss"].values, rule="auto").stopped


def test_unknown_rule():
    with pytest.raises(ValueError, match="unknown rule"):
        replay([1, 2, 3], rule="patience")
