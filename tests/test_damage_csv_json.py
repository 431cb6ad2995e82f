"""Damaged and hostile CSV/JSON input: reported, never read as data, never an internal error (issues 14, 15)."""

import gzip
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import curvecheck
from curvecheck.errors import InputError

from .conftest import CORPUS, WRITTEN

BRATS = CORPUS / "keras_csv/4hmetcakmak-BraTS2020CapstoneProject__training.log"


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "curvecheck.cli", *map(str, args)], capture_output=True,
                          text=True, input=stdin, timeout=120)


def test_missing_cells_are_gaps_never_nan(tmp_path):
    """A sparse W&B-style export: empty cells are not logged values, only a written nan is NaN."""
    path = tmp_path / "wandb_export.csv"
    path.write_text("Step,loss,val_loss\n0,1.0,\n1,0.9,\n2,0.8,0.95\n3,0.7,\n4,0.6,0.9\n5,nan,0.88\n")
    run = curvecheck.load(path)
    assert run.x_axis == "step"
    assert run["val_loss"].x.tolist() == [2, 4, 5] and not np.isnan(run["val_loss"].values).any()
    assert run["loss"].x.tolist() == [0, 1, 2, 3, 4, 5] and math.isnan(run["loss"].values[-1])
    report = curvecheck.analyze(run)
    assert not any(f.code == "CC101" and "val_loss" in f.series for f in report.runs[0].findings)


def test_pandas_appended_runs_with_repeated_header_are_segments(tmp_path):
    path = tmp_path / "history.csv"
    pd.DataFrame({"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.8]}).to_csv(path, index=False)
    pd.DataFrame({"loss": [0.9, 0.7, 0.5, 0.4], "val_loss": [1.0, 0.85, 0.7, 0.65]}).to_csv(path, mode="a", index=False)
    run = curvecheck.load(path)
    assert [s.points for s in run.segments] == [3, 4]
    assert run["loss"].values.tolist() == [0.9, 0.7, 0.5, 0.4]
    assert curvecheck.load(path, segment=1)["val_loss"].values.tolist() == [1.1, 0.9, 0.8]


def test_appended_run_with_other_columns_under_its_own_header(tmp_path):
    """pandas to_csv(mode='a') of a second run that adds learning_rate and drops accuracy."""
    path = tmp_path / "history.csv"
    pd.DataFrame({"epoch": [0, 1, 2], "accuracy": [0.5, 0.6, 0.7], "loss": [1.0, 0.8, 0.6]}).to_csv(path, index=False)
    pd.DataFrame({"epoch": [0, 1, 2], "learning_rate": [0.01, 0.01, 0.001], "loss": [0.9, 0.7, 0.5]}).to_csv(
        path, mode="a", index=False)
    run = curvecheck.load(path)
    assert run["loss"].values.tolist() == [0.9, 0.7, 0.5]
    assert run["learning_rate"].values.tolist() == [0.01, 0.01, 0.001]
    assert "accuracy" not in run  # not logged in the run analysed
    first = curvecheck.load(path, segment=1)
    assert first["accuracy"].values.tolist() == [0.5, 0.6, 0.7] and "learning_rate" not in first
    assert any(n.kind == "not_in_segment" and "learning_rate" in n.message for n in first.notes)


def test_headerless_rows_with_another_cell_count_are_not_read_under_the_wrong_header(tmp_path):
    """CSVLogger(append=True) writes no new header; a second run with one more key shifts every cell."""
    path = tmp_path / "training.log"
    path.write_text("epoch,accuracy,loss\r\n0,0.5,1.0\r\n1,0.6,0.8\r\n0,0.55,0.01,0.9\r\n1,0.65,0.01,0.7\r\n")
    run = curvecheck.load(path)
    assert run["loss"].values.tolist() == [1.0, 0.8]  # 0.01 (a learning rate) is never shown as a loss
    note = next(n for n in run.notes if n.kind == "unnamed_rows")
    assert "lines 4-5" in note.message


def test_one_bad_cell_keeps_the_column_and_is_reported(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{1 / (i + 1)},{1.2 / (i + 1)}\n" for i in range(12))
                    .replace("\n3,0.25,", "\n3,tensor(0.25),", 1))
    run = curvecheck.load(path)
    assert len(run["loss"]) == 11 and 3 not in run["loss"].x.tolist() and len(run["val_loss"]) == 12
    assert any(n.kind == "bad_cells" and "'loss'" in n.message for n in run.notes)


def test_quoted_header_csv_is_csv_not_invalid_json(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('"epoch","loss","val_loss"\n0,1.0,1.1\n1,0.8,0.9\n2,0.7,0.85\n')
    assert curvecheck.load(path)["val_loss"].values.tolist() == [1.1, 0.9, 0.85]


@pytest.mark.parametrize("doc", [
    '{"loss": [1, 2, ' + "9" * 5000 + "]}",  # beyond the 4,300-digit int limit
    '{"loss": [1, 2, ' + "9" * 400 + "]}",  # beyond the float range
    '{"loss": ' + "[" * 1200 + "1" + "]" * 1200 + "}",  # deep nesting
    "[" * 100000,
    '{"loss": [1e308, 1e308, -1e308, 0.5]}',
])
def test_json_numbers_and_nesting_never_cause_an_internal_error(tmp_path, doc):
    path = tmp_path / "h.json"
    path.write_text(doc)
    try:
        run = curvecheck.load(path)
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert len(run["loss"]) >= 2
    json.dumps(curvecheck.analyze(run).to_dict(), allow_nan=False)  # analysed and serialised, no exception


def test_json_with_20000_keys_is_fast(tmp_path):
    path = tmp_path / "wide.json"
    doc = {f"metric_{i}": [1.0 / (j + 1 + i % 7) for j in range(5)] for i in range(20000)}
    path.write_text(json.dumps(doc))
    start = time.perf_counter()
    run = curvecheck.load(path)
    # a hang guard, not a timing: per-key work that grew with the number of keys took minutes
    assert len(run.series) == 20000 and time.perf_counter() - start < 60


def test_stdin_pipe_keeps_its_first_bytes():
    data = BRATS.read_bytes()
    assert len(data) > 4096
    res = run_cli("analyze", "-", "--json", "--fail-on", "never", stdin=data.decode())
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["runs"][0]["num_points"] == 24 and doc["runs"][0]["source"] == "-"


def test_gzip_logs_are_read_transparently(tmp_path):
    gz = tmp_path / "training.log.gz"
    gz.write_bytes(gzip.compress(BRATS.read_bytes()))
    run, plain = curvecheck.load(gz), curvecheck.load(BRATS)
    assert run.format == plain.format and np.array_equal(run["val_loss"].values, plain["val_loss"].values)


def test_fifo_nobody_writes_to_symlink_loop_and_directory_are_one_line_exit_2(tmp_path, monkeypatch):
    from curvecheck.readers import source

    monkeypatch.setattr(source, "PIPE_TIMEOUT", 0.2)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    folder = tmp_path / "empty_dir"
    folder.mkdir()
    for path, problem in ((fifo, "pipe: nothing written to it"), (loop, "symbolic link loop")):
        with pytest.raises(InputError) as err:
            curvecheck.load(path)
        assert str(err.value).startswith(f"{path}: {problem}")
    res = run_cli("analyze", BRATS, loop, folder, "--log-format", "keras_csv")
    assert res.returncode == 2 and "val_mean_io_u_5" in res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and "symbolic link loop" in lines[0]
    assert lines[1].endswith(f"{folder}: directory holds no training logs")


def test_process_substitution_pipe_keeps_its_first_bytes():
    cmd = f'"{sys.executable}" -m curvecheck.cli analyze <(cat "{BRATS}") --json --fail-on never'
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["runs"][0]["num_points"] == 24


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_permission_denied_is_one_line(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_bytes(BRATS.read_bytes())
    path.chmod(0)
    res = run_cli("analyze", path)
    assert res.returncode == 2 and "permission denied" in res.stderr


def test_csvlogger_file_read_mid_write_by_a_real_appending_process(tmp_path):
    """A writer process appends rows (flushing half rows) while curvecheck reads: never a cut row as data."""
    path = tmp_path / "live.csv"
    src = (WRITTEN / "keras_nan.csv").read_text().splitlines(keepends=True)
    path.write_text("".join(src[:3]))
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "rows = open(sys.argv[1]).read().splitlines(keepends=True)[3:]\n"
        "with open(sys.argv[2], 'a') as fh:\n"
        "    for row in rows:\n"
        "        half = len(row) // 2\n"
        "        fh.write(row[:half]); fh.flush(); time.sleep(0.01)\n"
        "        fh.write(row[half:]); fh.flush(); time.sleep(0.01)\n"
    ), str(WRITTEN / "keras_nan.csv"), str(path)])
    full = curvecheck.load(WRITTEN / "keras_nan.csv")
    seen_partial = False
    try:
        while writer.poll() is None:
            try:
                run = curvecheck.load(path)
            except InputError:
                continue
            n = len(run["loss"])
            np.testing.assert_array_equal(run["loss"].values, full["loss"].values[:n])
            seen_partial |= any(note.kind == "partial_row" for note in run.notes)
    finally:
        writer.wait(timeout=60)
    assert len(curvecheck.load(path)["loss"]) == len(full["loss"])
    assert seen_partial


@pytest.mark.parametrize("variant", ["gaps", "written_nan", "short_row", "crlf", "partial_row", "empty_header_cell"])
def test_large_csv_fast_path_reads_exactly_like_the_row_by_row_reader(tmp_path, monkeypatch, variant):
    from curvecheck.readers import table

    monkeypatch.setattr(table, "FAST_PATH_BYTES", 10_000)  # the fast path from 10 kB on, for a small test file
    rng = np.random.default_rng(1)
    rows = "".join(f"{i},{rng.random():.6f},{'' if i % 3 else f'{rng.random():.6f}'}\n" for i in range(2000))
    text = {
        "gaps": "epoch,loss,val_loss\n" + rows,
        "written_nan": "epoch,loss,val_loss\n" + rows.replace("\n7,0.", "\n7,nan,0.", 1),
        "short_row": "epoch,loss,val_loss\n" + rows + "2000,0.5\n",
        "crlf": ("epoch,loss,val_loss\n" + rows).replace("\n", "\r\n"),
        "partial_row": "epoch,loss,val_loss\n" + rows + "2000,0.4",
        "empty_header_cell": ",loss,val_loss\n" + rows,
    }[variant]
    path = tmp_path / "big.csv"
    path.write_text(text)
    assert path.stat().st_size > table.FAST_PATH_BYTES
    fast = curvecheck.load(path)
    monkeypatch.setattr(table, "FAST_PATH_BYTES", 1 << 40)
    exact = curvecheck.load(path)
    assert set(fast.series) == set(exact.series) and [n.kind for n in fast.notes] == [n.kind for n in exact.notes]
    for name, s in exact.series.items():
        assert np.array_equal(fast[name].x, s.x) and np.array_equal(fast[name].values, s.values, equal_nan=True)
