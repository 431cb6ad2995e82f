"""TensorBoard event files, read without TensorFlow and without sampling.

Event files are TFRecords (u64 length | u32 masked CRC of the length | Event proto | u32 masked
CRC of the data). Scalars come in three encodings, all seen in the wild: ``simple_value``
(torch / tensorboardX ``add_scalar``), a tensor with ``float_val``/``double_val``
(tensorboardX ``new_style``), and a tensor with ``tensor_content`` (TF2 ``tf.summary.scalar``, the
Keras callback).

Speed: a writer emits the same tags over and over, so most records share their byte layout and
differ only in wall time, step and value. We parse one record of a layout in Python, check with
numpy which other records of the same length have identical bytes everywhere else, and pull out
wall times, steps and values for all of them at once. Records that fit no layout (file header,
graphs, images, histograms, merged summaries) go through the same parser one by one.

Unlike TensorBoard's own loaders this keeps every point, and reports a step that goes backwards
(a restart) instead of silently dropping the points before it. Data CRCs are not verified (a
truncated file is detected by its lengths, which is what a killed run leaves).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import Note, Run, Series, describe_segments, make_series, segment_starts, select_segment_indices
from .common import check_segment_choice, segments_note

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_F32 = struct.Struct("<f")
_SCALAR_PLUGINS = ("scalars", "")
_DTYPES = {1: ("<f4", 4), 2: ("<f8", 8), 19: ("<f2", 2)}  # DT_FLOAT, DT_DOUBLE, DT_HALF
# TensorProto.float_val (5) and double_val (6): (field, wire type) -> (dtype, packed?)
_VALUE_FIELDS = {(5, 2): ("<f4", True), (5, 5): ("<f4", False), (6, 2): ("<f8", True), (6, 1): ("<f8", False)}


# --- CRC32C, used only to recognise a TFRecord header -------------------------------------------

def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def looks_like_event_file(head: bytes) -> bool:
    """True when the bytes start with a TFRecord whose length CRC checks out."""
    if len(head) < 12:
        return False
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
    tag: str
    value: float | None  # None: not a scalar (image, histogram, text...)
    value_pos: int = -1  # offset of the value bytes inside the record, -1 when not fixed
    dtype: str = ""
    plugin: str | None = None


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
    tag, value, value_pos, dtype, plugin = "", None, -1, "", None
    while pos < end:
        key, pos = _varint(buf, pos)
        field_no, wire = key >> 3, key & 7
        if field_no == 1 and wire == 2:
            n, pos = _varint(buf, pos)
            tag = bytes(buf[pos:pos + n]).decode("utf-8", "replace")
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
    return _Value(tag, value, value_pos, dtype, plugin)


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
    offsets: np.ndarray  # start of each record's data
    lengths: np.ndarray
    truncated_at: int | None  # byte offset of a damaged/incomplete final record


def _gallop(arr: np.ndarray, size: int, pos: int, recent: list[int]) -> tuple[list[np.ndarray], int]:
    """Predict the next records from the repeating pattern of recent lengths; keep those that match.

    Writers repeat the same few tags, so record lengths repeat with a short period. Checking a
    predicted length with numpy is far cheaper than a Python loop per record.
    """
    period = next((p for p in range(1, 9) if len(recent) >= 2 * p and recent[-p:] == recent[-2 * p:-p]), 0)
    if not period:
        return [], pos
    pattern = np.array(recent[-period:], dtype=np.int64)
    found: list[np.ndarray] = []
    batch = 1024 * period
    byte_idx = np.arange(8, dtype=np.int64)
    while True:
        lens = np.tile(pattern, batch // period)
        steps = lens + 16
        starts = pos + np.concatenate(([0], np.cumsum(steps[:-1])))
        inside = np.nonzero(starts + steps > size)[0]
        usable = int(inside[0]) if inside.size else batch
        if usable == 0:
            return found, pos
        got = arr[starts[:usable, None] + byte_idx].view("<u8").ravel()
        bad = np.nonzero(got != lens[:usable].astype(np.uint64))[0]
        good = int(bad[0]) if bad.size else usable
        if good:
            found.append(np.stack([starts[:good] + 12, lens[:good]]))
            pos = int(starts[good - 1] + steps[good - 1])
        if good < batch:
            return found, pos
        batch = min(batch * 4, (1 << 18) // period * period)


def scan_records(buf: bytes) -> _Records:
    size = len(buf)
    arr = np.frombuffer(buf, dtype=np.uint8)
    chunks: list[np.ndarray] = []
    offs: list[int] = []
    lens: list[int] = []
    pos, next_try = 0, 16
    truncated_at = None
    while pos < size:
        if size - pos < 16:
            truncated_at = pos
            break
        length = _U64.unpack_from(buf, pos)[0]
        if pos + 16 + length > size:
            truncated_at = pos
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
    return _Records(both[0], both[1], truncated_at)


# --- decoding all records ----------------------------------------------------------------------

@dataclass
class _TagData:
    order: list[np.ndarray] = field(default_factory=list)  # record index, to restore file order
    steps: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    walls: list[np.ndarray] = field(default_factory=list)

    def add(self, order, steps, values, walls) -> None:
        self.order.append(np.asarray(order, dtype=np.int64))
        self.steps.append(np.asarray(steps, dtype=np.float64))
        self.values.append(np.asarray(values, dtype=np.float64))
        self.walls.append(np.asarray(walls, dtype=np.float64))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.concatenate(self.order)
        sort = np.argsort(order, kind="stable")
        return (np.concatenate(self.steps)[sort], np.concatenate(self.values)[sort],
                np.concatenate(self.walls)[sort])


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


def _decode_layout_group(mat: np.ndarray, rows: np.ndarray, ev: _Event, tags: dict[str, _TagData]) -> np.ndarray:
    """Decode every row of ``mat`` that has the template's layout; return the mask of rows done."""
    val = ev.values[0]
    width = np.dtype(val.dtype).itemsize
    variable = np.zeros(mat.shape[1], dtype=bool)
    if ev.wall_pos >= 0:
        variable[ev.wall_pos:ev.wall_pos + 8] = True
    if ev.step_pos >= 0:
        variable[ev.step_pos:ev.step_pos + ev.step_len] = True
    variable[val.value_pos:val.value_pos + width] = True
    fixed = ~variable
    template = mat[0]
    match = (mat[:, fixed] == template[fixed]).all(axis=1)
    if ev.step_pos >= 0:
        steps, ok = _varint_columns(mat[:, ev.step_pos:ev.step_pos + ev.step_len])
        match &= ok
    else:
        steps = np.zeros(mat.shape[0])
    sel = np.nonzero(match)[0]
    if ev.wall_pos >= 0:
        walls = np.ascontiguousarray(mat[sel, ev.wall_pos:ev.wall_pos + 8]).view("<f8").ravel()
    else:
        walls = np.full(sel.shape[0], np.nan)
    values = np.ascontiguousarray(mat[sel, val.value_pos:val.value_pos + width]).view(val.dtype).ravel()
    tags.setdefault(val.tag, _TagData()).add(rows[sel], steps[sel], values, walls)
    return match


def _is_simple(ev: _Event) -> bool:
    return (not ev.other_fields and len(ev.values) == 1 and ev.values[0].value is not None
            and ev.values[0].value_pos >= 0)


def decode_records(buf: bytes, recs: _Records, fast: bool = True) -> tuple[dict[str, _TagData], dict[str, str]]:
    """All scalar points per tag, and the plugin name each tag declared.

    ``fast=False`` decodes every record one by one (the reference the fast path is tested against).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    tags: dict[str, _TagData] = {}
    plugins: dict[str, str] = {}
    n = recs.offsets.shape[0]
    done = np.zeros(n, dtype=bool)
    chunk = 1 << 15
    for length in np.unique(recs.lengths) if fast else ():
        group = np.nonzero(recs.lengths == length)[0]
        if group.shape[0] < 8:
            continue
        cols = np.arange(int(length), dtype=np.int64)
        for c0 in range(0, group.shape[0], chunk):
            rows = group[c0:c0 + chunk]
            mat = arr[recs.offsets[rows, None] + cols]
            remaining = np.arange(rows.shape[0])
            for _attempt in range(16):
                if remaining.shape[0] < 4:
                    break
                ev = parse_event(mat[remaining[0]].tobytes())
                if not _is_simple(ev):
                    remaining = remaining[1:]
                    continue
                if ev.values[0].plugin:
                    plugins.setdefault(ev.values[0].tag, ev.values[0].plugin)
                matched = _decode_layout_group(mat[remaining], rows[remaining], ev, tags)
                done[rows[remaining[matched]]] = True
                remaining = remaining[~matched]
    for i in np.nonzero(~done)[0]:
        start = int(recs.offsets[i])
        ev = parse_event(buf, start, start + int(recs.lengths[i]))
        for v in ev.values:
            if v.plugin:
                plugins.setdefault(v.tag, v.plugin)
            if v.value is not None:
                tags.setdefault(v.tag, _TagData()).add([i], [ev.step], [v.value], [ev.wall_time])
    return tags, plugins


def read_event_file(path: Path, fast: bool = True) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], list[Note]]:
    """Every scalar point of one event file: {tag: (steps, values, wall_times)}, plus notes."""
    buf = path.read_bytes()
    if not buf:
        raise InputError(path, "empty event file")
    if not looks_like_event_file(buf[:12]):
        raise InputError(path, "not a TensorBoard event file (bad TFRecord header)")
    recs = scan_records(buf)
    notes: list[Note] = []
    if recs.truncated_at is not None:
        notes.append(Note("truncated", f"{path.name}: last record cut off at byte {recs.truncated_at} of "
                                       f"{len(buf)} (run killed mid-write?); read the "
                                       f"{recs.offsets.shape[0]} complete records before it"))
    try:
        tags, plugins = decode_records(buf, recs, fast)
    except (ValueError, IndexError, struct.error) as exc:
        raise InputError(path, f"corrupt event record ({exc})") from None
    del buf, recs  # decoded values are copies: free the file before assembling the series
    out = {}
    for tag, data in tags.items():
        if plugins.get(tag, "scalars") not in _SCALAR_PLUGINS:
            continue  # a one-element tensor of another plugin (e.g. hparams, pr_curves)
        out[tag] = data.arrays()
    return out, notes


# --- runs: a file or a directory ---------------------------------------------------------------

def is_event_file_name(name: str) -> bool:
    return "tfevents" in name


def find_event_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(dirpath) / f for f in sorted(filenames) if is_event_file_name(f))
    return found


_KERAS_SPLIT_DIRS = {"train": "", "validation": "val_", "eval": "val_", "val": "val_"}


def _series_name(tag: str, folder: str, keras_layout: bool, multiple_folders: bool) -> str | None:
    if keras_layout:
        prefix = _KERAS_SPLIT_DIRS.get(folder.split("/")[-1])
        if prefix is None or not tag.startswith("epoch_"):
            return None
        return prefix + tag[len("epoch_"):]
    return f"{folder}/{tag}" if multiple_folders and folder else tag


def read_tensorboard(path: Path, *, segment: int | None = None,
                     directions: dict[str, str] | None = None) -> Run:
    directions = directions or {}
    files = find_event_files(path) if path.is_dir() else [path]
    if not files:
        raise InputError(path, "directory holds no TensorBoard event files (events.out.tfevents.*)")
    base = path if path.is_dir() else path.parent
    per_file = []
    notes: list[Note] = []
    for f in files:
        data, file_notes = read_event_file(f)
        notes.extend(file_notes)
        folder = f.parent.relative_to(base).as_posix() if f.parent != base else ""
        if not path.is_dir():
            folder = f.parent.name  # a lone file from .../validation/ keeps its split
        per_file.append((folder, data))

    all_tags = {t for _, d in per_file for t in d}
    keras_layout = bool(all_tags) and all(t.startswith("epoch_") or t.startswith(("batch_", "evaluation_"))
                                          for t in all_tags) and any(t.startswith("epoch_") for t in all_tags)
    folders = {fo for fo, _ in per_file}
    keras_layout = keras_layout and all(fo.split("/")[-1] in _KERAS_SPLIT_DIRS for fo in folders)
    merged: dict[str, list] = {}
    skipped: set[str] = set()
    for folder, data in per_file:
        for tag, arrays in data.items():
            name = _series_name(tag, folder, keras_layout, len(folders) > 1)
            if name is None:
                skipped.add(tag)
                continue
            merged.setdefault(name, []).append(arrays)
    if skipped:
        notes.append(Note("dropped_tags", f"batch-level tags on a step axis ignored in this per-epoch run: "
                                          f"{', '.join(sorted(skipped))}"))
    if not merged:
        raise InputError(path, "no scalar summaries found in the event file(s)")

    series: dict[str, Series] = {}
    seg_counts: list[int] = []
    restart_notes: list[str] = []
    longest_segments: list = []
    for name, parts in sorted(merged.items()):
        steps = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        walls = np.concatenate([p[2] for p in parts])
        starts = segment_starts(steps, strict=True)
        segs = describe_segments(steps, starts)
        seg_counts.append(len(segs))
        if len(segs) > 1:
            restart_notes.append(f"{name} (step {int(steps[starts[1] - 1])} -> {int(steps[starts[1]])})")
            if len(segs) > len(longest_segments):
                longest_segments = segs
        which = segment if (segment is not None and segment <= len(segs)) else None
        if segment is not None and which is None:
            continue
        rows = select_segment_indices(steps, starts, which) if len(segs) > 1 else np.arange(steps.shape[0])
        series[name] = make_series(name, steps[rows], values[rows], walls[rows], directions.get(name))
    check_segment_choice(path, segment, max(seg_counts))
    x_axis = "epoch" if keras_layout else "step"
    if longest_segments:
        note = segments_note(longest_segments, segment, x_axis)
        note.message = note.message.replace("appended runs", "segments (the step went backwards: a restart)")
        note.message += f" Restarted series: {', '.join(restart_notes[:5])}" + (" ..." if len(restart_notes) > 5 else "")
        notes.append(note)
    return Run(source=str(path), format="tensorboard", x_axis=x_axis, series=series, notes=notes,
               segments=longest_segments, selected_segment=segment if longest_segments else None,
               epoch_base=0)
