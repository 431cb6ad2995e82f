"""Readers: detect a log's format from its content and turn it into a :class:`~curvecheck.model.Run`.

The formats are declared once, in :data:`~curvecheck.readers.registry.READERS`; each reader is a
module with ``read(source, options) -> Run``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .registry import FORMATS, READERS, ReadOptions, framework_of
from .source import Source, check_readable_file, is_stdin, read_bytes, read_remote, remote_url

if TYPE_CHECKING:  # numpy and the model are imported when a log is read, not by `curvecheck --help`
    from ..model import Run

__all__ = ["FORMATS", "READERS", "ReadOptions", "detect_format", "load"]

_SNIFF_CHARS = 65536


def detect_format(source: Source | str | Path) -> str:
    """Name the reader for ``source`` (a path, or a :class:`Source` already read) from its content."""
    from .table import first_line
    from .tensorboard import find_event_files, looks_like_event_file

    if not isinstance(source, Source):
        source = open_source(Path(source))

    if source.is_dir:
        from .hf_trainer_state import find_trainer_state

        if find_trainer_state(source.path) is not None:
            return "hf_trainer_state"
        if find_event_files(source.path):
            return "tensorboard"
        raise InputError(source.label, "directory holds no training logs (no TensorBoard event files and no "
                                       "trainer_state.json)")
    data = source.data or b""
    if not data[:4096].strip() and not data.strip():
        raise InputError(source.label, "empty file")
    if looks_like_event_file(data[:4096]):
        return "tensorboard"
    if b"\x00" in data[:4096]:
        raise InputError(source.label, "binary file that is not a TensorBoard event file: not a training log")
    head = data[:_SNIFF_CHARS].decode("utf-8-sig", errors="replace").lstrip()
    if head[:1] in "{[" or (head[:1] == '"' and _is_json(source.text)):
        return _json_flavour(head, data)
    first = first_line(head)
    if not any(d in first for d in (",", ";", "\t", "|")) and "\n" not in head.strip():
        raise InputError(source.label, "unknown format: not a CSV table, a JSON history or log, or a "
                                       "TensorBoard event file")
    from .csv_log import csv_flavour

    return csv_flavour(head)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _json_flavour(head: str, data: bytes) -> str:
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].startswith("{") and lines[1].startswith("{"):
        try:
            json.loads(lines[0])
            return "jsonl"  # a complete object on the first line, another after it
        except (ValueError, RecursionError):
            pass
    if b'"log_history"' in data:
        return "hf_trainer_state"
    return "keras_json"


def open_source(path: Path) -> Source:
    """The log at ``path`` ('-' is stdin): a folder, or a file's bytes (gunzipped)."""
    if is_stdin(path):
        return Source(path, read_bytes(path))
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists() or path.is_symlink()
    except OSError as exc:  # a symlink loop, a name too long
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not exists:
        url = remote_url(path)
        if url is not None:
            return Source(path, read_remote(url), url=url)
        raise InputError(path, "no such file or directory")
    if not is_dir and not is_stdin(path):
        head = _event_file_head(path)
        if head is not None:  # the TensorBoard reader streams the file: never hold it whole here
            return Source(path, head)
    return Source(path, None if is_dir else read_bytes(path))


def _event_file_head(path: Path) -> bytes | None:
    """The first bytes of a regular file that starts like a TensorBoard event file, else None."""
    from .tensorboard import looks_like_event_file

    try:
        if not path.is_file() or check_readable_file(path):
            return None  # a pipe is read whole by read_bytes
        with path.open("rb") as fh:
            head = fh.read(4096)
    except (OSError, InputError):
        return None  # read_bytes reports it
    return head if looks_like_event_file(head) else None


def load(path: str | Path, format: str | None = None, *, segment: int | None = None,
         directions: dict[str, str] | None = None, x: str | None = None,
         columns: dict[str, str] | None = None) -> Run:
    """Read one training log (a file, '-' for stdin, or a run folder) into a :class:`Run`.

    ``format`` forces a reader (a key of :data:`READERS`); by default the content decides.
    ``segment`` picks one of several runs appended to the same log (1-based; default: the last).
    ``directions`` overrides the improvement direction per series, e.g. ``{"val_wer": "min"}``.
    ``x`` names the x-axis column of a table; ``columns`` says what columns are
    (``{"acc2": "val_accuracy", "it": "step", "notes": "ignore"}``).
    Raises :class:`~curvecheck.errors.InputError` with a one-line reason for unreadable input.
    """
    from .common import apply_directions, validate_run

    path = Path(path)
    if format is not None and format not in READERS:
        raise InputError(path, f"unknown --log-format '{format}' (choose from {', '.join(READERS)})")
    source = open_source(path)
    options = ReadOptions(segment=segment, directions=dict(directions or {}), x=x, roles=dict(columns or {}))
    fmt = format or detect_format(source)
    if source.is_dir and READERS[fmt].module not in ("tb", "hf_trainer_state"):
        raise InputError(path, f"is a directory; --log-format {fmt} needs a file")
    try:
        run = READERS[fmt].load()(source, options)
    except (OSError, UnicodeError) as exc:
        raise InputError(source.label, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    except RecursionError:
        raise InputError(source.label, "nested too deeply to be a training log") from None
    except MemoryError:
        raise InputError(source.label, "not enough memory to read this log") from None
    if source.url:
        run.source = source.url
    if run.framework == "generic":
        run.framework = framework_of(run.format)
    if not run.name:
        run.name = source.label
    apply_directions(run, options.directions, Path(source.label))
    return validate_run(run, Path(source.label))
