"""The sample logs a newcomer runs the README on: real Keras runs that show what their names say."""

from pathlib import Path

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError
from curvecheck.signal import best_index

from .conftest import SAMPLES

SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def best_x(series):
    return series.x[best_index(series.values, series.direction)]


def test_every_sample_log_loads():
    logs = [p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix in (".csv", ".json")]
    logs.append(SAMPLES / "tensorboard_keras")
    assert len(logs) >= 11
    for log in logs:
        report = curvecheck.analyze(log)
        assert report.runs[0].num_points >= 25, log


def test_segmentation_loss_and_metric_disagree_on_the_best_epoch():
    run = curvecheck.load(SAMPLES / "segmentation_unet.csv")
    assert {"iou", "val_iou", "dice_coef", "val_dice_coef"} <= set(run.series)
    assert best_x(run["val_dice_coef"]) - best_x(run["val_loss"]) >= 30
    assert run["val_loss"].values[-1] > 1.5 * run["val_loss"].values.min()


def test_overfitting_run():
    run = curvecheck.load(SAMPLES / "overfitting_mlp.csv")
    assert run["loss"].values[-1] < 0.01 and best_x(run["val_loss"]) < 20
    same = curvecheck.load(SAMPLES / "overfitting_mlp_history.json")
    np.testing.assert_allclose(same["val_loss"].values, run["val_loss"].values, rtol=1e-6)


def test_reduce_lr_on_plateau_logs_the_drops():
    lr = curvecheck.load(SAMPLES / "reduce_lr_on_plateau.csv").lr_series()
    assert lr.name == "learning_rate"
    drops = np.nonzero(np.diff(lr.values) < 0)[0]
    assert len(drops) >= 3 and lr.values[-1] == pytest.approx(1e-4)


def test_lr_sweep_has_three_rates_with_distinct_outcomes():
    runs = {p.stem: curvecheck.load(p) for p in sorted((SAMPLES / "lr_sweep").glob("*.csv"))}
    assert set(runs) == {"lr_0.0001", "lr_0.05", "lr_2.5"}
    best = {k: r["val_accuracy"].values.max() for k, r in runs.items()}
    assert best["lr_0.05"] > 0.95 and best["lr_0.0001"] < 0.6 and best["lr_2.5"] < 0.3


def test_imbalanced_accuracy_sits_at_the_majority_rate_while_loss_falls():
    run = curvecheck.load(SAMPLES / "imbalanced_classifier.csv")
    acc = run["val_accuracy"].values
    assert np.ptp(acc[10:]) == 0 and run["val_recall"].values[-1] == 0
    val_loss = run["val_loss"].values
    assert (np.diff(val_loss[10:]) < 0).all() and val_loss[-1] < 0.85 * val_loss[10]


def test_nan_run():
    run = curvecheck.load(SAMPLES / "nan_divergence.csv")
    loss = run["loss"]
    assert loss.finite[:12].all() and not loss.finite[12:].any()


def test_tensorboard_keras_layout():
    run = curvecheck.load(SAMPLES / "tensorboard_keras")
    assert run.format == "tensorboard" and run.x_axis == "epoch"
    assert run.partner("accuracy").name == "val_accuracy"


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared/corpus is not here (CI and developers have it)")
def test_whole_shared_corpus_reads_or_fails_cleanly():
    for path in sorted(SHARED_CORPUS.rglob("*")):
        if path.is_file() and path.name != "PROVENANCE.tsv":
            try:
                curvecheck.analyze(path)
            except InputError:
                pass
