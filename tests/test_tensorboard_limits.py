"""TensorBoard files at the limits: many tags, huge values, odd tag bytes, big non-scalar payloads."""

import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import curvecheck
from curvecheck.readers.tensorboard import read_event_file

from .conftest import WRITTEN


def test_ten_thousand_tags_are_all_read(tmp_path):
    """No per-series quadratic work: the benchmark times this; here every tag must come back."""
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(tmp_path), max_queue=100_000, flush_secs=3600)
    for k in range(10_000):
        w.add_scalar(f"metric_{k}/loss", 1.0 / (1 + k), k % 2)
    w.close()
    run = curvecheck.load(tmp_path)
    assert len(run.series) == 10_000
    assert run["metric_9999/loss"].values.tolist() == pytest.approx([1 / 10000])


HUGE = WRITTEN / "torch_huge_values"  # 1e308 and -1e308 as doubles, written by torch


def test_values_beyond_float32_range_read_as_inf_with_a_note():
    raw, _ = read_event_file(next(HUGE.iterdir()))
    assert raw["val_loss"][1][25] == 1e308  # the file's own value, read exactly
    run = curvecheck.load(HUGE)
    assert np.isposinf(run["val_loss"].values[21:]).all() and np.isfinite(run["val_loss"].values[:21]).all()
    assert np.isneginf(run["val_acc"].values[1]) and run["val_acc"].values[0] == 0.5
    assert any(n.kind == "overflow" and "val_loss" in n.message for n in run.notes)


def test_huge_values_never_give_an_internal_error(tmp_path):
    """In process (typer's runner): an internal error is any exception other than the exit."""
    from typer.testing import CliRunner

    from curvecheck.cli import app

    for args in (["analyze", HUGE], ["analyze", "--json", HUGE], ["plot", HUGE, "-o", tmp_path / "fig.png"]):
        res = CliRunner().invoke(app, list(map(str, args)))
        assert res.exit_code in (0, 1) and isinstance(res.exception, (SystemExit, type(None))), (args, res.exception)


def _patch_tags(data: bytes, renames: dict[bytes, bytes]) -> bytes:
    """Rename tags in place (same length) and write the record CRCs again, as a writer would."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    out, pos = bytearray(), 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        body = data[pos + 12:pos + 12 + length]
        for old, new in renames.items():
            body = body.replace(old, new)
        out += data[pos:pos + 12] + body + struct.pack("<I", masked_crc32c(body))
        pos += 16 + length
    return bytes(out)


def test_non_utf8_tags_that_decode_alike_are_not_merged(tmp_path):
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(tmp_path / "w"))
    for step in range(10):
        w.add_scalar("lossA", 1.0 / (1 + step), step)
        w.add_scalar("lossB", 5.0 + step, step)
    w.close()
    data = _patch_tags(next((tmp_path / "w").iterdir()).read_bytes(), {b"lossA": b"loss\xff", b"lossB": b"loss\xfe"})
    assert b"loss\xff".decode("utf-8", "replace") == b"loss\xfe".decode("utf-8", "replace")
    path = tmp_path / "events.out.tfevents.1.odd"
    path.write_bytes(data)
    run = curvecheck.load(path)
    assert set(run.series) == {"loss\\xff", "loss\\xfe"}
    assert run["loss\\xfe"].values.tolist() == [5.0 + s for s in range(10)]
    assert any(n.kind == "tag_names" for n in run.notes)


def test_histograms_and_images_are_not_held_in_memory(tmp_path):
    """Memory follows the scalars kept, not the file: a window at a time, non-scalars dropped."""
    from tensorboardX import SummaryWriter
    from tensorboardX.summary import histogram

    rng = np.random.default_rng(0)
    # tensorboardX bins in Python (slow): a few histograms built once, written by the writer at every step
    summaries = [histogram("weights", rng.normal(size=2000) * (1 + k), bins=1000) for k in range(4)]
    w = SummaryWriter(str(tmp_path), max_queue=1000, flush_secs=3600)
    for step in range(300):
        w.add_scalar("loss", 1.0 / (1 + step), step)
        w._get_file_writer().add_summary(summaries[step % 4], step)
        if step % 30 == 0:
            w.add_image("sample", rng.random((3, 128, 128)), step)
    w.close()
    path = next(tmp_path.iterdir())
    assert path.stat().st_size > 5_000_000
    tracemalloc.start()
    data, notes = read_event_file(path, window=1 << 19)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert set(data) == {"loss"} and data["loss"][0].shape == (300,) and not notes
    assert peak < 3_000_000, peak  # a 512 KiB window and its index arrays, not the 5+ MB file


def test_out_of_memory_is_one_line_naming_the_file(tmp_path):
    """Under an address-space limit just above what is in use, the read fails with one clean line."""
    from tensorboardX import SummaryWriter
    from tensorboardX.summary import histogram

    summary = histogram("weights", np.random.default_rng(0).normal(size=2000), bins=1000)
    w = SummaryWriter(str(tmp_path), max_queue=1000, flush_secs=3600)
    for step in range(1300):
        w.add_scalar("loss", 1.0 / (1 + step), step)
        w._get_file_writer().add_summary(summary, step)
    w.close()
    path = next(tmp_path.iterdir())
    assert path.stat().st_size > 20_000_000
    script = f"""
import resource
from pathlib import Path
import curvecheck
from curvecheck.errors import InputError
from curvecheck.readers import tensorboard
vm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize:")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + 8 * 2**20, resource.RLIM_INFINITY))
try:
    curvecheck.load(Path({str(path)!r}))
except InputError as exc:
    print("InputError:", exc)
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("\n") == 1 and "InputError:" in res.stdout
    assert path.name in res.stdout and "out of memory" in res.stdout
