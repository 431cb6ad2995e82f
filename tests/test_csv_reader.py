"""Keras CSVLogger and other per-epoch CSV histories, on files written by Keras and found in the wild."""

import math
import subprocess
import sys

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError

from .conftest import CORPUS, WRITTEN


def test_keras_csvlogger_segmentation_log():
    run = curvecheck.load(CORPUS / "keras_csv/4hmetcakmak-BraTS2020CapstoneProject__training.log")
    assert run.format == "keras_csv" and run.x_axis == "epoch" and run.epoch_base == 0
    assert run.num_points == 24
    assert run["val_mean_io_u_5"].kind == "iou" and run["val_dice_coef"].kind == "dice"
    assert run.lr_series().name == "lr"
    assert run.partner("mean_io_u_5").name == "val_mean_io_u_5"
    # best val_loss is epoch 13 in the file (0-based, as CSVLogger writes it)
    vl = run["val_loss"]
    assert vl.x[np.argmin(vl.values)] == 13
    assert vl.values[0] == pytest.approx(0.05463637784123421, rel=0, abs=0)


def test_append_true_restart_and_resume_become_segments():
    """CSVLogger(append=True): fit 6 epochs, fit 4 from scratch, then resume at initial_epoch=3."""
    path = WRITTEN / "keras_append.csv"
    run = curvecheck.load(path)
    assert len(run.segments) == 3
    assert [(s.x_start, s.x_end) for s in run.segments] == [(0, 5), (0, 3), (3, 7)]
    # default: the last run, joined to epochs 0-2 of the run it resumed from
    assert run["loss"].x.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    loss_col = path.read_text().splitlines()[0].split(",").index("loss")
    expected = [float(r[loss_col]) for r in rows[6:9]] + [float(r[loss_col]) for r in rows[10:]]
    assert run["loss"].values.tolist() == expected
    note = next(n for n in run.notes if n.kind == "segments")
    assert "3 appended runs" in note.message and "--segment" in note.message

    first = curvecheck.load(path, segment=1)
    assert first["loss"].x.tolist() == [0, 1, 2, 3, 4, 5]
    assert first.selected_segment == 1
    with pytest.raises(InputError, match="--segment 4 does not exist"):
        curvecheck.load(path, segment=4)


def test_appended_runs_in_the_wild():
    run = curvecheck.load(CORPUS / "keras_csv/AhmedImtiazPrio-irfanet-10__training_logs221017.log")
    assert [s.points for s in run.segments] == [133, 4, 5, 9]
    assert run["val_loss"].x.tolist() == list(range(9))
    run1 = curvecheck.load(CORPUS / "keras_csv/AhmedImtiazPrio-irfanet-10__training_logs221017.log", segment=1)
    assert run1.num_points == 133


def test_duplicate_epoch_zero_is_a_restart():
    run = curvecheck.load(CORPUS / "keras_csv/dhairyasheelsutar-Food-11-image-classification__inceptionV3_training.csv")
    assert len(run.segments) == 2
    assert run["val_loss"].x.tolist() == list(range(9))


def test_nan_and_inf_are_kept():
    run = curvecheck.load(WRITTEN / "keras_nan.csv")
    loss = run["loss"]
    assert loss.x[~loss.finite].tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert math.isfinite(loss.values[0])


def test_no_epoch_column_numbers_rows_from_zero():
    run = curvecheck.load(CORPUS / "keras_csv/Arifoo00-Pneumonia-Detection-Using-EfficientNetB0__training_history.csv")
    assert run["val_auc"].x.tolist() == list(range(10))
    assert any(n.kind == "epochs_from_rows" for n in run.notes)
    assert run.lr_series().name == "learning_rate"


def test_pandas_index_column_is_the_epoch():
    run = curvecheck.load(CORPUS / "generic_csv/Friday-1202-U-net__training_history.csv")
    assert set(run.series) == {"train_loss", "val_dice_no_bg", "lr"}
    assert run["val_dice_no_bg"].kind == "dice"
    assert run["val_dice_no_bg"].x.tolist() == list(range(12))


def test_crlf_and_float32_learning_rate():
    path = CORPUS / "keras_csv/AbijithT-Lung-Cancer-Detection__training_log.csv"
    assert b"\r\n" in path.read_bytes()
    run = curvecheck.load(path)
    assert run["learning_rate"].values[0] == 9.999999747378752e-05


def test_semicolon_separated_copy_reads_the_same(tmp_path):
    src = CORPUS / "keras_csv/Mostafa-Tarek-00-Flood-Area-Segmentation-by-U-Net__log.csv"
    alt = tmp_path / "log_semicolon.csv"
    alt.write_text(src.read_text().replace(",", ";"))
    a, b = curvecheck.load(src), curvecheck.load(alt)
    assert set(a.series) == set(b.series)
    assert np.array_equal(a["val_iou"].values, b["val_iou"].values)


def test_train_metric_nan_every_row_is_kept():
    run = curvecheck.load(CORPUS / "keras_csv/DexterGomez-ftc-unet__training_history.csv")
    assert not run["dice_coefficient_t"].finite.any()
    assert run["val_dice_coefficient_t"].finite.all()


def test_ultralytics_results_csv_padded_header():
    run = curvecheck.load(CORPUS / "yolo_csv/01-Zhangsaisai-Wheat-Weed-Detection-YOLOv8__results.csv")
    assert run.format == "ultralytics_csv"
    assert run["metrics/mAP50-95(B)"].kind == "map"
    assert run.partner("train/box_loss").name == "val/box_loss"


def test_partial_last_row_is_dropped_with_a_note_not_read_as_data(tmp_path):
    src = (WRITTEN / "keras_nan.csv").read_text()
    full = curvecheck.load(WRITTEN / "keras_nan.csv")
    cut = tmp_path / "cut.csv"
    cut.write_text(src[: src.rindex(",")])  # the run was killed while writing the last row
    run = curvecheck.load(cut)
    assert any(n.kind == "partial_row" for n in run.notes)
    assert run["loss"].x.tolist() == full["loss"].x.tolist()[:-1]
    assert np.array_equal(run["loss"].values, full["loss"].values[:-1], equal_nan=True)


def test_user_log_is_never_modified():
    path = CORPUS / "keras_csv/AhmedImtiazPrio-irfanet-10__training_logs221017.log"
    before = (path.read_bytes(), sorted(p.name for p in path.parent.iterdir()))
    curvecheck.analyze(path)
    assert (path.read_bytes(), sorted(p.name for p in path.parent.iterdir())) == before


def test_never_logged_columns_are_dropped_but_logged_nan_is_kept(tmp_path):
    """CSVLogger writes NA for keys missing at an epoch (e.g. val_* when validation did not run)."""
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\r\n0,0.9,NA\r\n1,nan,NA\r\n2,0.5,NA\r\n")
    run = curvecheck.load(path)
    assert set(run.series) == {"loss"} and np.isnan(run["loss"].values[1])
    assert any(n.kind == "empty_columns" and "val_loss" in n.message for n in run.notes)


def test_rows_of_text_are_not_called_an_empty_file(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\nnp.float64(1.0),np.float64(0.5)\nnp.float64(2.0),np.float64(0.4)\n")
    res = subprocess.run([sys.executable, "-m", "curvecheck", "analyze", str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert str(path) in res.stderr and "no numeric rows" in res.stderr and "empty" not in res.stderr
