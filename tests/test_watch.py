"""`curvecheck watch` on a log that a real writer process is still appending to.

The writer writes rows with the csv module exactly as Keras' CSVLogger does (excel dialect, one
flush per epoch); it also splits one row in two writes, as a writer caught mid-row would.
"""

import os
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import curvecheck
from curvecheck.cli import app
from curvecheck.stopping import replay

from .conftest import SAMPLES

SOURCE = SAMPLES / "overfitting_mlp.csv"
WRITER = r"""
import csv, sys, time
src, dst, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(src, newline="") as fh:
    rows = list(csv.reader(fh))
with open(dst, "w", newline="") as out:
    writer = csv.writer(out)  # excel dialect, "\r\n" line ends: what keras.callbacks.CSVLogger writes
    writer.writerow(rows[0]); out.flush()
    if pause < 0:  # lock-step: one command per line on stdin, "ok" on stdout when done
        body = iter(rows[1:])
        for command in sys.stdin:
            if command.strip() == "row":
                writer.writerow(next(body))
            elif command.strip() == "half":  # a row caught half-written
                line = ",".join(next(body)) + "\r\n"
                out.write(line[:7])
            elif command.strip() == "rest":
                out.write(line[7:])
            out.flush()
            print("ok", flush=True)
    else:
        for row in rows[1:]:
            writer.writerow(row); out.flush()
            time.sleep(pause)
"""


def once(path):
    res = CliRunner().invoke(app, ["watch", str(path), "--once"])
    return res.exit_code, res.output


def _start_writer(tmp_path, pause):
    log = tmp_path / "training.csv"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(SOURCE), str(log), str(pause)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    while not log.exists() or log.stat().st_size == 0:
        time.sleep(0.01)
    return proc, log


def test_once_follows_a_log_as_a_real_writer_appends_to_it(tmp_path):
    expected = replay(curvecheck.load(SOURCE)["val_loss"].values, rule="auto")
    assert expected.stopped and expected.stop_index == 15
    proc, log = _start_writer(tmp_path, -1)

    def send(command):
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "ok"

    seen = [once(log)]  # header only
    try:
        for i in range(20):
            if i == 5:  # mid-row: watch must answer as for the complete rows only
                send("half")
                seen.append(once(log))
                send("rest")
            else:
                send("row")
            seen.append(once(log))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert seen[0][0] == 2 and "WAITING" in seen[0][1]
    points_seen = []
    for code, out in seen[1:]:
        if code == 2:  # one complete row: nothing to evaluate yet
            assert "WAITING" in out
            continue
        points = int(out.split("seen: ")[1].split(" ")[0])
        points_seen.append(points)
        # the replay's answer for the epochs written so far; a half-written row never reads as NaN
        fired = expected.stop_index < points
        assert code == (1 if fired else 0), out
        if fired:
            assert f"fired at epoch {expected.stop_index}" in out and f"keep epoch {expected.kept_index}" in out
    assert points_seen.count(5) == 2  # before and while row 6 was half-written
    assert points_seen[-1] == 20 and seen[-1][0] == 1
    # the log was only read: its bytes are exactly what the writer wrote
    assert log.read_bytes() == b"".join(SOURCE.read_bytes().splitlines(keepends=True)[:21])


def test_once_depends_on_the_bytes_not_the_modification_time(tmp_path):
    log = tmp_path / "copy.csv"
    log.write_bytes(SOURCE.read_bytes())
    first = once(log)
    os.utime(log, (time.time() - 2 * 365 * 86400,) * 2)
    assert once(log) == first and first[0] == 1


def test_once_on_a_log_with_nothing_yet_and_on_a_missing_log(tmp_path):
    log = tmp_path / "new.csv"
    log.write_text("epoch,loss,val_loss\r\n")
    code, out = once(log)
    assert code == 2 and "WAITING" in out
    code, out = once(tmp_path / "missing.csv")
    assert code == 2


def test_live_view_prints_stop_now_once_and_exits_1(tmp_path):
    proc, log = _start_writer(tmp_path, 0.02)
    try:
        res = subprocess.run([sys.executable, "-m", "curvecheck", "watch", str(log), "--interval", "0.05"],
                             capture_output=True, text=True, timeout=60, check=False,
                             env={"PATH": "/usr/bin:/bin", "COLUMNS": "120", "NO_COLOR": "1"})
    finally:
        proc.wait(timeout=30)
    assert res.returncode == 1, res.stderr
    assert res.stdout.count("STOP NOW") == 1


@pytest.mark.parametrize("log", [SAMPLES / "tensorboard_keras", SAMPLES / "lr_sweep"], ids=["tensorboard", "dir"])
def test_once_on_directories(log):
    code, out = once(log)
    assert code in (0, 1) and ("STOP NOW" in out or "CONTINUE" in out)


def _wait_for_steps(tb_dir, steps, timeout=20.0):
    """tensorboardX writes from a background thread: wait until the events are on disk."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(curvecheck.load(tb_dir)["val_loss"].values) >= steps:
                return
        except (curvecheck.InputError, KeyError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"tensorboardX did not write {steps} steps in {timeout} s")


def test_once_follows_a_tensorboard_run_as_tensorboardx_writes_it(tmp_path):
    SummaryWriter = pytest.importorskip("tensorboardX").SummaryWriter
    run = curvecheck.load(SOURCE)
    expected = replay(run["val_loss"].values, rule="auto")
    writer = SummaryWriter(str(tmp_path / "tb"), flush_secs=0.01)  # its writer thread flushes on a timer
    answers = []
    try:
        for step in range(expected.stop_index + 2):
            writer.add_scalar("loss", float(run["loss"].values[step]), step)
            writer.add_scalar("val_loss", float(run["val_loss"].values[step]), step)
            writer.flush()
            if step >= 1:
                _wait_for_steps(tmp_path / "tb", step + 1)
                answers.append(once(tmp_path / "tb")[0])
    finally:
        writer.close()
    # CONTINUE until the replay's stop, STOP NOW from there
    assert answers == [0] * (expected.stop_index - 1) + [1, 1]
