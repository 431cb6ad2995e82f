"""The diagnostics on real logs: each check fires where the log shows the behaviour, with the numbers
a user can verify, and stays silent on healthy runs. Expected numbers are computed here from the raw
files with the csv module, independently of curvecheck's readers."""

import csv
import inspect

import numpy as np
import pytest

import curvecheck
from curvecheck.checks import CHECKS, find_check, run_checks, select_checks
from curvecheck.checks.base import setting_docs
from curvecheck.errors import UsageError
from curvecheck.findings import KINDS
from curvecheck.model import Run, make_series

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
    assert len(CHECKS) == 13 and {c.kind for c in CHECKS.values()} == set(KINDS)
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
    assert f.evidence["metric_still_improving"] == "val_dice_coef" and "val_dice_coef still improves" in f.message
    assert "CC204" not in f.message  # no pointer to a check that may stay silent


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
    assert val.evidence.metric == "val_accuracy" and val.evidence.value == column(path, "val_accuracy")[-1]
    assert val.evidence.trivial_meaning.startswith("the majority share")  # checked against the loss
    assert "val_precision" in val.series and "val_recall" in val.series and "val_recall" in val.evidence.also
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


# --- threshold edges on synthetic curves (real logs above prove the behaviour; these pin the rules) ------


RNG = np.random.default_rng(0)


def synth(x_axis="epoch", **cols):
    """A run from columns: name=values (x = 0..n-1) or name=(x, values)."""
    series = {}
    for name, col in cols.items():
        x, v = col if isinstance(col, tuple) else (np.arange(len(col)), col)
        series[name] = make_series(name, x, v)
    return Run(source="synthetic.csv", format="keras_csv", x_axis=x_axis, series=series)


def fired(run, code, **settings):
    fs, _notes = run_checks(run, [CHECKS[code]], settings={code: settings} if settings else None)
    return fs


def decaying(n, start=1.0, end=0.1, noise=0.0):
    return end + (start - end) * np.exp(-np.arange(n) / 4) + noise * RNG.standard_normal(n)


def test_spike_edge_is_twice_the_local_level():
    base = 1.0 + 0.01 * (-1.0) ** np.arange(20)
    for height, expected in ((1.9, 0), (2.1, 1)):
        loss = base.copy()
        loss[10] = height
        assert len(fired(synth(loss=loss), "CC103")) == expected, height
    loss = base.copy()
    loss[10] = 2.1
    assert not fired(synth(loss=loss), "CC103", ratio=2.2)


def test_a_jump_that_stays_or_a_high_first_epoch_is_not_a_spike():
    step_up = np.r_[np.full(10, 1.0), np.full(10, 2.5)] + 0.01 * (-1.0) ** np.arange(20)
    startup = np.r_[5.0, np.full(19, 1.0)] + 0.01 * (-1.0) ** np.arange(20)
    assert not fired(synth(loss=step_up), "CC103")
    assert not fired(synth(loss=startup), "CC103")


def test_minibatch_outliers_in_a_per_step_series_are_not_spikes():
    steps = np.arange(1, 401)
    loss = 1.0 + 0.1 * RNG.standard_normal(400)
    loss[[50, 170, 333]] = 3.5  # single bad batches
    run = synth("step", loss=(steps, loss), val_loss=(steps[39::40], np.full(10, 1.1)))
    assert not fired(run, "CC103")


def test_oscillation_edge_is_a_swing_of_a_fifth_of_the_level():
    loss = decaying(20)
    swinging = 1 + 0.15 * (-1.0) ** np.arange(20)  # peak-to-trough 0.3 of a level ~1
    calm = 1 + 0.05 * (-1.0) ** np.arange(20)
    (f,) = fired(synth(loss=loss, val_loss=swinging), "CC203")
    assert f.evidence["series"]["val_loss"]["swing_share_of_level"] > 0.2
    assert not fired(synth(loss=loss, val_loss=calm), "CC203")
    assert not fired(synth(loss=loss, val_loss=swinging), "CC203", min_swing=0.4)


def test_one_quantum_alternation_is_not_oscillation_two_quanta_are():
    loss = decaying(20)
    q = 1 / 30
    one = 0.1 + q * (np.arange(20) % 2)
    two = 0.1 + 2 * q * (np.arange(20) % 2)
    two[0] += q  # the quantum shows in the diffs
    assert not fired(synth(loss=loss, val_accuracy=one), "CC203")
    assert fired(synth(loss=loss, val_accuracy=two), "CC203")


def test_val_much_noisier_than_train_is_not_oscillation_by_itself():
    loss = decaying(30)  # noise-free training curve: any validation noise is "infinitely" larger
    val = decaying(30, 1.2, 0.3) + 0.01 * (-1.0) ** np.arange(30)
    assert not fired(synth(loss=loss, val_loss=val), "CC203")


def test_plateau_needs_a_quarter_of_the_run_and_min_epochs():
    long_flat = np.r_[decaying(20, end=0.1), 0.1 + 0.001 * (-1.0) ** np.arange(20)]
    short_flat = np.r_[decaying(20, end=0.1), 0.1 + 0.001 * (-1.0) ** np.arange(6)]
    (f,) = fired(synth(loss=long_flat), "CC202")
    assert f.evidence["stalled_epochs"] >= 20
    assert not fired(synth(loss=short_flat), "CC202")
    assert not fired(synth(loss=long_flat), "CC202", min_epochs=30)


def test_slow_steady_progress_is_progress_and_a_negligible_creep_is_a_plateau():
    slow = np.linspace(1.0, 0.5, 40) + 0.002 * (-1.0) ** np.arange(40)
    assert not fired(synth(loss=slow), "CC202")
    creep = np.r_[decaying(12, end=0.1)[:12], 0.1 * (1 - 0.0007) ** np.arange(1, 31)]  # 0.07 %/epoch, no noise
    assert fired(synth(loss=creep), "CC202")
    assert not fired(synth(loss=creep), "CC202", min_progress=0.0001)


def test_not_a_plateau_rising_val_loss_or_flat_metric_while_loss_improves():
    n = 40
    train = decaying(n, end=0.01)
    rising = np.r_[decaying(15, end=0.3)[:15], np.linspace(0.3, 0.6, n - 15)]
    assert not [f for f in fired(synth(loss=train, val_loss=rising), "CC202") if "val_loss" in f.series]
    improving = np.linspace(1.0, 0.3, n)
    flat_metric = np.r_[np.linspace(0.5, 0.8, 15), np.full(n - 15, 0.8) + 0.001 * (-1.0) ** np.arange(n - 15)]
    fs = fired(synth(loss=train, val_loss=improving, val_accuracy=flat_metric), "CC202")
    assert not [f for f in fs if "val_accuracy" in f.series]


def test_convergence_under_a_decayed_smooth_schedule_is_not_a_plateau_but_under_a_cut_lr_it_is():
    n = 40
    loss = np.r_[np.linspace(1.0, 0.1, 28), 0.1 + 0.0005 * (-1.0) ** np.arange(n - 28)]
    cosine = 1e-3 * 0.5 * (1 + np.cos(np.pi * np.arange(n) / n))  # at 28 the LR is 0.2 of its peak
    assert not fired(synth(loss=loss, lr=cosine), "CC202")
    step = np.where(np.arange(n) < 30, 1e-3, 1e-4)
    (f,) = fired(synth(loss=loss, lr=step), "CC202")
    assert f.evidence["lr_drops_during_stall"] == [30] and f.evidence["lr_at_floor"] == pytest.approx(1e-4)
    late_cut = np.where(np.arange(n) < 38, 1e-3, 1e-4)  # one cut two epochs before the end is not a floor
    (g,) = fired(synth(loss=loss, lr=late_cut), "CC202")
    assert g.evidence["lr_at_floor"] is None and "minimum" not in g.message


def test_loss_metric_disagreement_edges():
    n = 40
    train = decaying(n, end=0.01)
    val_loss = np.r_[decaying(10, end=0.3)[:10], np.linspace(0.3, 0.45, n - 10)]
    val_acc = np.linspace(0.70, 0.76, n)  # keeps improving 0.06 after the loss's best
    (f,) = fired(synth(loss=train, val_loss=val_loss, val_accuracy=val_acc), "CC204")
    assert f.evidence["metric_best_epoch"] == n - 1 and f.evidence["loss_best_epoch"] <= 12
    assert not fired(synth(loss=train, val_loss=val_loss, val_accuracy=val_acc), "CC204", min_effect=0.1)
    early = np.r_[np.linspace(0.70, 0.76, 12), np.full(n - 12, 0.76)]  # agrees after the first epochs
    agree_loss = np.r_[decaying(10, end=0.3)[:10], np.full(n - 10, 0.3) - 0.0001 * np.arange(n - 10)]
    assert not fired(synth(loss=train, val_loss=agree_loss, val_accuracy=early), "CC204")


def test_divergence_climb_to_twice_the_running_best():
    n = 30
    loss = decaying(n, end=0.3)
    climb = loss.copy()
    climb[12:18] = 0.8  # 2.2x its best for 6 of 30 epochs, then recovers
    (f,) = fired(synth(loss=climb), "CC102")
    assert f.evidence["rule"] == "climb" and f.evidence["climb_start"] == 12
    blip = loss.copy()
    blip[12:14] = 0.8  # two epochs: a spike, not a divergence
    assert not fired(synth(loss=blip), "CC102")
    assert not fired(synth(loss=climb), "CC102", climb_ratio=2.5)


def test_yolo_losses_lower_on_validation_are_not_suspicious():
    train = decaying(20, 2.0, 1.0)
    yolo = synth(**{"train/box_loss": train, "val/box_loss": 0.5 * train})
    keras = synth(loss=train, val_loss=0.5 * train)
    assert not fired(yolo, "CC302")
    assert fired(keras, "CC302")


def test_an_lr_that_only_rises_is_not_a_schedule_finding():
    n = 20
    loss = decaying(n)
    assert not fired(synth(loss=loss, lr=1e-5 * 1.5 ** np.arange(n)), "CC301")
    assert fired(synth(loss=loss, val_loss=loss + 0.1, lr=np.where(np.arange(n) < 10, 1e-3, 1e-4)), "CC301")


def test_no_validation_is_a_note_not_a_finding():
    report = curvecheck.analyze(synth(loss=decaying(20))).runs[0]
    assert not [f for f in report.findings if f.code == "CC401"]
    assert any(n.kind == "no_validation" for n in report.notes)


def test_sparse_evaluations_of_a_per_step_log_are_judged_from_five():
    """HF-style: a loss every 25 steps, 5 evaluations; eval_loss rises while the train loss falls and
    eval_wer improves: overfitting and a loss/metric disagreement."""
    steps = np.arange(25, 5001, 25)
    loss = 0.05 * np.exp(-steps / 800) + 0.0002 + 0.001 * RNG.random(steps.size)
    evals = np.arange(1000, 5001, 1000)
    run = synth("step", loss=(steps, loss), eval_loss=(evals, np.array([0.321, 0.359, 0.394, 0.412, 0.420])),
                eval_wer=(evals, np.array([0.789, 0.748, 0.743, 0.744, 0.745])))
    assert fired(run, "CC201")
    (f,) = fired(run, "CC204")
    assert f.series == ["eval_loss", "eval_wer"] and f.evidence["metric_best_epoch"] == 3000


def test_points_scattering_as_widely_as_their_level_have_no_spikes():
    """Single-batch losses logged as epochs (Lightning per-step rows): 0.01-0.25 around a level of ~0.08."""
    loss = np.r_[1.2, 0.08 + 0.06 * np.sin(np.arange(29) * 2.1) + 0.04 * np.random.default_rng(0).random(29)]
    loss[15] = 0.25  # 2.4x the median of its neighbours (0.105), but within 3 noise levels of them
    assert not fired(synth(loss=loss), "CC103")
    assert fired(synth(loss=loss), "CC103", min_noise=0.0)


def test_a_long_per_step_series_alone_is_judged_on_interval_medians():
    steps = np.arange(1, 2001)
    loss = 1.0 / np.sqrt(steps) + 0.05 * RNG.random(2000)
    loss[[300, 900, 1500]] = 3.0  # single bad batches, far beyond the minibatch noise
    run = synth("step", loss=(steps, loss))
    assert not fired(run, "CC103")
    from curvecheck.checks.base import RunContext

    c = RunContext(run).curve(run["loss"])
    assert c.per_step and c.n == 50


def test_a_metric_that_leaves_0_1_is_reported_once_and_never_recommended():
    """BrandtKaufmann's val_F1_score reaches 1.059: CC401 calls it a bug, so no other check judges it
    (no 'monitor val_F1_score' advice, no 'validation better than training' on it)."""
    fs = findings(CORPUS / "keras_csv/BrandtKaufmann-CatClassifier__training.log")
    assert any(f.code == "CC401" and f.series == ["val_F1_score"] for f in fs)
    others = [f for f in fs if f.code != "CC401"]
    assert not [f for f in others if "val_F1_score" in f.series or "F1_score" in f.series]
    assert not [f for f in others if "val_F1_score" in f.advice]


def test_plateau_advice_speaks_the_logs_framework():
    n = 40
    loss = np.r_[decaying(20, end=0.1), 0.1 + 0.001 * (-1.0) ** np.arange(n - 20)]
    lr = np.full(n, 1e-3)  # never reduced: the advice is to reduce it on plateaus
    keras = synth(loss=loss, lr=lr)
    (f,) = fired(keras, "CC202")
    assert "keras.callbacks.ReduceLROnPlateau" in f.advice
    keras.format = "tensorboard"
    (g,) = fired(keras, "CC202")
    assert "keras" not in g.advice and "reduce-on-plateau scheduler" in g.advice


def test_loss_metric_raw_bests_far_apart_on_a_flat_noisy_tail_are_no_disagreement():
    # both curves converge by epoch 10 and then only wobble; the metric's raw best is one lucky epoch (12) and
    # the loss's raw best falls at 35, far apart by chance: around those epochs the metric is the same
    n = 40
    rng = np.random.default_rng(3)
    train = decaying(n, end=0.01)
    val_loss = np.r_[decaying(10, end=0.3), 0.3 + 0.003 * rng.standard_normal(n - 10)]
    val_loss[35] = 0.29
    val_acc = np.r_[np.linspace(0.5, 0.8, 10), 0.8 + 0.004 * rng.standard_normal(n - 10)]
    val_acc[12] = 0.84
    assert not fired(synth(loss=train, val_loss=val_loss, val_accuracy=val_acc), "CC204")
    # the same lucky epoch with the metric really better around it is a disagreement
    val_acc[8:17] += 0.04
    (f,) = fired(synth(loss=train, val_loss=val_loss, val_accuracy=val_acc), "CC204")
    assert f.evidence["metric_best_epoch"] == 12 and f.evidence["loss_best_epoch"] == 35


def test_one_spike_in_a_short_noisy_run_is_not_oscillation():
    # a 3x spike gives a large zigzag to three points (itself and its neighbours): half of a 6-point stretch,
    # which carried the stretch's median; a stretch of 7 needs a fourth swinging point
    rng = np.random.default_rng(0)
    n = 30
    t = np.arange(n)
    val = (0.3 + 1.5 * np.exp(-t / 8)) * (1 + 0.05 * rng.standard_normal(n))
    val[15] = 3 * np.median(val[12:19])
    run = synth(loss=0.25 + 1.5 * np.exp(-t / 8), val_loss=val)
    assert fired(run, "CC103") and not fired(run, "CC203")
    assert fired(run, "CC203", min_stretch=6)  # the old stretch: the spike alone made it 'oscillation'


def test_divergence_right_after_the_first_evaluation():
    # a loss that explodes between its first and second evaluation (AlgoPerf conformer: 30 -> 1767) never
    # improved, so nothing was 'undone'; the running median blurs the first point into the jump
    loss = np.r_[30.0, 1767, 1761, 1741, 1725, 1833, 1790, 1810]
    (f,) = fired(synth(loss=loss), "CC102")
    assert f.evidence["best_epoch"] == 0 and f.evidence["rule"] == "ends_high"
    # a component loss rising from the start while the overall loss falls may be a trade-off (KL annealing)
    total = decaying(8, start=3000.0, end=60.0)
    assert not fired(synth(loss=total, x_pred_loss=loss), "CC102")


def test_plateau_message_names_the_threshold_that_bound():
    # the training loss falls 0.0016 -> 0.0005 over the stall, hundreds of noise sigmas: what makes it a stall is
    # that the fall is negligible next to the progress so far (0.9), so "not beyond noise" would be false
    (f,) = [f for f in by_code(SAMPLES / "fluctuating_validation.csv", "CC202") if f.series[0] == "loss"]
    assert f.evidence["threshold_basis"] == "progress" and "beyond noise" not in f.message
    assert f.evidence["threshold"] > 100 * f.evidence["noise_sigma"]


def test_a_noisy_metric_still_climbing_is_not_flat():
    # accuracy on a small validation set: +0.0045 per epoch under +-0.035 noise. Its running medians at mid-run
    # and at the end happen to agree within a sigma, but the regression slope over the second half is clear
    n = 40
    t = np.arange(n)
    rng = np.random.default_rng(5)
    val_loss = (0.35 + 1.5 * np.exp(-t / 15)) * (1 + 0.01 * rng.standard_normal(n))
    acc = np.round(0.5 + 0.0045 * t + 0.035 * rng.standard_normal(n), 2)
    run = synth(loss=0.3 + 1.5 * np.exp(-t / 15), val_loss=val_loss, val_accuracy=acc)
    assert not fired(run, "CC204")
    assert fired(run, "CC204", flat_max_t=1e9)  # without the trend test: 'loss falls, metric flat'


def test_undertrained_does_not_quote_a_level_beyond_the_data():
    # YOLOv8 val total loss 5.32 -> 4.71 over the last 8 epochs; a saturating fit heads for ~0.54, a gain
    # larger than the whole run made: the finding keeps the recent pace and quotes no level
    (f,) = by_code(CORPUS / "yolo_csv/Abonia1-YOLOv8-Fire-and-Smoke-Detection__results.csv", "CC206")
    ev = f.evidence
    assert ev.fit_beyond_data and ev.estimated_level is None and f.severity == "warning"
    assert ev.gain_per_epoch is not None and ev.gain_per_epoch > 0
    assert ev.recent_improvement < ev.total_improvement


def test_overfitting_in_a_ten_epoch_run():
    # val loss bottoms out at epoch 3 and ends 40% above it while training keeps falling. The steep first
    # epochs inflate the whole-run noise ~40x; a rise of 15%+ is judged against the noise after the onset.
    smooth = np.array([1.80, 0.70, 0.31, 0.168, 0.171, 0.178, 0.190, 0.205, 0.222, 0.238])
    val = smooth * (1 + 0.03 * np.array([0, 1, -1, 1, -1, 1, -1, 1, -1, 1]))  # +-3% evaluation noise
    train = np.array([1.78, 0.69, 0.29, 0.144, 0.088, 0.065, 0.052, 0.045, 0.037, 0.030])
    run = synth(loss=train, val_loss=val)
    (f,) = fired(run, "CC201")
    assert f.evidence.onset_epoch in (3, 4) and f.evidence.val_at_end > 1.15 * f.evidence.val_at_onset
    assert not fired(run, "CC201", clear_rel_rise=0.5)  # the setting moves the edge
    # the same run on a flat plateau with a noise dip: no rise beyond 15%, nothing
    flat = np.r_[val[:4], 0.173 * (1 + 0.05 * np.array([1, -1, 1, -1, 1, 0]))]
    assert not fired(synth(loss=train, val_loss=flat), "CC201")


def test_accuracy_that_climbed_to_a_high_share_is_not_called_the_majority_share():
    # a healthy converged run: accuracy climbs 0.42 -> 0.94 over six epochs and wobbles within 0.5% there,
    # the loss (0.39) above the binary entropy of 0.94: consistent with learning, not with predicting the prior
    n = 30
    t = np.arange(n)
    acc = 0.937 - 0.52 * np.exp(-t / 2.0) + 0.001 * np.sin(t)
    loss = 0.39 + 1.4 * np.exp(-t / 2.0) + 0.002 * np.cos(t)
    run = synth(loss=loss * 0.9, accuracy=acc + 0.01, val_loss=loss, val_accuracy=acc)
    assert not fired(run, "CC205")
    assert fired(run, "CC205", prior_within=20)  # got there "early enough" by this setting: named
    # at the share from the first epochs (a collapse onto the majority class): still found
    flat = np.r_[0.6, np.full(n - 1, 0.937) + 0.001 * np.sin(t[1:])]
    assert fired(synth(loss=loss * 0.9, accuracy=flat + 0.01, val_loss=loss, val_accuracy=flat), "CC205")
