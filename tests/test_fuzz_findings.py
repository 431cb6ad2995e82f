"""What the reader fuzz suite (tests/test_fuzz_readers.py) found, each reproduced as a test before the fix."""

import curvecheck

from .conftest import WRITTEN

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
