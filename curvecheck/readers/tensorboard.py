"""TensorBoard event files, read without TensorFlow and without sampling.

Event files are TFRecords (u64 length | u32 masked CRC32C of the length | Event proto | u32 masked
CRC32C of the data). Scalars come in three encodings, all seen in the wild: ``simple_value``
(torch / tensorboardX ``add_scalar``), a tensor with ``float_val``/``double_val``
(tensorboardX ``new_style``), and a tensor with ``tensor_content`` (TF2 ``tf.summary.scalar``, the
Keras callback).

Speed: a writer emits the same tags over and over, so most records share their byte layout and
differ only in wall time, step and value. We parse one record of a layout in Python, check with
numpy which other records of the same length have identical bytes everywhere else, and pull out
wall times, steps and values for all of them at once. Records that fit no layout (file header,
graphs, images, histograms, merged summaries) go through the same parser one by one.

Damage: every record that adds a point is checked against its CRC (records of one layout in
bulk: CRC is linear, so only their few differing bytes cost anything); a corrupt record is left
out and reported, a damaged length field is skipped to the next valid record, and a file cut off
mid-record is read up to the cut. Records that add nothing (images, histograms) are not hashed.

Memory: the file is read a window at a time; only scalar points are kept.

Unlike TensorBoard's own loaders this keeps every point, and reports a step that goes backwards
(a restart) instead of silently dropping the points before it.
"""

from __future__ import annotations

import errno
import os
import struct
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import InputError
from ..model import Note, Run, Series, describe_segments, make_series, segment_starts, select_segment_indices
from .common import check_segment_choice, segments_note
from .crc32c import TABLE, crc32c, crc32c_many, crc32c_rows, mask, masked_crc

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_F32 = struct.Struct("<f")
_SCALAR_PLUGINS = ("scalars", "")
_DTYPES = {1: ("<f4", 4), 2: ("<f8", 8), 19: ("<f2", 2)}  # DT_FLOAT, DT_DOUBLE, DT_HALF
# TensorProto.float_val (5) and double_val (6): (field, wire type) -> (dtype, packed?)
_VALUE_FIELDS = {(5, 2): ("<f4", True), (5, 5): ("<f4", False), (6, 2): ("<f8", True), (6, 1): ("<f8", False)}
_WINDOW = 16 << 20  # bytes read at a time
_MAX_LAYOUT_LEN = 4096  # a one-scalar event is far shorter; longer records go one by one
# No training metric is this large; beyond it squares and sums overflow float64 downstream.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def looks_like_event_file(head: bytes | bytearray) -> bool:
    """True when the bytes start with a TFRecord whose length CRC checks out."""
    if len(head) < 12 or not any(head[:5]) or any(head[5:8]):
        return False  # cheap first: no record is empty or 1 TB long (most other files stop here)
    return masked_crc(head[:8]) == _U32.unpack_from(head, 8)[0]


# --- protobuf wire format ----------------------------------------------------------------------

def _varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _skip(buf, pos: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 2:
        n, pos = _varint(buf, pos)
        return pos + n
    if wire == 5:
        return pos + 4
    raise ValueError(f"unsupported wire type {wire}")


@dataclass
class _Value:
    tag: bytes  # raw: decoded once per tag at the end (two different invalid UTF-8 tags must not merge)
    value: float | None  # None: not a scalar (image, histogram, text...)
    value_pos: int = -1  # offset of the value bytes inside the record, -1 when not fixed
    dtype: str = ""
    plugin: str | None = None
    tag_pos: int = -1  # offset of the tag bytes inside the record


@dataclass
class _Event:
    wall_time: float = float("nan")
    wall_pos: int = -1
    step: int = 0
    step_pos: int = -1
    step_len: int = 0
    values: list[_Value] = field(default_factory=list)
    other_fields: bool = False  # file_version, graph, session log...


def _submessages(buf, pos: int, end: int, key: int):
    """Spans (start, stop) of every length-delimited field with this key, skipping the others."""
    while pos < end:
        k, pos = _varint(buf, pos)
        if k == key:
            n, pos = _varint(buf, pos)
            yield pos, pos + n
            pos += n
        else:
            pos = _skip(buf, pos, k & 7)


def _plugin_name(buf, pos: int, end: int) -> str | None:
    """SummaryMetadata.plugin_data(1).plugin_name(1)."""
    for data_start, data_end in _submessages(buf, pos, end, 0x0A):
        for name_start, name_end in _submessages(buf, data_start, data_end, 0x0A):
            return bytes(buf[name_start:name_end]).decode("utf-8", "replace")
        return None
    return None


def _dim_size(buf, pos: int, end: int) -> int:
    """TensorShapeProto.Dim.size (field 1); proto3 omits it when it is 0."""
    while pos < end:
        k, pos = _varint(buf, pos)
        if k == 0x08:
            return _varint(buf, pos)[0]
        pos = _skip(buf, pos, k & 7)
    return 0


def _tensor_scalar(buf, pos: int, end: int) -> tuple[float | None, int, str]:
    """A one-element float tensor's value and its offset; (None, -1, '') otherwise."""
    dtype = 0
    found: tuple[int, str, int] | None = None  # (pos, numpy dtype, count)
    while pos < end:
        key, pos = _varint(buf, pos)
        field_no, wire = key >> 3, key & 7
        if field_no == 1 and wire == 0:
            dtype, pos = _varint(buf, pos)
        elif field_no == 2 and wire == 2:  # shape: any dim of size != 1 makes it non-scalar
            n, pos = _varint(buf, pos)
            if any(_dim_size(buf, a, b) != 1 for a, b in _submessages(buf, pos, pos + n, 0x12)):
                return None, -1, ""
            pos += n
        elif field_no == 4 and wire == 2:  # tensor_content
            n, pos = _varint(buf, pos)
            found = (pos, "content", n)
            pos += n
        elif (field_no, wire) in _VALUE_FIELDS:  # float_val / double_val, packed or not
            kind, packed = _VALUE_FIELDS[(field_no, wire)]
            size = np.dtype(kind).itemsize
            n, pos = _varint(buf, pos) if packed else (size, pos)
            found = (pos, kind, n // size) if n else None
            pos += n
        else:
            pos = _skip(buf, pos, wire)
    if found is None:
        return None, -1, ""
    at, kind, count = found
    if kind == "content":
        if dtype not in _DTYPES or count != _DTYPES[dtype][1]:
            return None, -1, ""
        kind = _DTYPES[dtype][0]
    elif count != 1:
        return None, -1, ""
    return float(np.frombuffer(bytes(buf[at:at + np.dtype(kind).itemsize]), dtype=kind)[0]), at, kind


def _parse_value(buf, pos: int, end: int) -> _Value:
    tag, value, value_pos, dtype, plugin, tag_pos = b"", None, -1, "", None, -1
    while pos < end:
        key, pos = _varint(buf, pos)
        field_no, wire = key >> 3, key & 7
        if field_no == 1 and wire == 2:
            n, pos = _varint(buf, pos)
            tag, tag_pos = bytes(buf[pos:pos + n]), pos
            pos += n
        elif field_no == 2 and wire == 5:  # simple_value
            value, value_pos, dtype = _F32.unpack_from(buf, pos)[0], pos, "<f4"
            pos += 4
        elif field_no == 8 and wire == 2:  # tensor
            n, pos = _varint(buf, pos)
            value, value_pos, dtype = _tensor_scalar(buf, pos, pos + n)
            pos += n
        elif field_no == 9 and wire == 2:  # metadata
            n, pos = _varint(buf, pos)
            plugin = _plugin_name(buf, pos, pos + n)
            pos += n
        else:  # image, histogram, audio...: skip their bytes without decoding them
            pos = _skip(buf, pos, wire)
            value = None
            value_pos = -2  # marks "had a non-scalar payload"
    if value_pos == -2:
        value = None
    return _Value(tag, value, value_pos, dtype, plugin, tag_pos)


def parse_event(buf, start: int = 0, end: int | None = None) -> _Event:
    """Decode one Event record (positions are relative to ``start``)."""
    end = len(buf) if end is None else end
    ev = _Event()
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        field_no, wire = key >> 3, key & 7
        if field_no == 1 and wire == 1:
            ev.wall_pos = pos - start
            ev.wall_time = _F64.unpack_from(buf, pos)[0]
            pos += 8
        elif field_no == 2 and wire == 0:
            ev.step_pos = pos - start
            ev.step, pos = _varint(buf, pos)
            if ev.step >= 1 << 63:
                ev.step -= 1 << 64
            ev.step_len = pos - start - ev.step_pos
        elif field_no == 5 and wire == 2:
            n, pos = _varint(buf, pos)
            sub_end = pos + n
            while pos < sub_end:
                k2, pos = _varint(buf, pos)
                if k2 == 0x0A:
                    m, pos = _varint(buf, pos)
                    v = _parse_value(buf, pos, pos + m)
                    if v.value_pos >= 0:
                        v.value_pos -= start
                    v.tag_pos -= start
                    ev.values.append(v)
                    pos += m
                else:
                    pos = _skip(buf, pos, k2 & 7)
        else:
            ev.other_fields = True
            pos = _skip(buf, pos, wire)
    return ev


# --- record scanning ---------------------------------------------------------------------------

@dataclass
class _Records:
    """The complete records found in one window of the file (offsets relative to the window)."""

    offsets: np.ndarray  # start of each record's data
    lengths: np.ndarray
    consumed: int  # bytes handled; an incomplete record (more to read, or cut off at EOF) starts here
    skipped: list[tuple[int, int]]  # byte ranges that hold no readable record (corrupt length field)


@lru_cache(maxsize=4096)
def _length_crc(length: int) -> int:
    return masked_crc(_U64.pack(length))


def _resync(arr: np.ndarray, start: int) -> int | None:
    """First offset at or after ``start`` where a record header (length + its CRC) checks out.

    A damaged length field leaves no way to know where the next record starts, so look for the
    next 12 bytes whose CRC matches: a chance match is a 1 in 2**32 event per offset.
    """
    last = arr.shape[0] - 12
    a, block = start, 4096  # the next record is usually close: look near first, then further
    while a <= last:
        b = min(a + block, last + 1)
        win = sliding_window_view(arr[a:b + 11], 12)
        stored = (win[:, 8].astype(np.uint32) | (win[:, 9].astype(np.uint32) << 8)
                  | (win[:, 10].astype(np.uint32) << 16) | (win[:, 11].astype(np.uint32) << 24))
        hit = np.nonzero(mask(crc32c_rows(win[:, :8])) == stored)[0]
        if hit.size:
            return a + int(hit[0])
        a, block = b, min(block * 8, 1 << 20)
    return None


def _gallop(arr: np.ndarray, size: int, pos: int, recent: list[int]) -> tuple[list[np.ndarray], int]:
    """Predict the next records from the repeating pattern of recent lengths; keep those that match.

    Writers repeat the same few tags, so record lengths repeat with a short period. Checking a
    predicted length (and its CRC) with numpy is far cheaper than a Python loop per record.
    """
    period = next((p for p in range(1, 9) if len(recent) >= 2 * p and recent[-p:] == recent[-2 * p:-p]), 0)
    if not period:
        return [], pos
    pattern = np.array(recent[-period:], dtype=np.int64)
    pattern_crc = np.array([_length_crc(int(n)) for n in pattern], dtype=np.uint32)
    found: list[np.ndarray] = []
    batch = 1024 * period
    byte_idx = np.arange(12, dtype=np.int64)
    while True:
        lens = np.tile(pattern, batch // period)
        crcs = np.tile(pattern_crc, batch // period)
        steps = lens + 16
        starts = pos + np.concatenate(([0], np.cumsum(steps[:-1])))
        inside = np.nonzero(starts + steps > size)[0]
        usable = int(inside[0]) if inside.size else batch
        if usable == 0:
            return found, pos
        head = arr[starts[:usable, None] + byte_idx]
        got = head[:, :8].copy().view("<u8").ravel()
        got_crc = head[:, 8:].copy().view("<u4").ravel()
        bad = np.nonzero((got != lens[:usable].astype(np.uint64)) | (got_crc != crcs[:usable]))[0]
        good = int(bad[0]) if bad.size else usable
        if good:
            found.append(np.stack([starts[:good] + 12, lens[:good]]))
            pos = int(starts[good - 1] + steps[good - 1])
        if good < batch:
            return found, pos
        batch = min(batch * 4, (1 << 18) // period * period)


def scan_records(buf: bytes | bytearray, eof: bool = True) -> _Records:
    """Find the records of one window; stop before an incomplete one (read on, or cut off at EOF)."""
    size = len(buf)
    arr = np.frombuffer(buf, dtype=np.uint8)
    chunks: list[np.ndarray] = []
    offs: list[int] = []
    lens: list[int] = []
    skipped: list[tuple[int, int]] = []
    pos, next_try = 0, 16
    while size - pos >= 12:
        length = _U64.unpack_from(buf, pos)[0]
        if _U32.unpack_from(buf, pos + 8)[0] != _length_crc(length):
            found_at = _resync(arr, pos + 1)
            if found_at is None:  # keep the last bytes: a header may start there and end in the next window
                stop = size if eof else max(pos + 1, size - 11)
                skipped.append((pos, stop))
                pos = stop
                break
            skipped.append((pos, found_at))
            pos = found_at
            continue
        if pos + 16 + length > size:
            break
        offs.append(pos + 12)
        lens.append(length)
        pos += 16 + length
        if len(lens) >= next_try:
            found, pos = _gallop(arr, size, pos, lens[-16:])
            if found:
                chunks.append(np.array([offs, lens], dtype=np.int64).reshape(2, -1))
                chunks.extend(found)
                offs, lens = [], []
                next_try = 16
            else:
                next_try = len(lens) + 64
    chunks.append(np.array([offs, lens], dtype=np.int64).reshape(2, -1))
    both = np.concatenate(chunks, axis=1)
    return _Records(both[0], both[1], pos, skipped)


# --- decoding records --------------------------------------------------------------------------

class _TagData:
    """The points of one tag as they are found; record numbers restore the file order at the end.

    Points found one at a time go into ``array`` buffers (8 bytes a number, not a Python object).
    """

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.records, self.steps, self.values, self.walls = array("q"), array("d"), array("d"), array("d")

    def add(self, order: np.ndarray, steps: np.ndarray, values: np.ndarray, walls: np.ndarray) -> None:
        self.chunks.append((order.astype(np.int64), steps.astype(np.float64), values.astype(np.float64),
                            walls.astype(np.float64)))

    def add_one(self, record: int, step: int, value: float, wall: float) -> None:
        self.records.append(record)
        self.steps.append(step)
        self.values.append(value)
        self.walls.append(wall)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        parts = list(self.chunks)
        if len(self.records):
            parts.append((np.frombuffer(self.records, dtype=np.int64), np.frombuffer(self.steps),
                          np.frombuffer(self.values), np.frombuffer(self.walls)))
        if len(parts) == 1:  # one piece is in file order already
            return parts[0][1], parts[0][2], parts[0][3]
        order = np.concatenate([p[0] for p in parts])
        sort = None if np.all(order[1:] > order[:-1]) else np.argsort(order, kind="stable")
        out = []
        for k in (1, 2, 3):
            col = np.concatenate([p[k] for p in parts])
            out.append(col if sort is None else col[sort])
        return out[0], out[1], out[2]


@dataclass
class _Collected:
    """Everything decoded so far from one file."""

    tags: dict[bytes, _TagData] = field(default_factory=dict)
    plugins: dict[bytes, str] = field(default_factory=dict)
    corrupt: list[int] = field(default_factory=list)  # file offsets of records whose data CRC failed
    malformed: list[int] = field(default_factory=list)  # CRC fine, but not a readable Event
    records: int = 0

    def tag(self, name: bytes) -> _TagData:
        data = self.tags.get(name)
        if data is None:
            data = self.tags[name] = _TagData()
        return data


def _varint_columns(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode a fixed-width varint column block (rows x k bytes); also return which rows are valid."""
    k = block.shape[1]
    if k == 0:
        return np.zeros(block.shape[0], dtype=np.float64), np.ones(block.shape[0], dtype=bool)
    ok = (block[:, -1] & 0x80) == 0
    if k > 1:
        ok &= ((block[:, :-1] & 0x80) != 0).all(axis=1)
    parts = (block.astype(np.uint64) & np.uint64(0x7F)) << (np.arange(k, dtype=np.uint64) * np.uint64(7))
    return parts.sum(axis=1, dtype=np.uint64).view(np.int64).astype(np.float64), ok


@lru_cache(maxsize=4096)
def _byte_effect(trailing: int) -> np.ndarray:
    """CRC32C contribution (zero start) of each byte value followed by ``trailing`` zero bytes."""
    crc = TABLE.copy()
    for _ in range(trailing):
        crc = TABLE[crc & 0xFF] ^ (crc >> np.uint32(8))
    return crc


def _layout_crcs(mat: np.ndarray, template: np.ndarray, variable: np.ndarray, length: int) -> np.ndarray:
    """CRC32C of rows that equal ``template`` outside the ``variable`` byte positions.

    CRC is linear: crc(row) = crc(template) ^ crc0(row ^ template), and row ^ template is zero
    except at the few variable bytes (wall time, step, value), so only those need a table lookup.
    """
    crc = np.full(mat.shape[0], crc32c(template[:length].tobytes()), dtype=np.uint32)
    for i in np.nonzero(variable[:length])[0]:
        crc ^= _byte_effect(length - 1 - int(i))[mat[:, i] ^ template[i]]
    return crc


def _decode_layout_group(mat: np.ndarray, rows: np.ndarray, ev: _Event, length: int,
                         got: _Collected, offsets: np.ndarray, base: int) -> np.ndarray:
    """Decode every row of ``mat`` (record bytes + data CRC) that has the template's layout.

    Rows may differ from the template in wall time, step, value and the tag's bytes (another tag
    of the same length: thousands of tags cost one template, not one each). Returns the mask of
    rows handled: decoded, or same layout but failing their CRC (corrupt).
    """
    val = ev.values[0]
    width = np.dtype(val.dtype).itemsize
    variable = np.zeros(mat.shape[1], dtype=bool)
    if ev.wall_pos >= 0:
        variable[ev.wall_pos:ev.wall_pos + 8] = True
    if ev.step_pos >= 0:
        variable[ev.step_pos:ev.step_pos + ev.step_len] = True
    variable[val.value_pos:val.value_pos + width] = True
    variable[length:] = True  # the stored CRC
    tag_span = slice(val.tag_pos, val.tag_pos + len(val.tag))
    fixed = ~variable
    fixed[tag_span] = False
    template = mat[0]
    match = (mat[:, fixed] == template[fixed]).all(axis=1)
    if ev.step_pos >= 0:
        steps, ok = _varint_columns(mat[:, ev.step_pos:ev.step_pos + ev.step_len])
        match &= ok
    else:
        steps = np.zeros(mat.shape[0])
    sel = np.nonzero(match)[0]
    # usually every row matches: then slices, not copies
    sub = mat if sel.shape[0] == mat.shape[0] else mat[sel]
    tag_bytes = sub[:, tag_span]
    one_tag = bool((tag_bytes == template[tag_span]).all())
    if not one_tag:
        variable[tag_span] = True
    stored = np.ascontiguousarray(sub[:, length:length + 4]).view("<u4").ravel()
    crc_ok = mask(_layout_crcs(sub, template, variable, length)) == stored
    if not crc_ok.all():
        got.corrupt.extend((base + offsets[rows[sel[~crc_ok]]]).tolist())
        sel, sub, tag_bytes = sel[crc_ok], sub[crc_ok], tag_bytes[crc_ok]
    if ev.wall_pos >= 0:
        walls = np.ascontiguousarray(sub[:, ev.wall_pos:ev.wall_pos + 8]).view("<f8").ravel()
    else:
        walls = np.full(sel.shape[0], np.nan)
    values = np.ascontiguousarray(sub[:, val.value_pos:val.value_pos + width]).view(val.dtype).ravel()
    order, steps = rows[sel] + got.records, steps[sel]
    groups: list[tuple[bytes, Any]]
    if one_tag:
        groups = [(val.tag, slice(None))]
    else:  # rows of each tag, in file order
        keys = np.ascontiguousarray(tag_bytes).view(np.dtype((np.void, tag_bytes.shape[1]))).ravel()
        uniq, inverse = np.unique(keys, return_inverse=True)
        by_tag = np.argsort(inverse, kind="stable")
        bounds = np.flatnonzero(np.diff(inverse[by_tag])) + 1
        groups = [(uniq[inverse[g[0]]].tobytes(), g) for g in np.split(by_tag, bounds) if g.shape[0]]
    for tag, g in groups:
        got.tag(tag).add(order[g], steps[g], values[g], walls[g])
        if val.plugin:
            got.plugins.setdefault(tag, val.plugin)
    return match


def _is_simple(ev: _Event) -> bool:
    return (not ev.other_fields and len(ev.values) == 1 and ev.values[0].value is not None
            and ev.values[0].value_pos >= 0)


def _parse_or_none(buf, start: int, end: int) -> _Event | None:
    try:
        return parse_event(buf, start, end)
    except (ValueError, IndexError, struct.error):
        return None


def _data_crc_ok(arr: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Check the data CRC of each record (short ones together, in numpy)."""
    stored = arr[(offsets + lengths)[:, None] + np.arange(4)].copy().view("<u4").ravel()
    ok = np.zeros(offsets.shape[0], dtype=bool)
    short = lengths <= _MAX_LAYOUT_LEN
    ok[short] = mask(crc32c_many(arr, offsets[short], lengths[short])) == stored[short]
    for g in np.nonzero(~short)[0].tolist():
        ok[g] = masked_crc(arr[offsets[g]:offsets[g] + lengths[g]]) == stored[g]
    return ok


def _decode_one_by_one(buf: bytes | bytearray, recs: _Records, todo: np.ndarray, got: _Collected, base: int) -> None:
    """Records that fit no layout: parse each; check the CRC of those that hold a scalar, in bulk."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    for c0 in range(0, todo.shape[0], 4096):
        batch = todo[c0:c0 + 4096]
        parsed = []
        for i in batch.tolist():
            start, length = int(recs.offsets[i]), int(recs.lengths[i])
            ev = _parse_or_none(buf, start, start + length)
            # A short record is always checked: a flipped bit could make a scalar event look like
            # one that holds nothing. A long one (image, histogram) that adds no point or plugin
            # name cannot change a curve, and is not hashed.
            if length <= _MAX_LAYOUT_LEN or ev is None or any(v.value is not None or v.plugin for v in ev.values):
                parsed.append((i, ev))
        if not parsed:
            continue
        idx = np.array([i for i, _ in parsed], dtype=np.int64)
        ok = _data_crc_ok(arr, recs.offsets[idx], recs.lengths[idx])
        for (i, ev), good in zip(parsed, ok.tolist()):
            offset = base + int(recs.offsets[i]) - 12
            if not good:
                got.corrupt.append(offset)
            elif ev is None:
                got.malformed.append(offset)
            else:
                for v in ev.values:
                    if v.plugin:
                        got.plugins.setdefault(v.tag, v.plugin)
                    if v.value is not None:
                        got.tag(v.tag).add_one(got.records + i, ev.step, v.value, ev.wall_time)


def decode_records(buf: bytes | bytearray, recs: _Records, got: _Collected, base: int = 0, fast: bool = True) -> None:
    """Add every scalar point of the window's records to ``got`` (``base``: the window's file offset).

    ``fast=False`` decodes every record one by one (the reference the fast path is tested against).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    n = recs.offsets.shape[0]
    done = np.zeros(n, dtype=bool)
    order = np.argsort(recs.lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(recs.lengths[order])) + 1
    record_starts = recs.offsets - 12
    for group in np.split(order, bounds) if fast and n else ():
        length = int(recs.lengths[group[0]])
        if group.shape[0] < 8 or length > _MAX_LAYOUT_LEN:
            continue
        cols = np.arange(length + 4, dtype=np.int64)  # the record and its data CRC
        chunk = max(64, (1 << 20) // (length + 4))  # bounds the index matrix to ~8 MB
        for c0 in range(0, group.shape[0], chunk):
            rows = group[c0:c0 + chunk]  # in file order: the sort by length is stable
            mat = arr[recs.offsets[rows, None] + cols]
            remaining = np.arange(rows.shape[0])
            for _attempt in range(16):
                if remaining.shape[0] < 4:
                    break
                ev = _parse_or_none(mat[remaining[0], :length].tobytes(), 0, length)
                if ev is None or not _is_simple(ev):
                    remaining = remaining[1:]
                    continue
                matched = _decode_layout_group(mat[remaining], rows[remaining], ev, length, got,
                                               record_starts, base)
                done[rows[remaining[matched]]] = True
                remaining = remaining[~matched]
    _decode_one_by_one(buf, recs, np.nonzero(~done)[0], got, base)
    got.records += n


# --- one file ----------------------------------------------------------------------------------

def _tag_names(raw_tags: list[bytes]) -> tuple[dict[bytes, str], list[str]]:
    """Readable, distinct names for raw tags; invalid UTF-8 is shown as \\x escapes, never merged."""
    names: dict[bytes, str] = {}
    used: set[str] = set()
    odd: list[str] = []
    for raw in sorted(raw_tags):
        name = raw.decode("utf-8", "backslashreplace")
        if name != raw.decode("utf-8", "replace"):
            odd.append(name)
        while name in used:  # a valid tag spelled like another's escapes: keep both
            name += "'"
        used.add(name)
        names[raw] = name
    return names, odd


def _damage_notes(path: Path, got: _Collected, skipped: list[tuple[int, int]], size: int) -> list[Note]:
    notes = []
    if got.corrupt or skipped:
        parts = []
        if got.corrupt:
            first = ", ".join(str(o) for o in got.corrupt[:3]) + (" ..." if len(got.corrupt) > 3 else "")
            parts.append(f"{len(got.corrupt)} record(s) failed their CRC check (at byte {first})")
        if skipped:
            lost = sum(b - a for a, b in skipped)
            spans = ", ".join(f"{a}-{b}" for a, b in skipped[:3]) + (" ..." if len(skipped) > 3 else "")
            parts.append(f"{lost} byte(s) with a damaged record length skipped (bytes {spans})")
        notes.append(Note("corrupt", f"{path.name}: {'; '.join(parts)}; those records were left out and the "
                                     f"rest of the {size}-byte file was read"))
    if got.malformed:
        notes.append(Note("corrupt", f"{path.name}: {len(got.malformed)} record(s) with a valid CRC are not "
                                     f"TensorBoard events (first at byte {got.malformed[0]}); left out"))
    return notes


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def read_event_file(path: Path, fast: bool = True, window: int = _WINDOW
                    ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], list[Note]]:
    """Every scalar point of one event file: {tag: (steps, values, wall_times)}, plus notes.

    The file is read a window at a time and only scalar points are kept, so memory follows the
    scalar data, not the file size (histograms and images are never held beyond their window).
    Records failing their CRC are left out and reported in a note; a damaged length field is
    skipped to the next valid record.
    """
    try:
        return _read_event_file(path, fast, window)
    except MemoryError:
        raise InputError(path, "out of memory while reading the event file") from None


def _read_event_file(path: Path, fast: bool, window: int):
    got = _Collected()
    skipped: list[tuple[int, int]] = []
    notes: list[Note] = []
    with path.open("rb") as fh:
        file_size = os.fstat(fh.fileno()).st_size
        buf = bytearray(min(window, file_size))
        del buf[fh.readinto(buf):]
        if not buf:
            raise InputError(path, "empty event file")
        if not looks_like_event_file(buf[:12]):
            raise InputError(path, "not a TensorBoard event file (no TFRecord header: the first 12 bytes are "
                                   "not a record length with its CRC)")
        base = 0  # file offset of buf[0]
        while True:
            recs = scan_records(buf, eof=False)
            decode_records(buf, recs, got, base, fast)
            skipped.extend((base + a, base + b) for a, b in recs.skipped)
            tail = bytes(buf[recs.consumed:])
            del buf  # before the next window is allocated: one window in memory at a time
            base += recs.consumed
            need = window
            if len(tail) >= 12 and _U32.unpack_from(tail, 8)[0] == _length_crc(_U64.unpack_from(tail)[0]):
                record_end = base + 16 + _U64.unpack_from(tail)[0]
                if record_end > file_size:
                    break  # cut off: the file ends inside this record
                need = max(window, record_end - base - len(tail))  # a record longer than a window
            # the size at opening bounds the read: bytes a live writer appends later are not waited for
            need = min(need, file_size - base - len(tail))
            if need <= 0:
                break
            buf = bytearray(len(tail) + need)
            buf[:len(tail)] = tail
            got_bytes = fh.readinto(memoryview(buf)[len(tail):])
            if not got_bytes:
                break
            del buf[len(tail) + got_bytes:]
        if tail and skipped and skipped[-1][1] == base:  # the damage runs to the end of the file
            skipped.append((base, base + len(tail)))
        elif tail:  # the end of the file: an incomplete record, or damage
            recs = scan_records(tail, eof=True)
            skipped.extend((base + a, base + b) for a, b in recs.skipped)
            if recs.consumed < len(tail):
                notes.append(Note("truncated", f"{path.name}: last record cut off at byte {base + recs.consumed} "
                                               f"of {base + len(tail)} (run killed mid-write?); read the "
                                               f"{got.records} complete records before it"))
    size = file_size
    del tail
    notes.extend(_damage_notes(path, got, _merge_spans(skipped), size))
    names, odd = _tag_names(list(got.tags))
    if odd:
        notes.append(Note("tag_names", f"{path.name}: tag(s) not valid UTF-8, shown with \\x escapes: "
                                       f"{', '.join(odd[:5])}"))
    out = {}
    for raw in list(got.tags):
        data = got.tags.pop(raw)  # free each tag's pieces as soon as its arrays are built
        if got.plugins.get(raw, "scalars") not in _SCALAR_PLUGINS:
            continue  # a one-element tensor of another plugin (e.g. hparams, pr_curves)
        out[names[raw]] = data.arrays()
    return out, notes


# --- runs: which event files make one run ------------------------------------------------------

# Writers (TensorFlow, torch, tensorboardX) name their files events.out.tfevents.<time>.<host>...;
# a folder of such files is one run, as TensorBoard reads it.
EVENT_FILE_PREFIX = "events.out.tfevents."
# Never sniffed for TensorBoard content: logs of the other readers and the bulky files kept beside
# logs (checkpoints, images, code), so a big tree costs one name test for most of its files.
_NOT_EVENT_SUFFIXES = frozenset((
    "csv", "tsv", "json", "jsonl", "ndjson", "log", "txt", "md", "yaml", "yml", "toml", "gz", "py", "ipynb",
    "sh", "html", "png", "jpg", "jpeg", "gif", "svg", "pdf", "mp4", "pt", "pth", "ckpt", "h5", "hdf5", "keras",
    "safetensors", "bin", "npy", "npz", "pkl", "onnx", "pb", "index", "data-00000-of-00001", "zip", "tar",
))


def is_event_file_name(name: str) -> bool:
    """A file named as TensorBoard writers name their event files."""
    return name.startswith(EVENT_FILE_PREFIX)


def sniff_event_file(path: str | Path) -> bool:
    """True when the file starts with a TFRecord (u64 length, then the masked CRC32C of those 8
    bytes): 12 bytes are read, never more. Non-blocking, so a FIFO in a log tree cannot hang the walk."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        head = os.read(fd, 12)
    except OSError:  # a directory, a FIFO with no writer
        return False
    finally:
        os.close(fd)
    return looks_like_event_file(head)


def event_files(folder: str | Path, names: list[str]) -> tuple[list[str], list[str]]:
    """The event files among a folder's file names: (named as writers name them, which make the
    folder one run; others found by their content, e.g. renamed copies, each a run of its own)."""
    named, renamed = [], []
    for name in sorted(names):
        if name.startswith(EVENT_FILE_PREFIX):
            if os.path.isfile(os.path.join(folder, name)):  # a dangling symlink is not an event file
                named.append(name)
        elif (name[:1] != "." and name.rpartition(".")[2].lower() not in _NOT_EVENT_SUFFIXES
              and sniff_event_file(os.path.join(folder, name))):
            renamed.append(name)
    return named, renamed


def _event_dirs(root: Path) -> tuple[dict[Path, list[Path]], list[Path]]:
    """Every folder below ``root`` that directly holds writer-named event files, with those files
    (sorted), and the event files found by their content (each one run)."""
    found: dict[Path, list[Path]] = {}
    lone: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow symlinked folders: no loops
        dirnames.sort()
        named, renamed = event_files(dirpath, filenames)
        if named:
            found[Path(dirpath)] = [Path(dirpath) / f for f in named]
        lone.extend(Path(dirpath) / f for f in renamed)
    return found, lone


def find_event_files(root: Path) -> list[Path]:
    found, lone = _event_dirs(root)
    return [f for files in found.values() for f in files] + lone


# Keras's TensorBoard callback writes <log_dir>/train and <log_dir>/validation: one run, two splits.
_KERAS_SPLIT_DIRS = {"train": "", "validation": "val_", "eval": "val_", "val": "val_"}
_KERAS_VAL_DIRS = ("validation", "eval", "val")


def keras_split_entries(parent: Path) -> list[str]:
    """The names in ``parent`` that Keras gives its split folders, whatever stands there (a folder,
    or a broken link or a file where the folder should be: the reader reports those)."""
    try:
        return sorted(n for n in os.listdir(parent) if n in _KERAS_SPLIT_DIRS)
    except OSError:
        return []


def is_keras_pair(names: list[str] | set[str]) -> bool:
    """The one rule for Keras's layout: ``train`` beside ``validation`` (or ``eval``/``val``)."""
    return "train" in names and any(v in names for v in _KERAS_VAL_DIRS)


def run_folder(folder: Path, root: Path) -> Path:
    """The run a folder of writer-named event files belongs to: itself, as in TensorBoard, except a
    Keras split folder of a train/ + validation/ pair (the run is their parent) and a torch
    ``add_scalars`` sub-folder (part of the run of the folder above it)."""
    if folder == root:
        return folder
    if folder.name in _KERAS_SPLIT_DIRS and is_keras_pair(keras_split_entries(folder.parent)):
        return folder.parent
    try:
        return folder.parent if is_add_scalars_folder(folder) else folder
    except OSError:
        return folder


def unreadable_splits(run: Path) -> list[tuple[Path, str]]:
    """The split folders of a Keras pair run that cannot be listed, with why."""
    entries = keras_split_entries(run)
    if not is_keras_pair(entries):
        return []
    problems = []
    for name in entries:
        try:
            os.listdir(run / name)
        except NotADirectoryError:
            problems.append((run / name, "a file stands where the folder should be"))
        except FileNotFoundError:
            problems.append((run / name, "a symbolic link to nothing"))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                problems.append((run / name, "a symbolic link loop"))
                continue
            problems.append((run / name, exc.strerror or str(exc)))
    return problems


def _tags_of(files: list[Path]) -> set[str]:
    tags: set[str] = set()
    for f in files:
        try:
            tags |= set(read_event_file(f)[0])
        except InputError:
            return set()
    return tags


def _add_scalars_key(folder: str, tags: set[str]) -> tuple[str, str] | None:
    """(main tag, key) when a folder is torch ``add_scalars(main_tag, {key: ...})``'s output.

    torch writes each key to ``<log_dir>/<main_tag with / as _>_<key>/`` under the tag ``main_tag``.
    """
    if len(tags) != 1:
        return None
    (tag,) = tags
    prefix = tag.replace("/", "_") + "_"
    if folder.startswith(prefix) and len(folder) > len(prefix):
        return tag, folder[len(prefix):]
    return None


def is_add_scalars_folder(folder: Path) -> bool:
    """True for a torch ``add_scalars`` sub-folder (``Loss_train/``): part of the run above it."""
    if "_" not in folder.name or not any(is_event_file_name(f.name) for f in folder.parent.iterdir() if f.is_file()):
        return False
    files = sorted(f for f in folder.iterdir() if is_event_file_name(f.name) and f.is_file())
    return bool(files) and _add_scalars_key(folder.name, _tags_of(files)) is not None


def _group_runs(root: Path) -> dict[Path, list[Path]]:
    """Run -> its event files: each folder of writer-named event files grouped by :func:`run_folder`
    (top-down, so a run's own files come before its sub-folders'), and each event file found by its
    content alone."""
    dirs, lone = _event_dirs(root)
    runs: dict[Path, list[Path]] = {}
    for d, files in dirs.items():
        runs.setdefault(run_folder(d, root), []).extend(files)
    for f in lone:
        runs[f] = [f]
    return {run: runs[run] for run in sorted(runs)}


def find_runs(root: Path) -> list[Path]:
    """Every TensorBoard run below ``root`` (a folder), as TensorBoard lists them: each folder that
    directly holds event files, except that a Keras ``train/`` + ``validation/`` pair is one run
    (their parent) and torch ``add_scalars`` sub-folders are part of the run above them; an event
    file under another name (found by its content) is a run of its own."""
    if not root.is_dir():
        return [root]
    return list(_group_runs(root))


def _run_files(path: Path) -> tuple[Path, list[Path]]:
    """The run folder and its event files for a path given by the user."""
    runs = _group_runs(path)
    if not runs:
        raise InputError(path, "directory holds no TensorBoard event files")
    if path in runs:
        run, files = path, runs[path]
    elif len(runs) == 1:
        run, files = next(iter(runs.items()))
    else:
        names = ", ".join(r.relative_to(path).as_posix() for r in list(runs)[:3]) + (" ..." if len(runs) > 3 else "")
        raise InputError(path, f"holds {len(runs)} TensorBoard runs ({names}): give one run folder at a time, "
                               f"never one run mixed with another")
    for split, why in unreadable_splits(run):  # half a Keras run read as a whole one would mislead
        raise InputError(split, f"cannot read this Keras split folder ({why}); the run is not analysed "
                                f"without it")
    return (run.parent if run in files else run), files


# --- runs: reading them ------------------------------------------------------------------------

def _series_name(tag: str, folder: str, split_dir: str, keras_layout: bool, multiple_folders: bool,
                 add_scalars: tuple[str, str] | None) -> str | None:
    if keras_layout:
        prefix = _KERAS_SPLIT_DIRS.get(split_dir)
        if prefix is None or not tag.startswith("epoch_"):
            return None
        return prefix + tag[len("epoch_"):]
    if add_scalars:  # "Loss" in Loss_train/ and Loss_val/ -> Loss_train, Loss_val: a train/val pair
        return f"{add_scalars[0]}_{add_scalars[1]}"
    return f"{folder}/{tag}" if multiple_folders and folder else tag


def _read_files(run_dir: Path, files: list[Path]) -> tuple[list[tuple[Path, dict]], list[Note]]:
    """Read every file of a run; with several files, one unreadable file is reported, not fatal."""
    per_file, notes = [], []
    errors: list[InputError] = []
    for f in files:
        try:
            data, file_notes = read_event_file(f)
        except InputError as exc:
            errors.append(exc)
            continue
        notes.extend(file_notes)
        per_file.append((f, data))
    if not per_file:
        raise errors[0]
    notes.extend(Note("unreadable", f"{error} (left out; the run's other event files were read)") for error in errors)
    return per_file, notes


def _lightning_notes(merged: dict[str, list]) -> list[Note]:
    """Lightning logs an ``epoch`` tag (the epoch at each logged step) and a placeholder hp_metric."""
    notes = []
    hp = merged.get("hp_metric")
    if hp and all(np.all(p[1] == -1) for p in hp):
        del merged["hp_metric"]
        notes.append(Note("dropped_tags", "hp_metric is Lightning's placeholder (-1, no hyperparameter "
                                          "metric logged): left out"))
    if "epoch" in merged and len(merged) > 1:
        steps = np.concatenate([p[0] for p in merged["epoch"]])
        epochs = np.concatenate([p[1] for p in merged["epoch"]])
        if steps.shape[0] and np.all(np.isfinite(epochs)):
            notes.append(Note("epochs", f"step-based log with an 'epoch' tag (Lightning): x is the step; series "
                                        f"'epoch' gives the epoch at each step (epochs {int(epochs.min())}-"
                                        f"{int(epochs.max())} over steps {int(steps.min())}-{int(steps.max())})"))
    return notes


def read_tensorboard(path: Path, *, segment: int | None = None,
                     directions: dict[str, str] | None = None) -> Run:
    """One TensorBoard run: an event file, a run folder, or a folder holding exactly one run."""
    try:
        return _read_tensorboard(path, segment, directions or {})
    except MemoryError:
        raise InputError(path, "out of memory while reading the TensorBoard run") from None


def _read_tensorboard(path: Path, segment: int | None, directions: dict[str, str]) -> Run:
    run_dir, files = _run_files(path) if path.is_dir() else (path.parent, [path])
    per_file, notes = _read_files(run_dir, files)
    folders = {}
    for f, data in per_file:
        folder = f.parent.relative_to(run_dir).as_posix() if f.parent != run_dir else ""
        # the split of a Keras folder comes from its name, also when it is given alone
        split_dir = folder.split("/")[-1] if folder else f.parent.name
        folders[f] = (folder, split_dir, _add_scalars_key(folder, set(data)) if "/" not in folder and folder else None)
    all_tags = {t for _, d in per_file for t in d}
    keras_tags = (bool(all_tags) and all(t.startswith(("epoch_", "batch_", "evaluation_")) for t in all_tags)
                  and any(t.startswith("epoch_") for t in all_tags))
    if keras_tags and not path.is_dir() and folders[path][1] not in _KERAS_SPLIT_DIRS:
        # one Keras event file moved out of its train/ or validation/ folder: only the validation
        # file holds evaluation_*_vs_iterations tags
        split = "validation" if any(t.startswith("evaluation_") for t in all_tags) else "train"
        folders[path] = ("", split, None)
        notes.append(Note("keras_split", f"Keras TensorBoard file outside a train/ or validation/ folder: read as "
                                         f"the {split} file ({'it has' if split == 'validation' else 'no'} "
                                         f"evaluation_* tags)"))
    keras_layout = keras_tags and all(sd in _KERAS_SPLIT_DIRS for _, sd, _ in folders.values())
    multiple = len({fo for fo, _, _ in folders.values()}) > 1
    merged: dict[str, list] = {}
    skipped: set[str] = set()
    for f, data in per_file:
        folder, split_dir, add_scalars = folders[f]
        for tag, arrays in data.items():
            name = _series_name(tag, folder, split_dir, keras_layout, multiple, add_scalars)
            if name is None:
                skipped.add(tag)
                continue
            merged.setdefault(name, []).append(arrays)
    if skipped:
        notes.append(Note("dropped_tags", f"batch-level tags on a step axis ignored in this per-epoch run: "
                                          f"{', '.join(sorted(skipped))}"))
    if not keras_layout:
        notes.extend(_lightning_notes(merged))
    if not merged:
        raise InputError(path, "no scalar summaries found in the event file(s)")
    return _assemble(path, merged, keras_layout, segment, directions, notes)


def _assemble(path: Path, merged: dict[str, list], keras_layout: bool, segment: int | None,
              directions: dict[str, str], notes: list[Note]) -> Run:
    series: dict[str, Series] = {}
    seg_counts: list[int] = []
    restart_notes: list[str] = []
    overflowed: list[str] = []
    without: list[str] = []  # series that have fewer segments than --segment asks for
    longest_segments: list = []
    for name in sorted(merged):
        parts = merged.pop(name)
        steps = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        walls = np.concatenate([p[2] for p in parts])
        del parts
        huge = np.abs(values) > _FLOAT32_MAX
        if np.any(huge & np.isfinite(values)):
            overflowed.append(name)
            values = np.where(huge, np.copysign(np.inf, values), values)
        starts = segment_starts(steps, strict=True)
        segs = describe_segments(steps, starts)
        seg_counts.append(len(segs))
        if len(segs) > 1:
            restart_notes.append(f"{name} (step {int(steps[starts[1] - 1])} -> {int(steps[starts[1]])})")
            if len(segs) > len(longest_segments):
                longest_segments = segs
        which = segment if (segment is not None and segment <= len(segs)) else None
        if segment is not None and which is None:
            without.append(name)  # no restart of its own: which of its points belong to segment N is unknown
            continue
        rows = select_segment_indices(steps, starts, which) if len(segs) > 1 else np.arange(steps.shape[0])
        series[name] = make_series(name, steps[rows], values[rows], walls[rows], directions.get(name))
    check_segment_choice(path, segment, max(seg_counts))
    if without:
        notes.append(Note("dropped_tags", f"--segment {segment}: left out, since they have fewer segments (no "
                                          f"restart of their own): {', '.join(without[:5])}"
                                          + (" ..." if len(without) > 5 else "")))
    if overflowed:
        notes.append(Note("overflow", f"values beyond the float32 range (|v| > 3.4e38) read as inf, since "
                                      f"arithmetic on them overflows: {', '.join(overflowed[:5])}"
                                      + (" ..." if len(overflowed) > 5 else "")))
    x_axis = "epoch" if keras_layout else "step"
    if longest_segments:
        note = segments_note(longest_segments, segment, x_axis)
        note.message = note.message.replace("appended runs", "segments (the step went backwards: a restart)")
        note.message += f" Restarted series: {', '.join(restart_notes[:5])}" + (" ..." if len(restart_notes) > 5 else "")
        notes.append(note)
    run = Run(source=str(path), format="tensorboard", x_axis=x_axis, series=series, notes=notes,
              segments=longest_segments, selected_segment=segment if longest_segments else None,
              epoch_base=0, framework="keras" if keras_layout else "generic")
    if any(name.startswith(("metrics/mAP", "metrics/accuracy_top1")) for name in series):
        from .ultralytics import add_fitness

        run.framework = "ultralytics"  # Ultralytics' TensorBoard callback: the same tags as results.csv
        add_fitness(run)
    return run
