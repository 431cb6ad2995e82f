"""Damaged TensorBoard files: CRCs checked, corrupt records left out and reported, never misread."""

import struct

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError
from curvecheck.readers.crc32c import crc32c, crc32c_rows, masked_crc
from curvecheck.readers.tensorboard import read_event_file, scan_records

from .conftest import WRITTEN

TORCH_SIMPLE = next((WRITTEN / "torch_simple").iterdir())
NEW_STYLE = next((WRITTEN / "torch_new_style").iterdir())


def records(data: bytes) -> list[tuple[int, int]]:
    """(record start, data length) of every record, walked by hand."""
    out, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, length))
        pos += 16 + length
    return out


def write(tmp_path, data: bytes, name="events.out.tfevents.1.host"):
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def points(data: dict) -> set[tuple[str, float, float]]:
    """Every (tag, step, value) point, NaN spelled so that it compares equal to itself."""
    return {(tag, float(s), -1e300 if np.isnan(v) else float(v))
            for tag, (steps, values, _) in data.items() for s, v in zip(steps, values)}


def test_crc32c_matches_the_reference_values():
    # RFC 3720 B.4 test vectors and the classic check value
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(bytes([0xFF] * 32)) == 0x62A8AB43
    long = bytes(range(256)) * 40  # the row-folding path for long buffers
    assert crc32c(long) == crc32c(long[:5000] + long[5000:])
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
    assert masked_crc(long) == masked_crc32c(long)
    rows = np.frombuffer(long[:37 * 50], dtype=np.uint8).reshape(50, 37)
    assert crc32c_rows(rows).tolist() == [crc32c(r.tobytes()) for r in rows]


def test_bit_flip_in_a_value_is_skipped_counted_and_reported(tmp_path):
    data = bytearray(TORCH_SIMPLE.read_bytes())
    original, _ = read_event_file(TORCH_SIMPLE)
    # the last 4 bytes of a simple_value record's data are its float value
    scalar = [(p, n) for p, n in records(bytes(data)) if 25 <= n <= 80]
    start, length = scalar[10]
    data[start + 12 + length - 2] ^= 0x10
    got, notes = read_event_file(write(tmp_path, data))
    assert points(got) < points(original)
    assert len(points(original) - points(got)) == 1
    corrupt = [n for n in notes if n.kind == "corrupt"]
    assert len(corrupt) == 1 and "1 record(s) failed their CRC check" in corrupt[0].message


def test_bit_flips_in_a_long_run_are_skipped_on_the_fast_path(tmp_path):
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"))
    for step in range(1500):
        w.add_scalar("loss", 1.0 / (1 + step), step)
        w.add_scalar("acc", 1 - 1.0 / (2 + step), step)
    w.close()
    path = next((tmp_path / "run").iterdir())
    data = bytearray(path.read_bytes())
    original, _ = read_event_file(path)
    recs = records(bytes(data))
    for k, at in ((100, -1), (2001, 3), (2900, 6)):  # a value byte, a step byte, a wall-time byte
        start, length = recs[k]
        data[start + 12 + (length - 1 if at < 0 else at)] ^= 0x01
    damaged = write(tmp_path, data)
    for fast in (True, False):
        got, notes = read_event_file(damaged, fast=fast)
        assert points(got) < points(original)
        assert sum(len(v[0]) for v in got.values()) == 3000 - 3
        assert any(n.kind == "corrupt" and "3 record(s)" in n.message for n in notes)


def test_damaged_record_length_skips_to_the_next_record(tmp_path):
    data = bytearray(TORCH_SIMPLE.read_bytes())
    original, _ = read_event_file(TORCH_SIMPLE)
    start, _ = records(bytes(data))[20]
    data[start + 1] ^= 0x40  # the length field: the record's end is unknown now
    got, notes = read_event_file(write(tmp_path, data))
    lost = points(original) - points(got)
    assert points(got) < points(original) and len(lost) == 1
    assert any(n.kind == "corrupt" and "damaged record length" in n.message for n in notes)


def test_bit_flip_never_reads_as_a_different_curve(tmp_path):
    """One flipped bit at 150 places in a real file: the same points, or fewer with a note; never others."""
    clean = NEW_STYLE.read_bytes()
    original, _ = read_event_file(NEW_STYLE)
    rng = np.random.default_rng(1)
    path = tmp_path / "events.out.tfevents.flip"
    for at in rng.choice(np.arange(12, len(clean)), size=150, replace=False):
        data = bytearray(clean)
        data[at] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(data))
        got, notes = read_event_file(path)
        if points(got) != points(original):
            assert points(got) < points(original), at
            assert any(n.kind in ("corrupt", "truncated") for n in notes), at


def test_cut_at_every_offset_reads_the_records_before_the_cut(tmp_path):
    clean = NEW_STYLE.read_bytes()[:3000]
    path = tmp_path / "events.out.tfevents.cut"
    ends = [p + 16 + n for p, n in records(clean)]
    for cut in range(12, len(clean), 7):
        path.write_bytes(clean[:cut])
        got, notes = read_event_file(path)
        complete = sum(1 for e in ends if e <= cut)
        assert sum(len(v[0]) for v in got.values()) == max(complete - 1, 0)  # minus the file_version record
        assert (cut in ends) != any(n.kind == "truncated" for n in notes)


def test_windows_smaller_than_the_file_read_the_same_points(tmp_path):
    """The file is read a window at a time; records that straddle two windows are not lost."""
    whole, _ = read_event_file(TORCH_SIMPLE)
    for window in (64, 100, 1000, 4099):
        got, notes = read_event_file(TORCH_SIMPLE, window=window)
        assert points(got) == points(whole) and not notes
    data = bytearray(TORCH_SIMPLE.read_bytes())
    data[records(bytes(data))[30][0] + 2] ^= 1
    damaged = write(tmp_path, data)
    assert points(read_event_file(damaged, window=200)[0]) == points(read_event_file(damaged)[0])


def test_file_that_is_not_tfrecord_gives_one_line(tmp_path):
    csv = write(tmp_path, b"epoch,loss\n0,1.0\n1,0.5\n", name="history.csv")
    with pytest.raises(InputError) as err:
        curvecheck.load(csv, format="tensorboard")
    assert "history.csv" in str(err.value) and "not a TensorBoard event file" in str(err.value)
    assert "\n" not in str(err.value)


def test_one_bad_file_in_a_run_folder_is_reported_and_the_rest_read(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / TORCH_SIMPLE.name).write_bytes(TORCH_SIMPLE.read_bytes())
    (run_dir / "events.out.tfevents.9.junk").write_bytes(b"not an event file at all")
    run = curvecheck.load(run_dir)
    assert len(run["val/loss"]) == 40
    assert any(n.kind == "unreadable" and "events.out.tfevents.9.junk" in n.message for n in run.notes)


def test_scan_stops_before_an_incomplete_record():
    data = NEW_STYLE.read_bytes()
    recs = scan_records(data[:-5], eof=False)
    assert recs.consumed == records(data)[-1][0]


def test_many_tags_of_one_layout_read_fast_and_a_flipped_tag_byte_is_not_moved_to_another_tag(tmp_path):
    """Tags of equal length share a layout and are decoded together; the CRC still guards each record."""
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"), max_queue=10_000, flush_secs=3600)
    for step in range(20):
        for k in range(300):
            w.add_scalar(f"layer_{k:03d}/loss", k + step / 100, step)
    w.close()
    path = next((tmp_path / "run").iterdir())
    fast, _ = read_event_file(path, fast=True)
    slow, _ = read_event_file(path, fast=False)
    assert len(fast) == 300 and points(fast) == points(slow)
    assert fast["layer_123/loss"][1].tolist() == pytest.approx([123 + s / 100 for s in range(20)])
    data = bytearray(path.read_bytes())
    start, _ = records(bytes(data))[1000]
    at = data.index(b"layer_", start) + 8  # a digit of the tag: layer_0x3 -> another valid tag
    data[at] ^= 0x01
    got, notes = read_event_file(write(tmp_path, data))
    assert points(got) < points(fast) and len(points(fast) - points(got)) == 1
    assert any(n.kind == "corrupt" for n in notes)
