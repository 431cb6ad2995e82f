"""The diagnostics on real logs: each check fires where the log shows the behaviour, with the numbers
a user can verify, and stays silent on healthy runs. Expected numbers are computed here from the raw
files with the csv module, independently of curvecheck's readers."""

import csv
import inspect

import numpy as np
import pytest

import curvecheck
from curvecheck.checks.base import setting_docs
from curvecheck.checks import CHECKS, find_check, run_checks, select_checks
from curvecheck.errors import UsageError
from curvecheck.findings import KINDS

from .conftest import CORPUS, SAMPLES, WRITTEN


def column(path, name):
    with open(path, newline="") as fh:
        return np.array([float(r[name]) for r in csv.DictReader(fh)])


def findings(path, **kw):
    return curvecheck.analyze(path, **kw).runs[0].findings


def by_code(path, code):
    return [f for f in findings(path) if f.code == code]


# --- the catalogue itself ----------------------------------------------------------------------

def test_catalogue_is_complete_and_documented():
    assert len(CHECKS) == 12 and {c.kind for c in CHECKS.values()} == set(KINDS)
    for check in CHECKS.values():
        doc = inspect.cleandoc(check.__doc__)
        for section in ("What it detects:", "Why it matters:", "What to do:", "Example:"):
            assert section in doc, (check.code, section)
        for key, _typ, _default, meaning in setting_docs(check.Settings):
            assert meaning and f"``{key}``" in doc, (check.code, key)  # every threshold is documented
        assert check.severity in ("error", "warning", "info")


def test_select_and_ignore_by_code_prefix_and_name():
    assert [c.code for c in select_checks(["CC2"])] == ["CC201", "CC202", "CC203", "CC204", "CC205", "CC206"]
    assert [c.code for c in select_checks(["overfitting", "CC101"])] == ["CC101", "CC201"]
    assert "CC103" not in [c.code for c in select_checks(None, ["spike"])]
    assert find_check("cc204").name == "loss-metric-divergence"
    with pytest.raises(UsageError, match="matches no check"):
        select_checks(["CC999"])


def test_settings_by_name_or_code_change_a_threshold_edge():
    """A spike of 5.0x its local level fires at the default ratio 2 and not at ratio 5.5 (set by name or code)."""
    path = CORPUS / "keras_csv/Aditya24jar-Emotion-Detection-Resnet50__training.log"
    assert by_code(path, "CC103")
    assert not [f for f in findings(path, settings={"spike": {"ratio": 5.5}}) if f.code == "CC103"]
    assert [f for f in findings(path, settings={"CC103": {"ratio": 4.5}}) if f.code == "CC103"]


def test_unknown_setting_or_wrong_type_names_the_key():
    path = SAMPLES / "overfitting_mlp.csv"
    with pytest.raises(UsageError, match=r"spike\.k_sgma: unknown setting of CC103 spike"):
        findings(path, settings={"spike": {"k_sgma": 3}})
    with pytest.raises(UsageError, match=r"plateau\.min_epochs: expected int, got 'ten'"):
        findings(path, settings={"plateau": {"min_epochs": "ten"}})
    with pytest.raises(UsageError, match="'nonsense' is not a check"):
        findings(path, settings={"nonsense": {}})


def test_severity_override_per_code():
    (f,) = [f for f in findings(SAMPLES / "nan_divergence.csv", severities={"CC101": "warning"}) if f.code == "CC101"]
    assert f.severity == "warning"


# --- CC101 non-finite ----------------------------------------------------------------------------

def test_nan_from_epoch_12_with_the_learning_rate_at_that_epoch():
    path = SAMPLES / "nan_divergence.csv"
    (f,) = by_code(path, "CC101")
    loss, lr, epoch = column(path, "loss"), column(path, "learning_rate"), column(path, "epoch")
    first = int(np.argmax(np.isnan(loss)))
    assert f.severity == "error" and f.epochs == {"start": epoch[first], "end": epoch[-1]}
    assert set(f.series) == {"loss", "val_loss", "mae", "val_mae"}  # one event, one finding
    assert f.evidence["lr_at_first"] == pytest.approx(lr[first])
    assert "TerminateOnNaN" in f.advice


def test_nan_on_every_epoch():
    (f,) = by_code(CORPUS / "keras_csv/AmineEchraibi-BrainCNN__BrainCNN.log", "CC101")
    assert f.evidence["non_finite_count"] == 354 and "every epoch" in f.message


# --- CC102 divergence ----------------------------------------------------------------------------

def test_training_loss_climbing_back_up_is_divergence():
    path = WRITTEN / "keras_divergence.csv"
    (f,) = by_code(path, "CC102")
    loss = column(path, "loss")
    assert f.evidence["best_epoch"] == np.argmin(loss) and f.evidence["best"] == pytest.approx(loss.min())
    assert "learning rate rose" in f.message


def test_overfitting_is_not_divergence():
    assert not by_code(SAMPLES / "overfitting_mlp.csv", "CC102")


# --- CC103 spike -------------------------------------------------------------------------------

def test_single_epoch_spike_in_the_wild():
    path = CORPUS / "keras_csv/Aditya24jar-Emotion-Detection-Resnet50__training.log"
    (f,) = by_code(path, "CC103")
    assert f.evidence["spike_epochs"] == [1] and f.evidence["values"][0] == pytest.approx(column(path, "val_loss")[1])


def test_steep_early_descent_is_not_a_spike():
    for path in (SAMPLES / "overfitting_mlp.csv", SAMPLES / "reduce_lr_on_plateau.csv",
                 CORPUS / "keras_csv/MatPatCarry-Flowers_Classification_Project__history.csv"):
        assert not by_code(path, "CC103"), path


# --- CC201 overfitting --------------------------------------------------------------------------

def test_overfitting_onset_gap_and_prechelt_gl():
    path = SAMPLES / "overfitting_mlp.csv"
    (f,) = by_code(path, "CC201")
    val = column(path, "val_loss")
    gl = 100 * (val[-1] / val.min() - 1)
    assert f.evidence["prechelt_gl_at_end"] == pytest.approx(gl)
    assert abs(f.evidence["onset_epoch"] - np.argmin(val)) <= 5
    assert f.evidence["gap_at_end"] > f.evidence["gap_at_onset"] > 0
    assert f.evidence["gl5_stop_epoch"] == np.argmax(100 * (val / np.minimum.accumulate(val) - 1) > 5)


def test_overfitting_in_the_wild_and_with_a_noisy_slow_rise():
    (f,) = by_code(CORPUS / "keras_csv/AhmedImtiazPrio-irfanet-10__training_191017.log", "CC201")
    assert 8 <= f.evidence["onset_epoch"] <= 16
    (g,) = by_code(CORPUS / "keras_json/Anway-Kapoor-BrainTumorClassification__training_history.json", "CC201")
    assert 12 <= g.evidence["onset_epoch"] <= 16


def test_overfitting_names_the_metric_that_still_improves():
    (f,) = by_code(SAMPLES / "segmentation_unet.csv", "CC201")
    assert f.evidence["metric_still_improving"] == "val_dice_coef" and "CC204" in f.message


def test_healthy_runs_do_not_overfit():
    for path in (CORPUS / "keras_json/AbdulRahman3e4-Fashion-MNIST-CNN-Model__model_history.json",
                 CORPUS / "keras_csv/MatPatCarry-Flowers_Classification_Project__history.csv",
                 SAMPLES / "lr_sweep/lr_0.05.csv"):
        assert not by_code(path, "CC201"), path


def test_two_epochs_is_too_short_to_judge(tmp_path):
    src = (SAMPLES / "overfitting_mlp.csv").read_text().splitlines()
    short = tmp_path / "two.csv"
    short.write_text("\n".join(src[:3]) + "\n")
    report = curvecheck.analyze(short).runs[0]
    assert not [f for f in report.findings if f.code != "CC401"]
    note = next(n for n in report.notes if n.kind == "too_short")
    assert "CC201 overfitting" in note.message and "2 epochs" in note.message


# --- CC202 plateau / CC301 lr schedule ------------------------------------------------------------

def test_lr_drops_and_their_effect():
    path = SAMPLES / "reduce_lr_on_plateau.csv"
    lr, epoch = column(path, "learning_rate"), column(path, "epoch")
    drops = epoch[1:][lr[1:] < 0.9 * lr[:-1]].tolist()
    schedule = next(f for f in by_code(path, "CC301") if f.severity == "info")
    assert [d["epoch"] for d in schedule.evidence["drops"]] == drops
    assert schedule.evidence["drops"][0]["helped"] and not schedule.evidence["drops"][-1]["helped"]
    floor = next(f for f in by_code(path, "CC301") if f.severity == "warning")
    assert floor.evidence["lr_floor"] == pytest.approx(lr.min())


def test_plateau_after_lr_reaches_its_floor():
    (f,) = [f for f in by_code(SAMPLES / "reduce_lr_on_plateau.csv", "CC202") if f.severity == "warning"]
    assert "minimum" in f.message and "floor" in f.advice


def test_flat_run_with_a_frozen_metric_is_a_plateau_not_undertrained():
    path = CORPUS / "keras_csv/AmineEchraibi-BrainCNN__predict_age.log"
    (f,) = by_code(path, "CC202")
    assert set(f.series) == {"loss", "acc"} and f.evidence["stalled_epochs"] > 900
    assert not by_code(path, "CC206")


def test_slow_steady_progress_is_not_a_plateau():
    assert not by_code(SAMPLES / "lr_sweep/lr_0.0001.csv", "CC202")


def test_smooth_schedules_are_summarised():
    (f,) = by_code(CORPUS / "yolo_csv/A-Alviento-rock-paper-scissors-yolo-object-detectio__results.csv", "CC301")
    assert "smooth schedule" in f.message


# --- CC203 oscillation --------------------------------------------------------------------------

def test_validation_swinging_around_its_level():
    """Abijith's val_accuracy 0.59, 0.39, 0.80, 0.86, 0.66, 0.93... swings by far more than 30 % of its level."""
    (f,) = by_code(CORPUS / "keras_csv/AbijithT-Lung-Cancer-Detection__training_log.csv", "CC203")
    assert "val_loss" in f.series and f.evidence["series"]["val_loss"]["swing_share_of_level"] > 0.3
    assert f.evidence["threshold"] == 0.2


def test_small_validation_jitter_and_one_quantum_steps_are_not_oscillation():
    # 368 validation samples: val_accuracy moves in steps of 1/368 around 0.85; val noisier than train
    for path in (CORPUS / "keras_json/AlexMisra1-Coral-Anomaly-Detector__training_history.json",
                 SAMPLES / "fluctuating_validation.csv",  # 40 samples: 0.95 <-> 0.975 is one sample
                 CORPUS / "keras_csv/dhairyasheelsutar-Food-11-image-classification__inceptionV3_training.csv"):
        assert not by_code(path, "CC203"), path


def test_smooth_validation_does_not_oscillate():
    for path in (SAMPLES / "lr_sweep/lr_0.05.csv", SAMPLES / "overfitting_mlp.csv",
                 CORPUS / "keras_json/VivakaNand-Satellite-Imagery-Semantic-Segmentation-__model_history.json"):
        assert not by_code(path, "CC203"), path


# --- CC204 loss vs metric -------------------------------------------------------------------------

def test_val_loss_and_dice_disagree():
    path = SAMPLES / "segmentation_unet.csv"
    (f,) = by_code(path, "CC204")
    val_loss, dice = column(path, "val_loss"), column(path, "val_dice_coef")
    assert abs(f.evidence["loss_best_epoch"] - np.argmin(val_loss)) <= 3
    assert abs(f.evidence["metric_best_epoch"] - np.argmax(dice)) <= 3
    assert "monitor='val_dice_coef'" in f.advice


def test_loss_best_first_epoch_while_accuracy_keeps_rising():
    (f,) = by_code(CORPUS / "keras_csv/AKBoles-Voice-Identification__speaker250_training.log", "CC204")
    assert f.evidence["loss_best_epoch"] <= 2 and f.evidence["metric_best_epoch"] > 30


def test_tiny_metric_differences_are_not_reported():
    assert not by_code(CORPUS / "yolo_csv/A-Alviento-rock-paper-scissors-yolo-object-detectio__results.csv", "CC204")


# --- CC205 stuck metric ---------------------------------------------------------------------------

def test_accuracy_at_the_majority_rate_while_loss_falls():
    path = SAMPLES / "imbalanced_classifier.csv"
    val = next(f for f in by_code(path, "CC205") if "val_accuracy" in f.series)
    assert val.evidence["metrics"]["val_accuracy"]["value"] == column(path, "val_accuracy")[-1]
    assert "val_precision" in val.series and "val_recall" in val.series
    assert "class_weight" in val.advice


def test_perfect_training_accuracy_is_not_stuck():
    assert not by_code(SAMPLES / "overfitting_mlp.csv", "CC205")


# --- CC206 undertrained ---------------------------------------------------------------------------

def test_too_low_learning_rate_is_still_improving():
    (f,) = by_code(SAMPLES / "lr_sweep/lr_0.0001.csv", "CC206")
    assert f.severity == "warning" and f.evidence["slope_t"] > 2


# --- CC302 / CC401 -----------------------------------------------------------------------------

def test_train_metric_nan_while_validation_is_finite():
    fs = findings(CORPUS / "keras_csv/DexterGomez-ftc-unet__training_history.csv")
    assert {tuple(f.series) for f in fs if f.code == "CC302"} == {
        ("dice_coefficient_t", "val_dice_coefficient_t"), ("jaccard_coefficient_t", "val_jaccard_coefficient_t")}
    (nan,) = [f for f in fs if f.code == "CC101"]  # two kinds: the NaN itself, and train vs val
    assert nan.severity == "warning" and set(nan.series) == {"dice_coefficient_t", "jaccard_coefficient_t"}


def test_appended_runs_and_a_metric_above_one():
    fs = by_code(CORPUS / "keras_csv/BrandtKaufmann-CatClassifier__training.log", "CC401")
    assert any("appended runs" in f.message for f in fs)
    bug = next(f for f in fs if "leaves [0, 1]" in f.message)
    assert bug.evidence["max"] > 1


def test_runs_checks_on_every_labelled_log_without_error():
    run = curvecheck.load(SAMPLES / "segmentation_unet.csv")
    fs, notes = run_checks(run)
    assert [f.severity for f in fs] == sorted((f.severity for f in fs), key=["error", "warning", "info"].index)
    assert all(f.to_dict()["code"] for f in fs) and not notes


def test_repeated_steps_are_reported():
    from tensorboard.backend.event_processing import event_accumulator as ea

    path = CORPUS / "tensorboard/Abonia1-YOLOv8-Fire-and-Smoke-Detection__events.out.tfevents.1675348815.43529bab29be.37247.0"
    acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    steps = [e.step for e in acc.Scalars("train/box_loss")]
    (f,) = [f for f in by_code(path, "CC401") if "more than once" in f.message]
    assert f.evidence["duplicates"]["train/box_loss"] == len(steps) - len(set(steps)) > 1000
