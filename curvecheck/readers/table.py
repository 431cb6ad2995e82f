"""Reading a delimited text table (CSV/TSV) into numeric columns, for every CSV-based reader.

What a cell means:
- a number, or a written ``nan``/``inf`` (a non-finite value that was really logged);
- a gap: an empty cell or a missing marker (``NA``, ``null``, ``None``, ``-``). A gap is *not*
  NaN: sparse logs (Lightning, W&B exports) leave most cells empty, Keras writes ``NA`` for a
  metric it did not compute. Gaps are left out of the series;
- anything else is a bad cell: a column that is mostly numbers keeps its numbers and the bad
  cells are reported; a column of text (dates, names) is not a curve and is dropped.

Damage is reported, never read as data: a last row without its line end may be cut mid-write
anywhere (even inside a number, or right after a delimiter) and is dropped with a note. Appended runs are split into
blocks, each read under its own header: a repeated header or a new header starts a block; rows
whose cell count changes without a header of their own cannot be named, so they are left out
and reported (reading them under the old header would put values under the wrong names).

Large files go through pandas' C parser when they are clean (one header, full rows, no written
nan); anything unusual falls back to the exact reader below.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..model import Note

_GAP = {"", "na", "n/a", "null", "none", "-"}  # never "nan": a written nan is a logged value
_INF = {"infinity": np.inf, "+infinity": np.inf, "-infinity": -np.inf}
_BAD_SHARE = 0.1  # at most this share of a column's logged cells may be non-numeric
FAST_PATH_BYTES = 1 << 20  # from 1 MiB on, try pandas' C parser first


@dataclass
class Column:
    """One named column of a block: values (NaN where absent) and which cells were logged."""

    values: np.ndarray
    present: np.ndarray
    bad_rows: list[int] = field(default_factory=list)  # 1-based data-row numbers of non-numeric cells


@dataclass
class Block:
    """Rows read under one header."""

    header: list[str]
    columns: dict[str, Column]
    rows: int
    first_line: int  # 1-based line of the header in the file


@dataclass
class Table:
    blocks: list[Block]
    notes: list[Note]
    delimiter: str
    dropped: list[str] = field(default_factory=list)  # text columns

    @property
    def header(self) -> list[str]:
        return self.blocks[0].header


def parse_cell(cell: str) -> float | None:
    """A float (NaN/inf when written so), None for a gap; raises ValueError for text."""
    text = cell.strip()
    if not text or text.lower() in _GAP:
        return None
    try:
        return float(text)
    except ValueError:
        inf = _INF.get(text.lower())
        if inf is None:
            raise
        return inf


def is_number(cell: str) -> bool:
    try:
        parse_cell(cell)
        return True
    except ValueError:
        return False


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _looks_like_header(row: list[str]) -> bool:
    first = next((c for c in row if c.strip()), "")
    if first[:1] in "0123456789-+." and is_number(first):
        return False  # the usual data row, decided on its first cell
    cells = [c.strip() for c in row if c.strip()]
    return len(cells) >= 2 and not any(is_number(c) or c.lower() in _GAP for c in cells)


def header_names(row: list[str]) -> list[str]:
    return [c.strip() for c in row]


def first_line(text: str) -> str:
    """The first non-blank line, without splitting the whole text (a log can be 100 MB)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if line.strip():
            return line.rstrip("\r")
        start = end + 1
    return ""


def parse_table(data: bytes, text: Callable[[], str]) -> Table:
    """Split the log into header blocks of numeric columns (see the module docstring).

    ``data`` is the raw log; ``text()`` its decoded text, asked for only when the fast path
    cannot read the bytes directly.
    """
    if len(data) >= FAST_PATH_BYTES:
        fast = _fast_table(data)
        if fast is not None:
            return fast
    content = text()
    delimiter = sniff_delimiter(first_line(content))
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ValueError(f"not a readable CSV ({exc})") from None
    return _blocks_from_rows(rows, delimiter, content.endswith(("\n", "\r")))


def _blocks_from_rows(rows: list[list[str]], delimiter: str, ends_with_newline: bool) -> Table:
    notes: list[Note] = []
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        return Table([], notes, delimiter)
    if not ends_with_newline and len(numbered) > 1 and numbered[-1][0] == len(rows):
        # Without its line end a row may be cut anywhere, even into a full row of numbers ('0.1234'
        # cut to '0.12', or an empty last cell after a delimiter): no cell of it can be trusted.
        line_no, last = numbered.pop()
        width = len(_current_header(numbered + [(line_no, last)]))
        notes.append(Note("partial_row", f"last line ({line_no}) has no line end, so it may be cut mid-write "
                                         f"({len(last)} of {width} cells): dropped, not read as data"))
    raw_blocks: list[tuple[int, list[str], list[list[str]]]] = []
    orphans: list[tuple[int, int, int]] = []  # (first line, last line, width) of rows without a header
    header_line, header = numbered[0][0], header_names(numbered[0][1])
    body: list[list[str]] = []
    width = len(header)  # cells per data row: the header's, or fewer when every row leaves the last ones out
    for line_no, row in numbered[1:]:
        names = header_names(row) if row[0].strip() == header[0] else None
        if names == header or _looks_like_header(row):
            names = names or header_names(row)
            raw_blocks.append((header_line, header, body))
            header_line, header, body, width = line_no, names, [], len(names)
            continue
        if len(row) > len(header) and _only_gaps(row[len(header):]):
            row = row[: len(header)]  # trailing empty cells (a trailing delimiter)
        if not body and len(row) < len(header):
            width = len(row)  # the writer omits trailing empty cells from the start: they are gaps
        if len(row) != width and len(row) != len(header):
            if orphans and orphans[-1][2] == len(row) and orphans[-1][1] == line_no - 1:
                orphans[-1] = (orphans[-1][0], line_no, len(row))
            else:
                orphans.append((line_no, line_no, len(row)))
            continue
        body.append(row)
    raw_blocks.append((header_line, header, body))
    for first_line, last_line, width in orphans:
        where = f"line {first_line}" if first_line == last_line else f"lines {first_line}-{last_line}"
        notes.append(Note("unnamed_rows", f"{where}: {width} cells where the header above has a different "
                                          f"count, and no header of their own (a run appended with other "
                                          f"columns?): not read, their columns cannot be named"))
    table = Table([], notes, delimiter)
    for first_line, header, body in raw_blocks:
        if body or len(raw_blocks) == 1:
            table.blocks.append(_numeric_block(header, body, first_line, table))
    return table


def _current_header(numbered: list[tuple[int, list[str]]]) -> list[str]:
    for _, row in reversed(numbered[:-1]):
        if _looks_like_header(row):
            return row
    return numbered[0][1]


def _only_gaps(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def _numeric_block(header: list[str], body: list[list[str]], first_line: int, table: Table) -> Block:
    n = len(body)
    columns: dict[str, Column] = {}
    for j, name in enumerate(header):
        key = name or ("index" if j == 0 else f"column {j + 1}")
        if key in columns:  # a second column of one name: read under its position, never over the first
            key = f"{key} (column {j + 1})"
            table.notes.append(Note("duplicate_columns", f"two columns named '{name}': column {j + 1} is "
                                                         f"read as '{key}'"))
        cells = [row[j] if j < len(row) else "" for row in body]
        try:  # the usual column: every cell a number, read by numpy in one go
            columns[key] = Column(np.array(cells, dtype=np.float64), np.ones(n, dtype=bool))
            continue
        except ValueError:
            pass
        values = np.full(n, np.nan)
        present = np.zeros(n, dtype=bool)
        bad: list[int] = []
        for i, cell in enumerate(cells):
            try:
                v = parse_cell(cell)
            except ValueError:
                bad.append(i + 1)
                continue
            if v is not None:
                values[i] = v
                present[i] = True
        logged = int(present.sum()) + len(bad)
        if bad and (not present.any() or len(bad) > _BAD_SHARE * logged):
            if key not in table.dropped:
                table.dropped.append(key)
            continue
        if bad:
            rows = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
            table.notes.append(Note("bad_cells", f"column '{key}': {len(bad)} cell(s) that are not numbers "
                                                 f"(data row {rows}) read as gaps"))
        columns[key] = Column(values, present, bad)
    return Block(header, columns, n, first_line)


# --- the fast path for large clean files -----------------------------------------------------

_NON_FINITE = (b"nan", b"NaN", b"NAN")


def _fast_table(data: bytes) -> Table | None:
    """pandas' C parser for a large file with one header of full rows; None to use the exact path.

    Cheap when the result has no NaN (the usual case): no scan of the text is needed. A NaN can be a
    gap, a written ``nan`` or a short row's missing cells; only then is the text checked, and when
    it holds written ``nan`` or rows of another width the exact reader takes over.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.endswith((b"\n", b"\r")):
        return None  # a last line without its end: the exact reader drops it with a note
    header_end = data.find(b"\n")
    if header_end < 0:
        return None
    try:
        head = data[:header_end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    delimiter = sniff_delimiter(head)
    import pandas as pd

    try:
        df = pd.read_csv(io.BytesIO(data), sep=delimiter, header=0, dtype=np.float64, engine="c",
                         na_values=sorted(_GAP), keep_default_na=False, skip_blank_lines=True)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None  # a text cell, a repeated header, a long row: the exact reader reports it
    header = [str(c).strip() for c in df.columns]
    if header != header_names(head.split(delimiter)):
        return None  # an empty, quoted or repeated header cell: pandas renamed it, the exact reader keeps the file's
    arrays = [df.iloc[:, j].to_numpy(dtype=np.float64) for j in range(len(header))]
    del df
    present = [~np.isnan(a) for a in arrays]
    if not all(p.all() for p in present) and not _only_gaps_are_nan(data, header_end, delimiter, len(header),
                                                                      len(arrays[0]) if arrays else 0):
        return None
    columns = {name or ("index" if j == 0 else f"column {j + 1}"): Column(arrays[j], present[j])
               for j, name in enumerate(header)}
    return Table([Block(header, columns, len(arrays[0]) if arrays else 0, 1)], [], delimiter)


def _only_gaps_are_nan(data: bytes, header_end: int, delimiter: str, width: int, rows: int) -> bool:
    """True when every NaN pandas produced is an empty or NA cell: no written nan, no short row."""
    if b'"' in data or any(data.find(token, header_end) >= 0 for token in _NON_FINITE):
        return False
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return lines - 1 == rows and data.count(delimiter.encode()) == (width - 1) * lines
