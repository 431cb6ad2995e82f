"""Figures: the content a user checks (panels, labels, annotations), file handling, sizes."""

import re
import subprocess
import sys

import matplotlib.image
import numpy as np

import curvecheck
from curvecheck.render.plot import decimate

from .conftest import CORPUS, SAMPLES


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"})


def svg_text(path):
    return set(re.findall(r">([^<>]+)</text>", path.read_text()))


def test_svg_has_the_panels_labels_and_annotations(tmp_path):
    out = tmp_path / "seg.svg"
    res = cli("plot", SAMPLES / "segmentation_unet.csv", "-o", out)
    assert res.returncode == 0, res.stderr
    texts = " | ".join(svg_text(out))
    for expected in ("loss", "dice_coef", "iou", "val_loss", "val_dice_coef", "keep epoch 11",
                     "recommended epoch", "overfitting", "plateau", "smoothed (EMA 0.6)"):
        assert expected in texts, expected
    assert "77" in svg_text(out)  # the best epoch of val_dice_coef is labelled


def test_spikes_are_marked(tmp_path):
    out = tmp_path / "spike.svg"
    res = cli("plot", CORPUS / "keras_csv/Aditya24jar-Emotion-Detection-Resnet50__training.log", "-o", out)
    assert res.returncode == 0, res.stderr
    assert "spike" in " | ".join(svg_text(out))


def test_png_decodes_with_the_requested_size(tmp_path):
    out = tmp_path / "run.png"
    assert cli("plot", SAMPLES / "reduce_lr_on_plateau.csv", "-o", out, "--size", "10x6", "--dpi", "50").returncode == 0
    img = matplotlib.image.imread(out)
    assert img.shape[:2] == (300, 500)


def test_sweep_overlay_is_labelled_by_lr_and_grid_makes_small_multiples(tmp_path):
    logs = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    overlay = tmp_path / "sweep.svg"
    assert cli("plot", *logs, "-o", overlay).returncode == 1  # lr=2.5 diverged: an error finding (--fail-on error)
    texts = svg_text(overlay)
    assert {"runs, by learning rate", "lr_0.0001.csv", "lr_0.05.csv", "lr_2.5.csv", "train (dashed)"} <= texts
    # the winner is named as in the run legend
    assert any(t.startswith("curvecheck: 3 runs; best: lr_0.05.csv (smoothed val_accuracy") for t in texts)
    grid = tmp_path / "grid.svg"
    assert cli("plot", *logs, "--grid", "--metrics", "loss", "-o", grid).returncode == 1
    assert {"lr_0.0001.csv: loss", "lr_0.05.csv: loss", "lr_2.5.csv: loss"} <= svg_text(grid)


def test_step_axis_and_metric_selection(tmp_path):
    out = tmp_path / "yolo.svg"
    tb = CORPUS / "tensorboard/Abonia1-YOLOv8-Fire-and-Smoke-Detection__events.out.tfevents.1675348815.43529bab29be.37247.0"
    assert cli("plot", tb, "--metrics", "map", "-o", out).returncode == 0
    texts = svg_text(out)
    assert "step" in texts and "mAP50-95(B)" in texts and "box_loss" not in texts


def test_nan_epochs_are_marked(tmp_path):
    out = tmp_path / "nan.svg"
    assert cli("plot", SAMPLES / "nan_divergence.csv", "-o", out).returncode == 1  # NaN: an error finding, exit 1 after drawing
    assert "NaN / inf" in svg_text(out)


def test_default_name_in_the_current_directory_and_only_figures_replaced(tmp_path):
    res = cli("plot", SAMPLES / "overfitting_mlp.csv", cwd=tmp_path)
    figure = tmp_path / "overfitting_mlp_curvecheck.png"
    assert res.returncode == 0 and figure.exists()
    figure.write_bytes(b"\x89PNG\r\n\x1a\n old")  # a re-run replaces its own figure, as analyze --plot does
    assert cli("plot", SAMPLES / "overfitting_mlp.csv", cwd=tmp_path).returncode == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and len(figure.read_bytes()) > 1000
    notes = tmp_path / "notes.png"  # a file named like a figure that is not one needs --force
    notes.write_text("mine")
    again = cli("plot", SAMPLES / "overfitting_mlp.csv", "-o", notes, cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert notes.read_text() == "mine"


def test_never_writes_onto_a_log(tmp_path):
    log = tmp_path / "history.png"  # a (strangely named) log the user passes
    log.write_bytes((SAMPLES / "overfitting_mlp.csv").read_bytes())
    before = log.read_bytes()
    res = cli("plot", log, "-o", log, "--force")
    assert res.returncode == 2 and "refusing to overwrite a log" in res.stderr and log.read_bytes() == before
    assert cli("plot", SAMPLES / "overfitting_mlp.csv", "-o", tmp_path / "x.gif").returncode == 2


def test_analyze_writes_the_same_figure(tmp_path):
    out = tmp_path / "a.svg"
    res = cli("analyze", SAMPLES / "segmentation_unet.csv", "--plot", out)
    assert res.returncode == 0 and "keep epoch 11" in " ".join(svg_text(out))


def test_decimation_keeps_spikes_and_bounds_the_points():
    run = curvecheck.load(SAMPLES / "segmentation_unet.csv")
    x = np.arange(100_000, dtype=float)
    y = np.interp(x, run["val_loss"].x * 1250, run["val_loss"].values)  # a real curve, stretched
    y[54_321] = 50.0
    dx, dy = decimate(x, y)
    assert dx.shape[0] <= 4000 and 54_321 in dx and dy.max() == 50.0


def test_never_learned_run_gets_no_best_star_and_log_axes_smooth_log_values():
    from curvecheck.marks import build_marks
    from curvecheck.render.plot import _smoothed

    dead = curvecheck.analyze(SAMPLES / "lr_sweep/lr_2.5.csv").runs[0]
    assert dead.recommendation.usable is False and build_marks(dead).best == {}
    assert build_marks(curvecheck.analyze(SAMPLES / "lr_sweep/lr_0.05.csv").runs[0]).best
    # val_loss falls from 1e5 to 232 (epoch 10): drawn on a log axis, its EMA stays near the raw curve there
    val = curvecheck.load(SAMPLES / "nan_divergence.csv")["val_loss"]
    assert 232 < _smoothed(val.values, 0.6, log=True)[10] < 2 * 232 < 10 * 232 < _smoothed(val.values, 0.6, log=False)[10]
