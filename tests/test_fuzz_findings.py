"""What the reader fuzz suite (tests/test_fuzz_readers.py) found, each reproduced as a test before the fix."""

import subprocess
import sys

import pytest

import curvecheck

from .conftest import CORPUS, WRITTEN

KERAS = WRITTEN / "lr_runs/keras/healthy_improving.csv"


def test_a_last_row_cut_right_after_a_delimiter_is_dropped_not_read_as_a_gap(tmp_path):
    """Cut after the comma of the last cell: 'epoch,...,0.675,' has every cell, the last one empty."""
    lines = KERAS.read_bytes().splitlines(keepends=True)[:4]
    cut = tmp_path / "training.log"
    cut.write_bytes(b"".join(lines[:3]) + lines[3][: lines[3].rindex(b",") + 1])
    run = curvecheck.load(cut)
    assert run.num_points == 2 and len(run["val_loss"]) == 2
    assert any(n.kind == "partial_row" for n in run.notes)


def test_a_last_number_cut_mid_write_is_dropped_not_read_as_a_shorter_number(tmp_path):
    """'...,2.0627431869506836' cut to '...,2.06': full width and a number, but the line has no end."""
    lines = KERAS.read_bytes().splitlines(keepends=True)[:4]
    cut = tmp_path / "training.log"
    cut.write_bytes(b"".join(lines[:3]) + lines[3].rstrip()[:-6])
    full = curvecheck.load(KERAS)
    run = curvecheck.load(cut)
    assert run["val_loss"].values.tolist() == full["val_loss"].values[:2].tolist()
    assert any(n.kind == "partial_row" for n in run.notes)


def test_a_long_format_row_cut_in_its_step_cell_is_dropped(tmp_path):
    """MLflow's key,value,timestamp,step: 'val_loss,0.5,1796086000012,12' cut to '...,1' is not step 1."""
    path = tmp_path / "mlflow_metrics.csv"
    rows = "".join(f"loss,{1 - s / 20},{1796086000000 + s},{s}\n" for s in range(10, 13))
    path.write_text("key,value,timestamp,step\n" + rows + "loss,0.3,1796086000013,1")
    run = curvecheck.load(path)
    assert run["loss"].x.tolist() == [10, 11, 12]
    assert any(n.kind == "partial_row" for n in run.notes)


def test_a_cut_line_of_delimiters_only_does_not_drop_the_complete_row_before_it(tmp_path):
    """A Lightning metrics.csv cut after the first ',' of a new row: the row before it is complete."""
    lines = (WRITTEN / "lr_runs/torch/healthy_improving/metrics.csv").read_bytes().splitlines(keepends=True)[:7]
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"".join(lines) + b",")
    run = curvecheck.load(path)
    assert len(run["train_loss"]) == 2 and not any(n.kind == "partial_row" for n in run.notes)


FRIDAY = CORPUS / "generic_csv/Friday-1202-U-net__training_history.csv"


@pytest.mark.parametrize("x", ["-1e999", "1e308", "nan"])
def test_an_index_cell_that_is_not_a_count_is_not_used_as_the_x_axis(tmp_path, x):
    """A pandas dump whose index holds -inf or 1e308 once made the gap check overflow (internal error)."""
    path = tmp_path / "training_history.csv"
    path.write_bytes(FRIDAY.read_bytes().replace(b"\n3,", f"\n{x},".encode(), 1))
    run = curvecheck.load(path)
    assert run["train_loss"].x.tolist() == list(range(12))
    assert any(n.kind == "epochs_from_rows" for n in run.notes)
    curvecheck.analyze(run)


@pytest.mark.parametrize("x", ["-1e999", "1e308", "1e300"])
def test_an_epoch_that_is_not_a_count_leaves_its_row_out_with_a_note(tmp_path, x):
    path = tmp_path / "training.log"
    path.write_bytes(KERAS.read_bytes().replace(b"\n2,", f"\n{x},".encode(), 1))
    run = curvecheck.load(path)
    assert 2 not in run["loss"].x.tolist() and len(run["loss"]) == len(curvecheck.load(KERAS)["loss"]) - 1
    assert any(n.kind == "rows_without_x" for n in run.notes)
    curvecheck.analyze(run)


def test_two_columns_of_one_name_are_both_read_the_second_under_its_position(tmp_path):
    """'epoch,loss,val_loss,loss': the second 'loss' column silently replaced the first."""
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss,loss\n" + "".join(f"{e},{1 - e / 10},{2 - e / 10},{3 - e / 10}\n"
                                                           for e in range(4)))
    run = curvecheck.load(path)
    assert run["loss"].values.tolist() == [1 - e / 10 for e in range(4)]
    assert run["loss (column 4)"].values.tolist() == [3 - e / 10 for e in range(4)]
    assert any(n.kind == "duplicate_columns" for n in run.notes)


def test_a_long_format_metric_logged_twice_at_one_step_keeps_the_last_value_with_a_note(tmp_path):
    """MLflow history with 'loss' logged twice per step: the two were read as one zigzag curve."""
    path = tmp_path / "mlflow_metrics.csv"
    path.write_text("key,value,timestamp,step\n" + "".join(f"loss,{1 - s / 10},0,{s}\nloss,{2 - s / 10},0,{s}\n"
                                                           for s in range(5)))
    run = curvecheck.load(path)
    assert run["loss"].x.tolist() == [0, 1, 2, 3, 4]
    assert run["loss"].values.tolist() == [2 - s / 10 for s in range(5)]
    assert any(n.kind == "repeated_steps" for n in run.notes)


def test_a_newline_inside_a_quoted_header_name_does_not_change_the_format(tmp_path):
    """A Lightning metrics.csv whose first column name holds a quoted newline was sniffed from its first
    line only ('epoch,"loss'), taken for a Keras CSV, and its step column read as a metric."""
    src = (WRITTEN / "lr_runs/torch/healthy_improving/metrics.csv").read_bytes()
    path = tmp_path / "metrics.csv"
    path.write_bytes(src.replace(b"lr-Adam", b'"lr\nAdam"', 1))
    run = curvecheck.load(path)
    assert run.format == "lightning_csv" and "step" not in run.series and "lr\nAdam" in run.series


def test_a_denormal_accuracy_and_values_near_float_max_are_reported_not_crashed(tmp_path):
    # found by the output fuzz: acc 0,0,1,1,5e-324 made 1/level overflow in the never-learned check;
    # many values near +-1.7e308 made the sparkline's bucket sums overflow
    from curvecheck.render.terminal import sparkline

    log = tmp_path / "den.csv"
    log.write_text("epoch,loss,acc\n0,1,0\n1,0.9,0\n2,0.8,1\n3,0.7,1\n4,0.6,5e-324\n")
    res = subprocess.run([sys.executable, "-m", "curvecheck", "analyze", str(log)], capture_output=True, text=True)
    assert res.returncode in (0, 1) and "Traceback" not in res.stderr and "error" not in res.stderr.lower()
    assert sparkline([1.7e308] * 5 + [-1.7e308] * 5, 4) == "██▁▁"
