"""recommend-stop, LR verdicts and sweeps on real logs; the CLI contract for both."""

import csv
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import UsageError
from curvecheck.recommend import checkpoint_path, recommend_stop

from .conftest import CORPUS, SAMPLES, WRITTEN

SEG = SAMPLES / "segmentation_unet.csv"


def column(path, name):
    with open(path, newline="") as fh:
        return np.array([float(r[name]) for r in csv.DictReader(fh)])


def cli(*args):
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "150"})


def test_default_monitor_is_val_loss_and_epoch_is_its_best():
    rec = recommend_stop(curvecheck.load(SEG), live=False)
    val_loss = column(SEG, "val_loss")
    assert rec.monitor == ["val_loss"] and rec.epoch == np.argmin(val_loss)
    assert rec.value["val_loss"] == pytest.approx(val_loss.min())
    assert rec.others["val_dice_coef"] == pytest.approx(column(SEG, "val_dice_coef")[int(rec.epoch)])
    assert rec.status == "finished" and rec.strategy == "auto"


def test_monitoring_the_metric_you_report():
    rec = recommend_stop(curvecheck.load(SEG), ["val_dice_coef"], live=False)
    assert rec.epoch == np.argmax(column(SEG, "val_dice_coef"))


def test_two_monitors_are_combined_on_a_common_scale_and_disagreement_reported():
    rec = recommend_stop(curvecheck.load(SEG), ["val_loss", "val_dice_coef"], live=False)
    (d,) = rec.disagreement
    assert d["best_epochs"] == [np.argmin(column(SEG, "val_loss")), np.argmax(column(SEG, "val_dice_coef"))]
    assert min(d["best_epochs"]) <= rec.epoch <= max(d["best_epochs"])
    heavy_dice = recommend_stop(curvecheck.load(SEG), ["val_loss", "val_dice_coef"], weights=[0.05, 1.0], live=False)
    assert heavy_dice.epoch > rec.epoch  # weighting Dice moves the choice towards Dice's best


def test_keras_strategy_and_the_one_based_checkpoint_name():
    path = SAMPLES / "overfitting_mlp.csv"
    rec = recommend_stop(curvecheck.load(path), strategy="keras", patience=10,
                         checkpoint_template="ckpt/epoch_{epoch:03d}-{val_loss:.4f}.keras", live=False)
    val_loss = column(path, "val_loss")
    best = int(np.argmin(val_loss))
    assert rec.epoch == best and rec.stop_epoch == best + 10 and rec.saved_epochs == len(val_loss) - 1 - (best + 10)
    assert rec.checkpoint == f"ckpt/epoch_{best + 1:03d}-{val_loss[best]:.4f}.keras"  # Keras formats epoch + 1
    assert any("ModelCheckpoint names this epoch" in n for n in rec.notes)


def test_checkpoint_template_for_one_based_logs():
    assert checkpoint_path("w_{epoch:02d}.pt", 7, epoch_base=1, values={}) == "w_07.pt"
    with pytest.raises(UsageError, match="checkpoint-template"):
        checkpoint_path("w_{nope}.pt", 7, 0, {})


def test_threshold_strategy():
    path = SAMPLES / "overfitting_mlp.csv"
    rec = recommend_stop(curvecheck.load(path), strategy="threshold",
                         conditions=["val_loss<0.32", "val_accuracy>0.9"], patience=3, live=False)
    ok = (column(path, "val_loss") < 0.32) & (column(path, "val_accuracy") > 0.9)
    first = next(i for i in range(2, len(ok)) if ok[i - 2:i + 1].all())
    assert rec.epoch == first == rec.stop_epoch
    never = recommend_stop(curvecheck.load(path), strategy="threshold", conditions=["val_loss<0.01"], live=False)
    assert never.epoch is None and "never held" in never.reason


def test_suggested_settings_cover_the_longest_stall_that_paid_off():
    rec = recommend_stop(curvecheck.load(SAMPLES / "reduce_lr_on_plateau.csv"), live=False)
    s = rec.suggested
    assert s["patience"] >= s["longest_stall_before_improvement"] + 2 and s["min_delta"] > 0
    assert s["keras"].startswith("keras.callbacks.EarlyStopping(monitor='val_loss'")


def test_live_run_says_stop_now_or_continue(tmp_path):
    log = curvecheck.load(SAMPLES / "overfitting_mlp.csv")
    rec = recommend_stop(log, live=True)
    assert rec.status == "stop_now" and rec.reason.count("Stop now") == 1
    early = tmp_path / "early.csv"
    early.write_text("\n".join((SAMPLES / "lr_sweep/lr_0.0001.csv").read_text().splitlines()[:12]) + "\n")
    assert recommend_stop(curvecheck.load(early), live=True).status == "continue"
    assert recommend_stop(log).status == "finished"  # without --live a run is finished


def test_results_depend_on_bytes_not_on_the_file_age(tmp_path):
    """A log written just now and the same bytes two years old give byte-identical reports."""
    fresh, old = tmp_path / "a" / "history.csv", tmp_path / "b" / "history.csv"
    for p in (fresh, old):
        p.parent.mkdir()
        p.write_bytes((SAMPLES / "overfitting_mlp.csv").read_bytes())
    two_years_ago = time.time() - 2 * 365 * 86400
    os.utime(old, (two_years_ago, two_years_ago))
    for args in (["analyze", "--json"], ["analyze"], ["recommend-stop", "--json"], ["recommend-stop"]):
        outs = [cli(*args, p).stdout.replace(str(p.parent), "DIR") for p in (fresh, old)]
        assert outs[0] == outs[1], args


def test_lr_verdicts_on_the_sweep_and_known_failures():
    verdicts = {p.stem: curvecheck.analyze(p).runs[0].lr_verdict for p in (SAMPLES / "lr_sweep").glob("*.csv")}
    assert {k: v.verdict for k, v in verdicts.items()} == {"lr_0.0001": "too_low", "lr_0.05": "ok", "lr_2.5": "too_high"}
    assert verdicts["lr_0.05"].lr == 0.05 and verdicts["lr_0.05"].lr_source == "file name"
    assert curvecheck.analyze(WRITTEN / "keras_divergence.csv").runs[0].lr_verdict.verdict == "too_high"
    assert curvecheck.analyze(SAMPLES / "nan_divergence.csv").runs[0].lr_verdict.verdict == "too_high"
    ok = curvecheck.analyze(SAMPLES / "reduce_lr_on_plateau.csv").runs[0].lr_verdict
    assert ok.verdict == "ok" and ok.lr == pytest.approx(0.1) and "helped" in ok.evidence[0]


def test_compare_ranks_the_sweep_and_checks_bracketing():
    rep = curvecheck.compare(sorted((SAMPLES / "lr_sweep").glob("*.csv")))
    assert rep.metric == "val_accuracy" and rep.best_lr == 0.05 and rep.bracketed is True
    only_two_small = curvecheck.compare([SAMPLES / "lr_sweep/lr_0.0001.csv", SAMPLES / "lr_sweep/lr_0.05.csv",
                                         SAMPLES / "overfitting_mlp.csv"], labels=["1e-4", "0.05", "1e-3"])
    assert only_two_small.best_lr == 0.05 and only_two_small.bracketed is False
    assert any("largest tried" in s for s in only_two_small.summary)


def test_analyze_json_has_recommendation_and_lr_verdict():
    doc = json.loads(cli("analyze", SEG, "--json").stdout)
    run = doc["runs"][0]
    assert run["recommendation"]["epoch"] == 11 and run["recommendation"]["monitor"] == ["val_loss"]
    assert {"epoch", "monitor", "value", "strategy", "reason", "saved_epochs"} <= set(run["recommendation"])
    assert run["lr_verdict"]["verdict"] in ("ok", "too_high", "too_low", "unknown")


def test_recommend_stop_cli():
    res = cli("recommend-stop", SAMPLES / "overfitting_mlp.csv", "--strategy", "keras", "--patience", "10", "--quiet")
    assert res.returncode == 0 and res.stdout.strip() == str(int(np.argmin(column(SAMPLES / "overfitting_mlp.csv",
                                                                                  "val_loss"))))
    doc = json.loads(cli("recommend-stop", SEG, "--json", "--monitor", "val_iou").stdout)
    assert doc["monitor"] == ["val_iou"] and doc["epoch"] == np.argmax(column(SEG, "val_iou"))
    panel = cli("recommend-stop", SEG, "--checkpoint-template", "ckpt/e{epoch:03d}.keras").stdout
    assert "keep epoch 11" in panel and "ckpt/e012.keras" in panel and "next run:" in panel


def test_recommend_stop_cli_errors_and_exit_codes():
    assert cli("recommend-stop", SAMPLES / "nan_divergence.csv").returncode == 1  # NaN loss: an error finding
    assert cli("recommend-stop", SAMPLES / "nan_divergence.csv", "--fail-on", "never").returncode == 0
    bad = cli("recommend-stop", SEG, "--monitor", "val_ioo")
    assert bad.returncode == 2 and "no series 'val_ioo'" in bad.stderr and "Traceback" not in bad.stderr
    bad = cli("recommend-stop", SEG, "--strategy", "threshold", "--when", "val_loss=0.1")
    assert bad.returncode == 2 and "--when expects" in bad.stderr
    assert cli("recommend-stop", CORPUS / "keras_csv/missing.csv").returncode == 2


def test_compare_cli():
    res = cli("compare", *sorted((SAMPLES / "lr_sweep").glob("*.csv")))
    # lr 2.5 never learned (CC104, an error): exit 1 at the default --fail-on, like analyze
    assert res.returncode == 1 and "bracketed" in res.stdout and "too high" in res.stdout
    assert cli("compare", *sorted((SAMPLES / "lr_sweep").glob("*.csv")), "--fail-on", "never").returncode == 0
    doc = json.loads(cli("compare", *sorted((SAMPLES / "lr_sweep").glob("*.csv")), "--json").stdout)
    assert doc["best_lr"] == 0.05 and [r["rank"] for r in doc["runs"]] == [2, 1, 3]
    bad = cli("compare", SAMPLES / "lr_sweep/lr_0.05.csv", "--label", "lr=x")
    assert bad.returncode == 2


def test_default_monitor_points_at_a_metric_that_is_better_elsewhere():
    rec = recommend_stop(curvecheck.load(SEG), live=False)
    dice = column(SEG, "val_dice_coef")
    hint = next(n for n in rec.notes if n.startswith("val_dice_coef"))
    assert f"epoch {int(np.argmax(dice))}" in hint and "--monitor val_dice_coef" in hint
    assert not [n for n in recommend_stop(curvecheck.load(SEG), ["val_loss"], live=False).notes
                if "--monitor" in n]  # an explicit monitor is respected silently


def test_checkpoint_template_counts_epochs_as_the_framework_names_files():
    # Lightning names checkpoints with the logged (0-based) epoch; Keras' ModelCheckpoint with epoch + 1
    lightning = curvecheck.load(CORPUS / "lightning_csv/LhoWann-trash-project__metrics.csv")
    rec = recommend_stop(lightning, checkpoint_template="epoch={epoch}.ckpt")
    assert lightning.framework == "lightning" and rec.checkpoint == f"epoch={int(rec.epoch)}.ckpt"
    keras = curvecheck.load(SAMPLES / "overfitting_mlp.csv")
    rec = recommend_stop(keras, checkpoint_template="e{epoch:02d}.keras")
    assert rec.checkpoint == f"e{int(rec.epoch) + 1:02d}.keras"


def test_no_next_run_settings_from_a_training_loss_alone():
    # a Hugging Face run that logged no evaluation: the best training loss is no checkpoint criterion,
    # and EarlyStoppingCallback cannot run without eval metrics
    run = curvecheck.load(CORPUS / "hf_trainer_state/Francis-xsc-BERT_Weibo_Rumor__trainer_state.json")
    assert not any(s.split == "val" for s in run.signals())
    rec = recommend_stop(run)
    assert rec.monitor == ["loss"] and rec.suggested == {}
    assert any("No validation curve" in n for n in rec.notes)
    # with validation, the settings are there
    assert recommend_stop(curvecheck.load(SAMPLES / "overfitting_mlp.csv")).suggested["patience"] >= 1


def test_no_stop_rule_claims_on_a_training_curve_alone():
    # Lightning TensorBoard log with only train_loss: the auto rule "stopping at step 49" before the loss
    # fell 600x would read as advice; no rule is applied, and counts name evaluations, not steps
    run = curvecheck.load(next((CORPUS / "tensorboard").glob("Kirito-012-Deep-Learning__events*")))
    rec = recommend_stop(run)
    assert rec.stop_epoch is None and rec.saved_epochs == 0 and "No stop rule" in rec.reason
    seg = recommend_stop(curvecheck.load(SEG))
    assert "of 80 epochs" in seg.reason
