"""TensorBoard layouts written by real writers: Keras, torch add_scalars, Lightning; which folders are runs."""

import shutil

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError
from curvecheck.readers.tensorboard import find_runs

from .conftest import CORPUS, WRITTEN


def test_add_scalars_sub_folders_pair_as_train_and_val():
    run = curvecheck.load(WRITTEN / "torch_add_scalars")
    assert set(run.series) == {"Loss_train", "Loss_val", "lr"}
    assert run["Loss_train"].split == "train" and run["Loss_val"].split == "val"
    assert run.partner("Loss_train").name == "Loss_val"
    assert run.x_axis == "step" and run["Loss_val"].x.tolist() == list(range(30))
    assert run["Loss_train"].values[0] == pytest.approx(2.1, rel=1e-6)


def test_lightning_layout_keeps_steps_and_records_the_epoch_of_each_step():
    run = curvecheck.load(WRITTEN / "lightning_tb" / "version_0")
    assert run.x_axis == "step"
    assert run["val_loss"].x.tolist() == [15, 31, 47, 63]  # 16 batches per epoch, logged at the global step
    epoch = run["epoch"]  # the step -> epoch map, kept as a bookkeeping series
    assert not epoch.is_signal
    assert dict(zip(epoch.x.tolist(), epoch.values.tolist()))[31] == 1
    assert sorted(set(epoch.values.tolist())) == [0, 1, 2, 3]
    assert any(n.kind == "epochs" and "epochs 0-3" in n.message for n in run.notes)
    assert run.partner("train_loss_epoch").name == "val_loss"


def test_lone_keras_validation_folder_is_validation_not_training():
    for path in (WRITTEN / "keras_tb" / "validation", next((WRITTEN / "keras_tb" / "validation").iterdir())):
        run = curvecheck.load(path)
        assert set(run.series) == {"val_loss", "val_accuracy"}, path
        assert all(s.split == "val" for s in run.series.values())
        assert run.x_axis == "epoch"


def test_step_based_log_keeps_x_as_step():
    run = curvecheck.load(WRITTEN / "torch_simple")
    assert run.x_axis == "step" and run["train/loss"].x.tolist() == list(range(40))


@pytest.fixture
def logdir(tmp_path):
    """A log directory as users have them: Keras logs/fit/<time>/, torch runs/<name>/, lightning_logs/."""
    root = tmp_path / "logs"
    shutil.copytree(WRITTEN / "keras_tb", root / "fit" / "20261201-010203")
    shutil.copytree(WRITTEN / "torch_add_scalars", root / "runs" / "Dec01_lr0.001")
    shutil.copytree(WRITTEN / "torch_simple", root / "runs" / "Dec01_lr0.1")
    shutil.copytree(WRITTEN / "lightning_tb", root / "lightning_logs")
    return root


def test_find_runs_lists_every_run_once_as_tensorboard_does(logdir):
    runs = [p.relative_to(logdir).as_posix() for p in find_runs(logdir)]
    assert runs == ["fit/20261201-010203", "lightning_logs/version_0", "lightning_logs/version_1",
                    "runs/Dec01_lr0.001", "runs/Dec01_lr0.1"]
    for path in find_runs(logdir):
        assert len(curvecheck.load(path).series) >= 3


def test_folder_with_several_runs_is_not_merged_into_one(logdir):
    with pytest.raises(InputError) as err:
        curvecheck.load(logdir / "lightning_logs")
    assert "2 TensorBoard runs" in str(err.value) and "version_0" in str(err.value)
    assert "\n" not in str(err.value)


def test_folder_with_one_run_below_reads_that_run(logdir):
    run = curvecheck.load(logdir / "fit")
    assert {"loss", "val_loss"} <= set(run.series)
    assert np.array_equal(run["val_loss"].values, curvecheck.load(WRITTEN / "keras_tb")["val_loss"].values)


def test_many_runs_discovery_keeps_add_scalars_folders_in_their_run(logdir):
    from curvecheck.readers.discovery import expand

    found = [p.relative_to(logdir).as_posix() for p, why in expand([logdir]) if why is None]
    assert found == [p.relative_to(logdir).as_posix() for p in find_runs(logdir)]


def test_a_keras_validation_file_outside_its_folder_is_read_as_validation():
    # a Keras TensorBoard validation event file copied out of validation/ (as the corpus stores it):
    # epoch_* and evaluation_*_vs_iterations tags; read per epoch as val_*, not mixed with the per-iteration tags
    run = curvecheck.load(CORPUS / "tensorboard" / ("IsomorphicAlgo-Histopathologic-Cancer-Detection-Deep-Mo__"
                                                    "events.out.tfevents.1780015986.BALGARATH.38868.4.v2"))
    assert run.x_axis == "epoch" and run.framework == "keras"
    assert {"val_loss", "val_accuracy"} <= set(run.series) and not any("vs_iterations" in n for n in run.series)
    assert any(n.kind == "keras_split" for n in run.notes)
    assert run["val_loss"].x.tolist() == list(range(15))


def test_ultralytics_tensorboard_gets_the_fitness_monitor_like_its_results_csv():
    from curvecheck.api import recommend_stop

    tb = curvecheck.load(next((CORPUS / "tensorboard").glob("Grafit-Kil-helmet-detection-yolov5__events*")))
    csv_run = curvecheck.load(CORPUS / "yolo_csv/Grafit-Kil-helmet-detection-yolov5__results.csv")
    assert tb.framework == "ultralytics" and "fitness" in tb.series
    assert recommend_stop(tb).epoch == recommend_stop(csv_run).epoch == 144
