"""Finding TensorBoard runs: renamed event files found by their content, one Keras pair rule for the
many-runs walk and the reader, and a Keras ``validation/`` that cannot be read is reported, not skipped."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError
from curvecheck.readers import tensorboard
from curvecheck.readers.discovery import expand, find_runs

from .conftest import CORPUS, SAMPLES, WRITTEN

CORPUS_TB = sorted((CORPUS / "tensorboard").iterdir())  # real files, renamed owner-repo__events.out...


def cli(*args):
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          check=False,
                          env={"PATH": os.environ["PATH"], "NO_COLOR": "1"}, timeout=120)


def _series(run):
    return {name: (s.x.tolist(), np.nan_to_num(s.values, nan=-1.0).tolist()) for name, s in run.series.items()}


def test_a_folder_of_renamed_event_files_yields_each_file_as_a_run(tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    names = []
    for i, src in enumerate(CORPUS_TB[:4]):
        # the corpus's own names, a bare name, and names ending like other files
        name = [src.name, f"run{i}", f"run{i}.tfevents", f"backup.{i}"][i]
        shutil.copy(src, folder / name)
        names.append(name)
    (folder / "notes").write_text("not a log\n")  # sniffed and left alone
    (folder / "sample.png").write_bytes(CORPUS_TB[0].read_bytes()[:64])  # an image suffix is never sniffed
    runs, errors = find_runs(folder)
    assert [p.name for p in runs] == sorted(names) and errors == []
    report = curvecheck.analyze(folder, on_error="collect")
    assert not report.errors and len(report.runs) == 4
    for name, src in zip(names, CORPUS_TB[:4]):
        assert _series(curvecheck.load(folder / name)) == _series(curvecheck.load(src))
    # the reader given the folder refuses to merge unrelated files into one run
    with pytest.raises(InputError, match="holds 4 TensorBoard runs"):
        curvecheck.load(folder)


def test_the_corpus_folder_is_analysed_file_by_file_on_the_command_line():
    res = cli("analyze", CORPUS / "tensorboard", "--json", "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert sorted(r["source"] for r in doc["runs"]) == [str(p) for p in CORPUS_TB]
    assert all(r["format"] == "tensorboard" for r in doc["runs"])


def test_writer_named_files_still_make_one_run_per_folder_and_a_renamed_copy_is_its_own(tmp_path):
    run = tmp_path / "runs" / "torch_simple"
    shutil.copytree(WRITTEN / "torch_simple", run)
    shutil.copy(CORPUS_TB[0], tmp_path / "runs" / "lego")
    assert [p.relative_to(tmp_path).as_posix() for p in find_runs(tmp_path)[0]] == ["runs/lego", "runs/torch_simple"]
    assert tensorboard.find_runs(tmp_path) == [tmp_path / "runs" / "lego", run]


def test_the_sniff_reads_a_header_only_and_never_blocks_on_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert tensorboard.sniff_event_file(fifo) is False  # nobody writes: no hang
    big = tmp_path / "weights"
    with big.open("wb") as fh:  # 64 MB of zeros: a length of 0 with a CRC that does not match
        fh.truncate(64 << 20)
    assert tensorboard.sniff_event_file(big) is False
    assert tensorboard.sniff_event_file(CORPUS_TB[0]) is True
    assert [p.name for p in find_runs(tmp_path)[0]] == []


def test_the_many_runs_walk_and_the_reader_group_event_folders_alike(tmp_path):
    """One rule (tensorboard.run_folder) for both: Keras pairs (also with eval/ or a broken
    validation/), a train/ alone, a validation/ alone, torch add_scalars sub-folders."""
    shutil.copytree(WRITTEN / "keras_tb", tmp_path / "pair")
    shutil.copytree(WRITTEN / "keras_tb" / "train", tmp_path / "eval_pair" / "train")
    shutil.copytree(WRITTEN / "keras_tb" / "validation", tmp_path / "eval_pair" / "eval")
    shutil.copytree(WRITTEN / "keras_tb" / "train", tmp_path / "broken_pair" / "train")
    (tmp_path / "broken_pair" / "validation").symlink_to(tmp_path / "gone")
    shutil.copytree(WRITTEN / "keras_tb" / "train", tmp_path / "train_only" / "train")
    shutil.copytree(WRITTEN / "keras_tb" / "validation", tmp_path / "val_only" / "validation")
    shutil.copytree(WRITTEN / "torch_add_scalars", tmp_path / "scalars")
    expected = ["broken_pair", "eval_pair", "pair", "scalars", "train_only/train", "val_only/validation"]
    walked = sorted(p.relative_to(tmp_path).as_posix() for p in find_runs(tmp_path)[0])
    assert walked == expected
    assert [p.relative_to(tmp_path).as_posix() for p in tensorboard.find_runs(tmp_path)] == expected
    assert tensorboard.is_keras_pair({"train", "eval"}) and not tensorboard.is_keras_pair({"validation"})


@pytest.mark.parametrize("broken", ["dangling", "loop", "file"])
def test_an_unreadable_validation_folder_is_reported_not_skipped(tmp_path, broken):
    """Root reads any folder whatever its mode, so the folder is made unreadable in ways the OS
    refuses for everyone: a link to nothing, a link loop, a file where the folder should be."""
    root = tmp_path / "logs"
    shutil.copytree(WRITTEN / "keras_tb" / "train", root / "fit" / "run1" / "train")
    validation = root / "fit" / "run1" / "validation"
    if broken == "dangling":
        validation.symlink_to(tmp_path / "gone")
    elif broken == "loop":
        validation.symlink_to(validation)
    else:
        validation.write_text("")
    shutil.copytree(WRITTEN / "keras_tb", root / "fit" / "run2")  # a healthy run beside it
    why = {"dangling": "a symbolic link to nothing", "loop": "a symbolic link loop",
           "file": "a file stands where the folder should be"}[broken]
    with pytest.raises(InputError) as err:
        curvecheck.load(root / "fit" / "run1")
    assert str(err.value).startswith(f"{validation}: cannot read this Keras split folder ({why})")
    # the many-runs walk finds the pair as one run (not train/ alone) and the other run is still read
    assert [p for p, _ in expand([root])] == [root / "fit" / "run1", root / "fit" / "run2"]
    res = cli("analyze", root, "--fail-on", "never", "--quiet")
    assert res.returncode == 2
    line = f"curvecheck: error: {validation}: cannot read this Keras split folder ({why}); the run is not analysed "
    assert res.stderr.splitlines() == [line + "without it"]
    assert "run2" in res.stdout and "run1/train" not in res.stdout
    assert cli("analyze", root / "fit" / "run1" / "train", "--fail-on", "never").returncode == 0  # train alone


def test_sample_keras_tensorboard_run_is_unchanged():
    run = curvecheck.load(SAMPLES / "tensorboard_keras")
    assert {"loss", "val_loss"} <= set(run.series) and run.x_axis == "epoch"
