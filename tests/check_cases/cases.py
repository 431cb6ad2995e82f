"""Threshold-edge cases per check, sqlfluff-style: a synthetic curve that fires at the default settings
and not with one setting changed (and, where a lower threshold makes a quiet curve fire, that too).

Each case: ``code``, ``curves`` (column -> values, one per epoch from 0, written to a real CSVLogger-style
file), ``settings`` for that check (empty: defaults) and whether the check must fire. Curves are
synthetic on purpose: only synthetic curves can sit exactly on a threshold's edge.
"""

from __future__ import annotations

import numpy as np

N = 40
E = np.arange(N)


def noise(scale: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, N)


def line(a: float, b: float, n: int = N) -> np.ndarray:
    return np.linspace(a, b, n)


DIVERGING = {"loss": np.r_[line(1, 0.3, 20), line(0.5, 3, 20)] + noise(0.005)}
SPIKE = {"loss": line(1, 0.2) + noise(0.005, 1),
         "val_loss": np.where(E == 20, 1.5, line(1.1, 0.3)) + noise(0.005, 2)}
OVERFIT = {"loss": line(1, 0.05) + noise(0.005, 3),
           "val_loss": np.r_[line(1, 0.4, 15), line(0.41, 0.9, 25)] + noise(0.005, 4)}
PLATEAU = {"loss": line(1, 0.2) + noise(0.005, 5),
           "val_loss": np.r_[line(1, 0.5, 10), np.full(30, 0.5)] + noise(0.005, 6)}
OSCILLATING = {"loss": line(1, 0.2) + noise(0.002, 7), "val_loss": line(1, 0.4) + noise(0.15, 8)}
METRIC_DISAGREES = {"loss": line(1, 0.05) + noise(0.002, 9),
                    "val_loss": np.r_[line(1, 0.4, 10), line(0.41, 0.9, 30)] + noise(0.003, 10),
                    "accuracy": line(0.5, 0.99), "val_accuracy": line(0.5, 0.9) + noise(0.002, 11)}
STUCK = {"loss": line(1, 0.2) + noise(0.005, 12), "val_loss": line(1, 0.3) + noise(0.005, 13),
         "accuracy": np.full(N, 0.9), "val_accuracy": np.full(N, 0.9)}
# a collapse: the loss never gets below its start, creeping by 0.4% over the run
NEVER_LEARNED = {"loss": line(2.40, 2.40 * 0.996)}
STILL_IMPROVING = {"loss": line(1, 0.2) + noise(0.002, 14), "val_loss": line(1, 0.3) + noise(0.002, 15)}
LR_DROP = {"loss": np.r_[line(1, 0.5, 20), line(0.45, 0.3, 20)] + noise(0.003, 16),
           "val_loss": np.r_[line(1, 0.6, 10), np.full(10, 0.6), line(0.5, 0.45, 20)] + noise(0.003, 17),
           "lr": np.r_[np.full(20, 0.1), np.full(20, 0.01)]}
VAL_BETTER = {"loss": line(1, 0.5) + noise(0.003, 18), "val_loss": line(0.5, 0.2) + noise(0.003, 19)}
WITH_NAN = {"loss": np.where(E >= 30, np.nan, line(1, 0.2)), "val_loss": line(1, 0.3) + noise(0.003, 20)}

CASES = [
    # (id, code, curves, settings, fires)
    ("non-finite: NaN loss", "CC101", WITH_NAN, {}, True),
    ("non-finite: clean run", "CC101", STILL_IMPROVING, {}, False),
    ("divergence: default", "CC102", DIVERGING, {}, True),
    ("divergence: needs 30 sustained epochs", "CC102", DIVERGING, {"sustain": 30}, False),
    ("divergence: rise 10x and climb 20x the best needed", "CC102", DIVERGING,
     {"rise_ratio": 10.0, "climb_ratio": 20.0}, False),
    ("spike: default", "CC103", SPIKE, {}, True),
    ("spike: a jump to 10x the local level needed", "CC103", SPIKE, {"ratio": 10.0}, False),
    ("overfitting: default", "CC201", OVERFIT, {}, True),
    ("overfitting: rise of 200% needed", "CC201", OVERFIT, {"min_rel_rise": 2.0}, False),
    ("plateau: default", "CC202", PLATEAU, {}, True),
    ("plateau: 35 stalled epochs needed", "CC202", PLATEAU, {"min_epochs": 35, "min_share": 0.9}, False),
    ("plateau: a still-improving run is no plateau", "CC202", STILL_IMPROVING, {}, False),
    ("oscillation: default", "CC203", OSCILLATING, {}, True),
    ("oscillation: tolerant thresholds", "CC203", OSCILLATING, {"min_swing": 10.0, "train_ratio": 1000.0}, False),
    ("loss-metric divergence: default", "CC204", METRIC_DISAGREES, {}, True),
    ("loss-metric divergence: an effect of 1.0 needed", "CC204", METRIC_DISAGREES, {"min_effect": 1.0}, False),
    ("never learned: default", "CC104", NEVER_LEARNED, {}, True),
    ("never learned: a 0.1% tolerance sees the creep", "CC104", NEVER_LEARNED, {"frozen_rel": 0.001}, False),
    ("stuck metric: default", "CC205", STUCK, {}, True),
    ("stuck metric: 100 frozen epochs needed", "CC205", STUCK, {"min_epochs": 100}, False),
    ("undertrained: default", "CC206", STILL_IMPROVING, {}, True),
    ("undertrained: t of 1000 needed", "CC206", STILL_IMPROVING, {"min_t": 1000.0}, False),
    ("lr-schedule: default", "CC301", LR_DROP, {}, True),
    ("lr-schedule: only a 99% fall is a drop", "CC301", LR_DROP, {"drop_ratio": 0.99, "floor_share": 1.0}, False),
    ("suspicious validation: default", "CC302", VAL_BETTER, {}, True),
    ("suspicious validation: margin 10", "CC302", VAL_BETTER, {"loss_margin": 10.0}, False),
    ("data integrity: a clean run", "CC401", STILL_IMPROVING, {}, False),
]
