"""Figures of many runs: read off the Figure object (legend placement, grid shape, axis scales,
colours), not off pixels."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_hex

import curvecheck

from .conftest import CORPUS, WRITTEN

KERAS = WRITTEN / "lr_runs/keras"
SWEEP_LRS = [0.0001, 0.01, 0.03, 0.3, 1, 3]


def _legend(fig, title):
    return next(lg for lg in fig.legends if lg.get_title().get_text() == title)


def _shown_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def _panel(fig, title):
    return next(ax for ax in _shown_axes(fig) if ax.get_title(loc="left").endswith(title))


@pytest.fixture(scope="module")
def keras_many(tmp_path_factory):
    """13 real Keras CSVLogger runs in one folder (no common LR): the overlay a user gets from `plot DIR`."""
    folder = tmp_path_factory.mktemp("many")
    for log in sorted(KERAS.glob("*.csv")):
        shutil.copy(log, folder / log.name)
    return folder


def test_sweep_overlay_legend_is_outside_the_axes_and_in_lr_order():
    # given in a shuffled order: the legend and the colours follow the LR, not the argument order
    logs = [KERAS / "lr_sweep" / f"lr_{lr:g}.csv" for lr in (1, 0.0001, 3, 0.03, 0.3, 0.01)]
    fig = curvecheck.plot(logs)
    fig.canvas.draw()
    legend = _legend(fig, "runs, by learning rate")
    box = legend.get_window_extent()
    for ax in _shown_axes(fig):
        assert ax.get_legend() is None  # no per-panel legend sits on the curves
        assert box.x0 >= ax.get_window_extent().x1
    assert box.x1 <= fig.bbox.x1  # and it is not cut off
    entries = [t.get_text() for t in legend.get_texts()]
    assert entries[:6] == [f"lr_{lr:g}.csv" for lr in SWEEP_LRS]
    # a sequential colormap, dark (low LR) to light (high LR)
    viridis = colormaps["viridis"]
    expected = [to_hex(viridis(0.88 * i / 5)) for i in range(6)]
    assert [to_hex(h.get_color()) for h in legend.legend_handles[:6]] == expected
    loss = _panel(fig, "loss")
    by_colour = {to_hex(line.get_color()) for line in loss.get_lines() if line.get_linewidth() == 2.0}
    assert set(expected) <= by_colour  # the curves carry the legend's colours


def test_runs_without_an_lr_get_distinct_qualitative_colours(keras_many):
    fig = curvecheck.plot(keras_many)
    legend = _legend(fig, "runs")
    names = [t.get_text() for t in legend.get_texts()][:13]
    assert names[0] == "crawl.csv" and "segmentation_iou0.csv" in names  # the readers' run names
    colours = [to_hex(h.get_color()) for h in legend.legend_handles[:13]]
    assert len(set(colours)) == 13


def test_grid_wraps_into_about_sqrt_n_columns(keras_many):
    fig = curvecheck.plot(KERAS / "lr_sweep", grid=True)  # 6 runs x (loss, accuracy)
    gs = fig.axes[0].get_gridspec()
    assert (gs.nrows, gs.ncols) == (4, 3)
    assert len(_shown_axes(fig)) == 12
    # the 4th run starts the second row of runs: its loss panel is below the first run's accuracy panel
    spec = _panel(fig, "lr_0.3.csv: loss").get_subplotspec()
    assert (spec.rowspan.start, spec.colspan.start) == (2, 0)
    # 13 runs of 2 panels each, 4 kinds between them (loss, accuracy, mae, iou): 4 columns of runs, and a
    # run's block holds only its own 2 panels (no empty rows for the kinds other runs log)
    fig = curvecheck.plot(keras_many, grid=True)
    gs = fig.axes[0].get_gridspec()
    assert (gs.nrows, gs.ncols) == (2 * 4, 4)
    assert len(_shown_axes(fig)) == 26


def test_bounded_metric_is_never_on_a_log_axis(tmp_path):
    # threshold edge: a Keras IoU that is 1e-9 until learning starts spans 9 decades, yet it is 0
    epochs = np.arange(30)
    iou = np.where(epochs < 8, 1e-9, np.minimum(0.8, 0.05 * (epochs - 7)))
    loss = 2.0 * np.exp(-0.3 * epochs) + 1e-4
    log = tmp_path / "unet.csv"
    log.write_text("epoch,iou,loss,val_iou,val_loss\n" + "".join(
        f"{e},{float(i)!r},{float(v)!r},{float(i)!r},{float(v) * 1.1!r}\n" for e, i, v in zip(epochs, iou, loss)))
    fig = curvecheck.plot(log)
    assert _panel(fig, "iou").get_yscale() == "linear"
    assert _panel(fig, "loss").get_yscale() == "log"  # a loss over decades still is
    # --log-y asks for log axes: the real polyp IoU and Dice stay linear, the loss follows the flag
    fig = curvecheck.plot(CORPUS / "keras_csv/rajkumar1447-polyp-segmentation__log.csv", log_y=True)
    assert _panel(fig, "iou").get_yscale() == "linear" and _panel(fig, "dice_coef").get_yscale() == "linear"
    assert _panel(fig, "loss").get_yscale() == "log"


def test_plot_of_a_folder_of_runs(tmp_path):
    out = tmp_path / "torch_sweep.svg"
    res = subprocess.run([sys.executable, "-m", "curvecheck", "plot", WRITTEN / "lr_runs/torch/lr_sweep", "-o", out],
                         check=False, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert res.returncode == 1, res.stderr  # a run of the sweep has an error finding
    texts = set(re.findall(r">([^<>]+)</text>", out.read_text()))
    assert {f"lr_{lr:g}/metrics.csv" for lr in SWEEP_LRS} | {"runs, by learning rate"} <= texts
