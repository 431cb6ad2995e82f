"""CC104 never-learned, the honest recommendation for such a run, and framework-specific callback advice.

Real runs: tests/data/written/lr_runs (Keras, written by scripts/make_lr_runs.py) and corpus logs;
synthetic curves only at the thresholds' edges.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import curvecheck
from curvecheck.advice import callback_framework, early_stopping, reduce_lr_on_plateau, stop_on_nan
from curvecheck.checks import run_checks
from curvecheck.checks.never_learned import binary_entropy
from curvecheck.model import Run, make_series
from curvecheck.recommend import recommend_stop

from .conftest import CORPUS, SAMPLES, WRITTEN

KERAS = WRITTEN / "lr_runs" / "keras"
COLLAPSED = ["dead_relu.csv", "explosion_then_frozen.csv", "saturated_sigmoid.csv", "segmentation_iou0.csv",
             "nan_divergence.csv", "lr_sweep/lr_3.csv"]  # every Keras never_learned run is in test_lr_verdicts


def cli(*args):
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          check=False)


def never_learned(path) -> list:
    return [f for f in curvecheck.analyze(path).runs[0].findings if f.kind == "never_learned"]


@pytest.mark.parametrize("name", COLLAPSED)
def test_collapsed_runs_never_learned_and_get_no_checkpoint(name):
    report = curvecheck.analyze(KERAS / name).runs[0]
    found = [f for f in report.findings if f.kind == "never_learned"]
    assert len(found) == 1 and found[0].code == "CC104" and found[0].severity == "error"
    assert found[0].evidence.signal in ("frozen_loss", "explosion_then_frozen", "nan_from_start")
    rec = report.recommendation
    assert rec.epoch is None and rec.usable is False and rec.status == "never_learned"
    assert rec.suggested == {} and rec.saved_epochs == 0 and "saving" not in rec.reason


def test_a_run_that_learned_then_collapsed_keeps_a_checkpoint():
    """It reached 97 % validation accuracy in epoch 1, then the sigmoid saturated: divergence, not never-learned."""
    report = curvecheck.analyze(KERAS / "saturated_sigmoid_late.csv").runs[0]
    assert not [f for f in report.findings if f.kind == "never_learned"]
    assert report.recommendation.usable and report.lr_verdict.verdict == "too_high"


def test_evidence_names_the_trivial_value_and_what_it_is():
    dead = never_learned(KERAS / "dead_relu.csv")[0].evidence
    assert dead.metric == "val_accuracy" and dead.trivial_value == pytest.approx(0.1)
    assert dead.trivial_meaning.startswith("chance for 10 classes")
    # the train accuracy 0.077 is the share of one class, not "chance for 13 classes"
    assert "accuracy stays at 0.077 = the share of the one class" in never_learned(KERAS / "dead_relu.csv")[0].message
    exploded = never_learned(KERAS / "explosion_then_frozen.csv")[0].evidence
    assert exploded.signal == "explosion_then_frozen" and exploded.first_value > 1e6
    seg = never_learned(KERAS / "segmentation_iou0.csv")[0].evidence
    assert seg.signal == "explosion_then_frozen" and seg.metric == "val_iou" and seg.trivial_value == 0
    # the imbalanced run's loss falls (to the prior's entropy): a trivial metric, not a collapse
    imbalanced = never_learned(KERAS / "imbalanced_majority.csv")[0].evidence
    assert imbalanced.signal == "trivial_metric" and imbalanced.trivial_meaning.startswith("the majority share")
    assert imbalanced.prior_entropy == pytest.approx(binary_entropy(0.953), rel=1e-3)


def test_real_corpus_collapses():
    nan = never_learned(CORPUS / "keras_csv/AmineEchraibi-BrainCNN__BrainCNN.log")[0]
    assert nan.evidence.signal == "nan_from_start" and nan.evidence.non_finite_points == 354
    frozen = never_learned(CORPUS / "keras_csv/AmineEchraibi-BrainCNN__predict_age.log")[0]
    assert frozen.evidence.signal == "frozen_loss" and "below its first value" in frozen.message
    # Keras TB validation folder: loss 0.6755 = the binary entropy of a 59.4 % majority, accuracy constant
    tb = never_learned(CORPUS / "tensorboard" /
                       "IsomorphicAlgo-Histopathologic-Cancer-Detection-Deep-Mo__events.out.tfevents"
                       ".1740535488.BALGARATH.14976.1.v2")[0]
    assert "majority share" in tb.message
    # healthy corpus runs are left alone
    assert never_learned(CORPUS / "keras_csv/MatPatCarry-Flowers_Classification_Project__history.csv") == []
    assert never_learned(SAMPLES / "segmentation_unet.csv") == []


def _run(loss, acc=None, val_acc=None) -> Run:
    n = len(loss)
    series = {"loss": make_series("loss", range(n), loss)}
    if acc is not None:
        series["accuracy"] = make_series("accuracy", range(n), acc)
    if val_acc is not None:
        series["val_accuracy"] = make_series("val_accuracy", range(n), val_acc)
    return Run(source="synthetic.csv", format="keras_csv", x_axis="epoch", series=series)


def test_frozen_threshold_edge():
    """0.5 % of the level is the edge between frozen and a (very) slow improvement."""
    n = 30
    acc = [0.1] * n
    frozen = np.r_[2.9, 2.5, 2.40, np.linspace(2.40, 2.40 * (1 - 0.004), n - 3)]
    moving = np.r_[2.9, 2.5, 2.40, np.linspace(2.40, 2.40 * (1 - 0.03), n - 3)]
    def signals(run, **kw):
        return [f.evidence.signal for f in run_checks(run, **kw)[0] if f.kind == "never_learned"]

    assert signals(_run(frozen, acc)) == ["frozen_loss"]
    # the loss still improves: no frozen loss (the accuracy constant at 0.1 throughout is trivial on its own)
    assert signals(_run(moving, acc)) == ["trivial_metric"]
    assert signals(_run(moving)) == []
    # a frozen loss alone (it fell from its start, no metric, no explosion) may be a converged resumed run
    assert signals(_run(frozen)) == []
    # the setting moves the edge
    assert signals(_run(moving, acc), settings={"never-learned": {"frozen_rel": 0.05}}) == ["frozen_loss"]


def test_accuracy_within_one_quantum_counts_as_constant_but_a_learned_loss_does_not():
    n = 20
    loss = np.r_[0.9, np.full(n - 1, 0.69)]
    wobble = [0.6, 0.6025, 0.6] * 6 + [0.6, 0.6]  # 1/400 steps: one quantum
    found = [f for f in run_checks(_run(loss, val_acc=wobble))[0] if f.kind == "never_learned"]
    assert found and "majority share" in found[0].message
    # same constant accuracy, but a loss far below the prior's entropy: the model learned; not trivial
    low = np.r_[0.9, np.linspace(0.3, 0.05, n - 1)]
    assert not [f for f in run_checks(_run(low, val_acc=wobble))[0] if f.kind == "never_learned"]


def test_recommend_stop_cli_for_a_dead_run_and_an_all_nan_monitor(tmp_path):
    res = cli("recommend-stop", KERAS / "dead_relu.csv", "--json")
    doc = json.loads(res.stdout)
    assert res.returncode == 1 and doc["epoch"] is None and doc["usable"] is False
    assert doc["status"] == "never_learned" and doc["suggested"] == {} and "never learned" in doc["reason"]
    text = cli("recommend-stop", KERAS / "dead_relu.csv").stdout
    assert "NEVER LEARNED" in text and "saving" not in text and "next run" not in text
    log = tmp_path / "nan_val.csv"
    rows = ["epoch,loss,val_loss,val_accuracy"] + [f"{i},{1 / (i + 1):.4f},nan,{0.5 + i / 100:.2f}" for i in range(10)]
    log.write_text("\n".join(rows) + "\n")
    res = cli("recommend-stop", log, "--monitor", "val_loss")
    assert res.returncode == 1 and "val_loss is NaN or inf at every epoch" in res.stdout
    assert "zero-size" not in res.stdout + res.stderr and "Traceback" not in res.stderr
    # the default monitor switches to val_accuracy, and says so
    rec = recommend_stop(curvecheck.load(log), live=False)
    assert rec.monitor == ["val_accuracy"] and any("val_loss is NaN" in n for n in rec.notes)


def test_callback_advice_in_the_logs_framework():
    keras_run = curvecheck.load(SAMPLES / "overfitting_mlp.csv")
    yolo = curvecheck.load(CORPUS / "yolo_csv/A-Alviento-rock-paper-scissors-yolo-object-detectio__results.csv")
    tb = curvecheck.load(SAMPLES / "tensorboard_keras")
    assert callback_framework(keras_run) == "keras" and callback_framework(yolo) == "ultralytics" and callback_framework(tb) == "keras"
    assert early_stopping("lightning", "val_loss", "min", 6, 0.01).startswith("lightning.pytorch.callbacks.EarlyStopping")
    assert "EarlyStoppingCallback(early_stopping_patience=6" in early_stopping("hf", "eval_loss", "min", 6, 0.01)
    assert "patience=6" in early_stopping("ultralytics", "fitness", "max", 6, 0.01)
    assert "ReduceLROnPlateau(optimizer" in reduce_lr_on_plateau("lightning", "val_loss", "min", 3, 0.01)
    assert "keras.callbacks.TerminateOnNaN()" in stop_on_nan("keras") and "keras" not in stop_on_nan("lightning")
    rec = recommend_stop(yolo, live=False)
    assert rec.suggested["framework"] == "ultralytics" and "keras" not in rec.suggested["early_stopping"]
    assert recommend_stop(keras_run, live=False).suggested["early_stopping"].startswith("keras.callbacks.EarlyStopping")


def test_stuck_metric_within_one_quantum_anywhere_and_regression_metrics():
    n = 30
    loss = np.linspace(1.0, 0.5, n)  # falling by half
    rises = np.linspace(0.5, 0.8, 10)
    one_step = np.r_[rises, 0.8 + 0.0025 * (np.arange(20) % 2)]  # 1/400 wobble for 20 of 30 epochs
    two_steps = np.r_[rises, 0.8 + 0.005 * (np.arange(20) % 2)]
    grid = np.r_[0.8075, 0.0025 * np.arange(1, 5)]  # the metric's step is visible elsewhere in the curve
    run = _run(np.r_[loss, loss[-1] * np.ones(5)], val_acc=np.r_[one_step, grid])
    stuck = [f for f in run_checks(run)[0] if f.code == "CC205"]
    assert stuck and stuck[0].evidence.signal == "frozen" and stuck[0].evidence.stretch_points >= 10
    run = _run(np.r_[loss, loss[-1] * np.ones(5)], val_acc=np.r_[two_steps, grid])
    assert not [f for f in run_checks(run)[0] if f.code == "CC205"]
    # a regression metric frozen while the loss is NaN (real: BrainCNN's MAE at 0.9534672 for 353 epochs)
    (mae,) = [f for f in curvecheck.analyze(CORPUS / "keras_csv/AmineEchraibi-BrainCNN__BrainCNN.log").runs[0].findings
              if f.code == "CC205"]
    assert mae.evidence.metric == "mean_absolute_error" and mae.evidence.stretch_points == 353


def test_per_step_loss_that_learned_within_the_first_evaluation_then_diverged_is_not_never_learned():
    """HF Whisper fine-tune: the per-step loss falls 0.83 -> 0.12 before the first evaluation (step 250),
    then climbs under a rising LR. Binned per evaluation, the first bin already holds the descent; the
    run's start is its first logged value, so this is a divergence (CC102), not a dead network."""
    codes = {f.code for f in curvecheck.analyze(CORPUS / "hf_trainer_state/ByErenOzer-Whisper_Finetune__trainer_state.json")
             .runs[0].findings}
    assert "CC102" in codes and "CC104" not in codes


def test_an_auc_at_chance_is_a_trivial_value_despite_one_blip():
    # torch SummaryWriter run (lr 1 on 8 % positives): val/auc 0.501 for 25 of the last 27 epochs, one 0.526
    run = curvecheck.load(WRITTEN / "lr_holdout/imbalanced_mlp_sgd_lr_1")
    auc = run["val/auc"].values
    assert np.mean(np.abs(auc[6:] - 0.5) < 0.02) >= 0.9 and np.abs(auc[6:] - 0.5).max() > 0.02
    (found,) = [f for f in curvecheck.analyze(run).runs[0].findings if f.kind == "never_learned"]
    assert "val/auc" in found.series and "AUC 0.5" in found.message
    assert curvecheck.analyze(run).runs[0].lr_verdict.verdict != "ok"


def test_a_crawl_is_told_to_raise_the_lr_not_lower_it():
    # plain-torch CNN on digits at SGD lr 1e-5: loss 2.3067 -> 2.3050 while val_loss falls at every epoch
    (found,) = never_learned(WRITTEN / "lr_holdout/digits_cnn_sgd_lr_1e-05.csv")
    assert found.evidence.crawling and "raise the learning rate" in found.advice and "Lower" not in found.advice
    # a dead network (loss flat, not falling) keeps the collapse advice
    (dead,) = never_learned(KERAS / "dead_relu.csv")
    assert not dead.evidence.crawling and "Lower the learning rate" in dead.advice
