"""CRC32C (Castagnoli), as TFRecord uses it, in numpy: many records at once, or one long buffer.

TFRecord stores ``masked_crc(crc32c(bytes))`` after a record's length and after its data. The
stdlib only has the IEEE CRC-32 (zlib), so this computes CRC32C with a 256-entry table. Python
cannot afford a loop per byte over millions of records, so the table step runs over a column of
bytes of many equal-length records at a time (one numpy operation per byte position), and a long
buffer is cut into rows that are processed the same way and then combined (CRC is linear).
"""

from __future__ import annotations

import numpy as np

_POLY = 0x82F63B78  # reflected Castagnoli polynomial
_MASK_DELTA = 0xA282EAD8


def _table() -> np.ndarray:
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(_POLY), crc >> 1).astype(np.uint32)
    return crc


TABLE = _table()
_TABLE_LIST = TABLE.tolist()
_FF = np.uint32(0xFF)
_EIGHT = np.uint32(8)


def crc32c_small(data: bytes) -> int:
    """CRC32C of a short buffer (a plain loop: cheapest below a few hundred bytes)."""
    crc = 0xFFFFFFFF
    table = _TABLE_LIST
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _raw_rows(mat: np.ndarray, crc: np.ndarray) -> np.ndarray:
    """Run the CRC register ``crc`` (one per row) over every column of ``mat`` (rows x bytes)."""
    for j in range(mat.shape[1]):
        crc = TABLE[(crc ^ mat[:, j]) & _FF] ^ (crc >> _EIGHT)
    return crc


def crc32c_rows(mat: np.ndarray) -> np.ndarray:
    """CRC32C of every row of a uint8 matrix (equal-length records), as uint32."""
    start = np.full(mat.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    return _raw_rows(mat, start) ^ np.uint32(0xFFFFFFFF)


def crc32c_many(arr: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC32C of many short records of any lengths inside ``arr`` (uint8), as uint32.

    Records are right-aligned in rows of a common width (a power of two) and zero-padded in front:
    from a zero start register leading zeros change nothing, and the usual all-ones start is the
    same as complementing a record's first 4 bytes. One numpy step per column then serves all rows.
    """
    out = np.empty(offsets.shape[0], dtype=np.uint32)
    tiny = lengths < 4
    for i in np.nonzero(tiny)[0].tolist():
        out[i] = crc32c_small(arr[offsets[i]:offsets[i] + lengths[i]].tobytes())
    width = np.maximum(16, 1 << np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64))
    for w in np.unique(width[~tiny]).tolist():
        group = np.nonzero((width == w) & ~tiny)[0]
        for c0 in range(0, group.shape[0], max(1, (1 << 21) // w)):
            rows = group[c0:c0 + max(1, (1 << 21) // w)]
            lead = (w - lengths[rows])[:, None]
            cols = np.arange(w, dtype=np.int64)[None, :]
            mat = np.where(cols >= lead, arr[np.maximum(offsets[rows, None] + cols - lead, 0)], 0).astype(np.uint8)
            mat[np.arange(rows.shape[0])[:, None], lead + np.arange(4)] ^= 0xFF
            out[rows] = _raw_rows(mat, np.zeros(rows.shape[0], dtype=np.uint32)) ^ np.uint32(0xFFFFFFFF)
    return out


_ROW = 1024  # bytes per row when a long buffer is cut into rows
_SHIFT_CACHE: dict[int, np.ndarray] = {}


def _shift_tables(n: int) -> np.ndarray:
    """4 x 256 tables: the register after ``n`` zero bytes, for each byte of the register before.

    The register update is linear over GF(2), so the effect of n zero bytes on any register is the
    XOR of its effect on each of the register's 4 bytes.
    """
    if n not in _SHIFT_CACHE:
        starts = (np.arange(256, dtype=np.uint32)[None, :] << (np.arange(4, dtype=np.uint32)[:, None] * 8))
        crc = starts.ravel()
        for _ in range(n):
            crc = TABLE[crc & _FF] ^ (crc >> _EIGHT)
        _SHIFT_CACHE[n] = crc.reshape(4, 256)
    return _SHIFT_CACHE[n]


def crc32c(data: bytes | memoryview | np.ndarray) -> int:
    """CRC32C of one buffer of any length."""
    arr = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    n = arr.shape[0]
    if n < 4 * _ROW:
        return crc32c_small(arr.tobytes())
    # With a zero start register, leading zero bytes change nothing; the usual all-ones start is
    # the same as complementing the first 4 bytes. So: complement, pad in front to whole rows,
    # run every row from zero, then fold the rows together, shifting by one row each time.
    pad = (-n) % _ROW
    buf = np.zeros(n + pad, dtype=np.uint8)
    buf[pad:] = arr
    buf[pad:pad + 4] ^= 0xFF
    rows = _raw_rows(buf.reshape(-1, _ROW), np.zeros((n + pad) // _ROW, dtype=np.uint32)).tolist()
    shift = _shift_tables(_ROW).tolist()
    s0, s1, s2, s3 = shift
    acc = 0
    for r in rows:
        acc = s0[acc & 0xFF] ^ s1[(acc >> 8) & 0xFF] ^ s2[(acc >> 16) & 0xFF] ^ s3[acc >> 24] ^ r
    return acc ^ 0xFFFFFFFF


def mask(crc):
    """TFRecord's masking of a CRC (works on ints and on uint32 arrays)."""
    if isinstance(crc, np.ndarray):
        crc = crc.astype(np.uint32)
        return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(_MASK_DELTA)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc(data) -> int:
    return mask(crc32c(data))
