"""Reports speak the log's own framework: real Lightning, Hugging Face, Ultralytics and plain-torch
TensorBoard logs get their framework's epoch numbering, callbacks and checkpoint names, never Keras'."""

from __future__ import annotations

import functools
import json

import pytest
from typer.testing import CliRunner

import curvecheck
from curvecheck.cli import app
from curvecheck.recommend import divergence_x, recommend_stop, suggest_settings

from .conftest import CORPUS, SAMPLES, WRITTEN

LIGHTNING_NAN = WRITTEN / "lr_runs/torch/nan_divergence/metrics.csv"  # CC101 on a Lightning CSVLogger file
LIGHTNING_NO_VAL = CORPUS / "lightning_csv/DiogoFerreira7-LSTM-Implementation__version_6_metrics.csv"
LIGHTNING_FRACTIONAL = CORPUS / "lightning_csv/Eve-ning-opal-v2__metrics.csv"  # was "epochs 0-7.9514"
HF = CORPUS / "hf_trainer_state/P4P4N1CK-whisper-large-v2-japanese-5k-steps__trainer_state.json"
YOLO_FROM_0 = CORPUS / "yolo_csv/Abonia1-YOLOv8-Fire-and-Smoke-Detection__results.csv"
YOLO_FROM_1 = CORPUS / "yolo_csv/Kerollosl-dental-segmentation__results.csv"
YOLO_OVERFIT = CORPUS / "yolo_csv/JavaKhangNguyen-ACNE11-Classification__results.csv"
TORCH_TB_NAN = WRITTEN / "torch_simple"
TORCH_TB_NO_VAL = WRITTEN / "torch_new_style"


@functools.cache
def analyze(path) -> str:
    """The text report, as `curvecheck analyze PATH` prints it (in-process: the suite stays fast)."""
    res = CliRunner().invoke(app, ["analyze", str(path)])
    assert res.exit_code in (0, 1), res.output
    return res.output


def analyze_json(path) -> dict:
    res = CliRunner().invoke(app, ["analyze", "--json", str(path)])
    return json.loads(res.output)["runs"][0]


@pytest.mark.parametrize("path", [LIGHTNING_NAN, LIGHTNING_NO_VAL, LIGHTNING_FRACTIONAL, HF, YOLO_FROM_0, YOLO_FROM_1,
                                  YOLO_OVERFIT, TORCH_TB_NAN, TORCH_TB_NO_VAL])
def test_non_keras_reports_never_speak_keras(path):
    text = analyze(path)
    for keras_word in ("Keras", "keras.", "TerminateOnNaN", "validation_data=", "clipnorm", "restore_best_weights"):
        assert keras_word not in text, (keras_word, text)
    if "lightning" not in str(path) and "torch/" not in str(path):
        assert "ModelCheckpoint" not in text  # Lightning has its own ModelCheckpoint; HF/YOLO/torch do not


def test_lightning_report_in_lightning_terms():
    text = analyze(LIGHTNING_NAN)
    assert "numbered as in the log, from 0, as Lightning's progress bar and checkpoint names count them" in text
    assert "Trainer(gradient_clip_val=1.0)" in text and "detect_anomaly=True" in text  # CC101 advice
    assert "define validation_step and pass a val_dataloader" in analyze(LIGHTNING_NO_VAL)
    # per-step series sit at fractional epochs: the header still names the log's own epochs
    text = analyze(LIGHTNING_FRACTIONAL)
    assert "x-axis: 8 epochs (epochs 0-7;" in text and "7.95" not in text.splitlines()[1]
    run = analyze_json(LIGHTNING_FRACTIONAL)
    assert (run["x_first"], run["x_last"], run["num_points"]) == (0, 7, 8)
    rec = run["recommendation"]
    assert rec["keep_hint"] == f"Lightning's ModelCheckpoint names it 'epoch={int(rec['epoch'])}-step=...ckpt'"
    assert rec["suggested"]["curvecheck_callback"].startswith("curvecheck.callbacks.lightning.")


def test_hf_report_names_its_callbacks_and_checkpoint_folder():
    text = analyze(HF)
    run = analyze_json(HF)
    step = int(run["recommendation"]["epoch"])
    assert run["numbering"] == "" and "x-axis: " in text and "steps" in text.splitlines()[1]
    assert f"checkpoint-{step}" in text and "load_best_model_at_end=True" in text
    assert "EarlyStoppingCallback(early_stopping_patience=" in text
    assert "the Trainer's own best (by its metric_for_best_model): /storage/" in text
    assert "curvecheck_callback" not in run["recommendation"]["suggested"]


def test_ultralytics_numbering_follows_the_results_csv():
    text = analyze(YOLO_FROM_0)
    assert "numbered as in the log, from 0 as YOLOv5 and early YOLOv8 write results.csv" in text
    assert "model.train(..., patience=" in text and "weights/best.pt" in text
    assert "from 1 as Ultralytics writes and prints them" in analyze(YOLO_FROM_1)
    assert "curvecheck.callbacks" not in text
    overfit = analyze(YOLO_OVERFIT)
    # the checkpoint to keep is best.pt's epoch (best fitness, 20), as the recommendation says; not val/loss's 44
    assert "Keep the checkpoint from epoch 20 (weights/best.pt: Ultralytics keeps the epoch with the best fitness" \
           in overfit and "by fitness, best at epoch 20" in overfit and "keep epoch 20" in overfit


def test_plain_torch_tensorboard_gets_framework_neutral_advice():
    text = analyze(TORCH_TB_NAN)
    assert "clip_grad_norm_" in text and "torch.isfinite(loss)" in text
    assert "evaluate on a held-out set every epoch and log it as val_*" in analyze(TORCH_TB_NO_VAL)


def test_keras_reports_keep_keras_terms():
    text = analyze(SAMPLES / "nan_divergence.csv")
    assert "from 0 like Keras CSVLogger: epoch 0 is Keras's 'Epoch 1'" in text
    assert "Keras calls it 'Epoch 11'; ModelCheckpoint {epoch} = 11" in text
    assert "keras.callbacks.TerminateOnNaN()" in text and "clipnorm=1.0" in text
    text = analyze(SAMPLES / "segmentation_unet.csv")
    assert "curvecheck.callbacks.keras.CurvecheckStopping" in text and "curvecheck[keras]" in text
    assert "EarlyStopping(monitor='val_dice_coef', mode='max') and the same for ModelCheckpoint" in text


def test_no_min_delta_from_the_noise_of_a_diverging_run():
    # val_loss falls from 1e5 to its best 232 and then goes NaN: its first differences are no noise level
    run = curvecheck.load(SAMPLES / "nan_divergence.csv")
    assert divergence_x(run) == (12.0, "it went NaN/inf at epoch 12")
    rec = recommend_stop(run)
    assert rec.suggested == {} and any(n.startswith("No early-stopping settings for the next run: it went NaN/inf "
                                                    "at epoch 12") for n in rec.notes)
    assert "min_delta=1000" not in analyze(SAMPLES / "nan_divergence.csv")
    # a healthy run keeps the settings from its whole-run noise
    healthy = curvecheck.load(SAMPLES / "segmentation_unet.csv")
    assert divergence_x(healthy) is None
    assert recommend_stop(healthy).suggested["min_delta"] == suggest_settings(healthy["val_loss"], "min")["min_delta"]
    # with noise visible before the divergence, the settings come from there (local noise at the best)
    s = curvecheck.model.make_series("val_loss", range(12), [5, 4, 3, 2.5, 2.2, 2.3, 2.1, 2.15, 2.05, 2.1, 9, 40])
    got = suggest_settings(s, "min", (9.5, "it diverged after epoch 9"))
    assert 0 < got["min_delta"] < 1 and "it diverged after epoch 9: its noise sigma around its best" in got["reason"]


def test_lr_verdict_quotes_the_lr_at_the_event():
    # the LR doubles every epoch: the verdict is about the LR that made the loss NaN, not the first one
    run = analyze_json(SAMPLES / "nan_divergence.csv")
    verdict = run["lr_verdict"]
    assert verdict["lr"] == pytest.approx(1e-06) and verdict["event_lr"] == pytest.approx(0.004096)
    assert verdict["event"] == "at epoch 12, the first NaN/inf loss"
    nan = next(f for f in run["findings"] if f["code"] == "CC101")
    assert nan["evidence"]["lr_at_first"] == verdict["event_lr"]
    assert ("learning rate: too high  (lr 0.004096 at epoch 12, the first NaN/inf loss; lr 1e-06 at the start"
            in analyze(SAMPLES / "nan_divergence.csv"))
    diverged = analyze_json(WRITTEN / "keras_divergence.csv")["lr_verdict"]
    climb = next(s for s in diverged["signals"] if s["name"] == "divergence")
    assert diverged["event"] == "at epoch 9, where the divergence began"
    assert diverged["event_lr"] == climb["numbers"]["lr_start"]
    # a constant LR is quoted once, as before
    assert analyze_json(WRITTEN / "lr_runs/torch/nan_divergence/metrics.csv")["lr_verdict"]["event_lr"] is None
