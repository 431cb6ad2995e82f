"""Ultralytics keeps best.pt by its fitness score: curvecheck recommends the same epoch (real results.csv files)."""

import csv

import numpy as np
import pytest

import curvecheck
from curvecheck.api import recommend_stop

from .conftest import CORPUS

YOLO = CORPUS / "yolo_csv"


def _columns(path):
    """The file's columns as floats, read with the csv module (headers are space-padded in some versions)."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    return {h: np.array([float(r[i]) for r in rows[1:]]) for i, h in enumerate(header)}


@pytest.mark.parametrize("name, weights", [
    ("01-Zhangsaisai-Wheat-Weed-Detection-YOLOv8__results.csv",  # YOLOv8 detection
     {"metrics/mAP50(B)": 0.1, "metrics/mAP50-95(B)": 0.9}),
    ("483172-yolov5-custom_lego_dataset-2022-06-15__results.csv",  # YOLOv5 column names
     {"metrics/mAP_0.5": 0.1, "metrics/mAP_0.5:0.95": 0.9}),
    ("Kerollosl-dental-segmentation__results.csv",  # segmentation: boxes + masks
     {"metrics/mAP50(B)": 0.1, "metrics/mAP50-95(B)": 0.9, "metrics/mAP50(M)": 0.1, "metrics/mAP50-95(M)": 0.9}),
    ("JavaKhangNguyen-ACNE11-Classification__results.csv",  # classification: mean of top-1 and top-5
     {"metrics/accuracy_top1": 0.5, "metrics/accuracy_top5": 0.5}),
])
def test_fitness_is_ultralytics_score_and_the_monitor(name, weights):
    cols = _columns(YOLO / name)
    expected = sum(w * cols[c] for c, w in weights.items())
    run = curvecheck.load(YOLO / name)
    fitness = run["fitness"]
    assert fitness.direction == "max" and fitness.split == "val"
    assert np.allclose(fitness.values, expected, rtol=0, atol=1e-12)
    assert np.array_equal(fitness.x, cols["epoch"])
    assert any(n.kind == "derived_fitness" for n in run.notes)
    rec = recommend_stop(run)
    assert rec.monitor == ["fitness"]
    assert rec.epoch == cols["epoch"][int(np.argmax(expected))]  # best.pt's epoch (first of ties, as Ultralytics)


def test_detection_recommendation_differs_from_the_validation_loss():
    # on this run val/box_loss is best at epoch 3 while fitness (what best.pt holds) is best at epoch 2
    rec = recommend_stop(curvecheck.load(YOLO / "01-Zhangsaisai-Wheat-Weed-Detection-YOLOv8__results.csv"))
    assert rec.epoch == 2 and rec.monitor == ["fitness"]


def test_explicit_monitor_still_wins():
    rec = recommend_stop(curvecheck.load(YOLO / "01-Zhangsaisai-Wheat-Weed-Detection-YOLOv8__results.csv"),
                         ["val/box_loss"])
    assert rec.monitor == ["val/box_loss"] and rec.epoch == 3


def test_no_fitness_without_its_columns(tmp_path):
    cols = _columns(YOLO / "01-Zhangsaisai-Wheat-Weed-Detection-YOLOv8__results.csv")
    keep = ["epoch", "train/box_loss", "val/box_loss", "metrics/mAP50(B)"]  # mAP50-95 missing
    path = tmp_path / "results.csv"
    path.write_text(",".join(keep) + "\n" + "\n".join(",".join(str(float(cols[k][i])) for k in keep)
                                                       for i in range(len(cols["epoch"]))) + "\n")
    run = curvecheck.load(path)
    assert "fitness" not in run.series and recommend_stop(run).monitor == ["val/box_loss"]
