"""TensorBoard event files: our reader against TensorBoard's own loader, on real writers' files."""

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.util import tensor_util

import curvecheck
from curvecheck.errors import InputError
from curvecheck.readers.tensorboard import read_event_file

from .conftest import CORPUS, WRITTEN

EVENT_FILES = sorted(p for p in WRITTEN.rglob("*tfevents*") if p.is_file()) + sorted((CORPUS / "tensorboard").iterdir())


def tensorboard_reference(path):
    """Every scalar TensorBoard's EventAccumulator sees, with sampling switched off."""
    acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0},
                              purge_orphaned_data=False)
    acc.Reload()
    ref = {t: ([e.step for e in acc.Scalars(t)], [e.value for e in acc.Scalars(t)])
           for t in acc.Tags()["scalars"]}
    for t in acc.Tags()["tensors"]:
        arrays = [tensor_util.make_ndarray(e.tensor_proto) for e in acc.Tensors(t)]
        if all(a.size == 1 and a.dtype.kind == "f" for a in arrays):
            ref[t] = ([e.step for e in acc.Tensors(t)], [float(a.reshape(())) for a in arrays])
    return ref


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name[:50])
def test_same_tags_steps_and_values_as_tensorboard(path):
    ours, _ = read_event_file(path)
    ref = tensorboard_reference(path)
    assert set(ours) == set(ref)
    for tag, (steps, values) in ref.items():
        assert ours[tag][0].tolist() == steps, tag
        np.testing.assert_array_equal(ours[tag][1], np.array(values, dtype=np.float64), err_msg=tag)


def test_three_scalar_encodings(tmp_path):
    """simple_value (torch add_scalar), float_val (new_style), double_val, tensor_content (Keras)."""
    simple, _ = read_event_file(next((WRITTEN / "torch_simple").iterdir()))
    new_style, _ = read_event_file(next((WRITTEN / "torch_new_style").iterdir()))
    keras = curvecheck.load(WRITTEN / "keras_tb")
    assert simple["train/loss"][1][0] == pytest.approx(2.05, rel=1e-6)
    assert new_style["loss"][1][:3].tolist() == pytest.approx([1.0, 0.25, 1 / 7], rel=1e-6)
    assert new_style["acc"][1][1] == 1 - 1.0 / 5  # double_val keeps double precision
    assert keras["val_loss"].values.shape == (12,)


def test_nan_and_inf_points_kept_and_non_scalars_skipped():
    data, _ = read_event_file(next((WRITTEN / "torch_simple").iterdir()))
    assert set(data) == {"train/loss", "val/loss", "val/iou"}  # histograms and images skipped
    steps, values, walls = data["val/loss"]
    assert np.isnan(values[steps == 17]).all() and np.isinf(data["val/iou"][1][33])
    assert np.isfinite(walls).all()


def test_keras_layout_is_one_run_with_train_and_val():
    run = curvecheck.load(WRITTEN / "keras_tb")
    assert run.x_axis == "epoch"
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"} <= set(run.series)
    assert run["val_loss"].split == "val" and run.partner("loss").name == "val_loss"
    assert run["loss"].x.tolist() == list(range(12))


def test_truncated_file_is_read_up_to_the_damage():
    run = curvecheck.load(WRITTEN / "truncated.tfevents")
    full, _ = read_event_file(next((WRITTEN / "torch_simple").iterdir()))
    assert len(run["val/iou"]) == len(full["val/iou"][0]) - 1
    assert any(n.kind == "truncated" and "cut off" in n.message for n in run.notes)


def test_restart_is_a_segment_and_resume_is_stitched():
    run = curvecheck.load(WRITTEN / "torch_restart")
    assert len(run.segments) == 2
    loss = run["loss"]
    assert loss.x.tolist() == list(range(40))
    assert loss.values[19] == pytest.approx(1 / 20) and loss.values[20] == pytest.approx(0.9 / 21)
    assert curvecheck.load(WRITTEN / "torch_restart", segment=1)["loss"].x.tolist() == list(range(30))


def test_fast_path_equals_record_by_record_decoding(tmp_path):
    """Write a long run with tensorboardX (several tags, steps crossing varint widths, NaN, new_style)."""
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(tmp_path))
    rng = np.random.default_rng(0)
    for step in range(0, 20000, 7):
        w.add_scalar("train/loss", float(rng.random()), step)
        w.add_scalar("val/acc", float("nan") if step % 700 == 0 else float(rng.random()), step)
        if step % 3 == 0:
            w.add_scalar("lr", 1e-3 / (1 + step), step)
    w.close()
    path = next(tmp_path.glob("*tfevents*"))
    fast, _ = read_event_file(path, fast=True)
    slow, _ = read_event_file(path, fast=False)
    assert set(fast) == set(slow) == {"train/loss", "val/acc", "lr"}
    for tag in fast:
        for a, b in zip(fast[tag], slow[tag]):
            np.testing.assert_array_equal(a, b)
    assert fast["train/loss"][0].shape == (len(range(0, 20000, 7)),)


def test_directory_without_event_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="no training logs"):
        curvecheck.load(tmp_path)


def test_garbage_named_like_an_event_file(tmp_path):
    bad = tmp_path / "events.out.tfevents.123.host"
    bad.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(InputError, match="not a TensorBoard event file|binary"):
        curvecheck.load(bad, format="tensorboard")


def test_segment_n_says_which_series_it_leaves_out():
    """--segment 2 of a run where only loss restarted: val_loss (one segment) cannot be split by the
    restart, so it is left out, and a note names it instead of it vanishing silently."""
    path = WRITTEN / "tbx_partial_restart"
    whole = curvecheck.load(path)
    assert whole["val_loss"].x.tolist() == [0, 5, 10, 15, 20, 25] and len(whole["loss"].x) == 40
    second = curvecheck.load(path, segment=2)
    assert second["loss"].x.tolist() == list(range(20, 40)) and "val_loss" not in second.series
    assert any("--segment 2: left out" in n.message and "val_loss" in n.message for n in second.notes)
    first = curvecheck.load(path, segment=1)
    assert len(first["val_loss"].x) == 6 and first["loss"].x.tolist() == list(range(30))
