"""Readers: detect a log's format from its content and turn it into a :class:`~curvecheck.model.Run`."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..model import Run
from .common import apply_directions, validate_run

FORMATS = ("keras_csv", "keras_json", "tensorboard")
_SNIFF_BYTES = 4096


def detect_format(path: Path) -> str:
    """Name the reader for ``path`` from its content (not its file name)."""
    from .tensorboard import find_event_files, looks_like_event_file

    if path.is_dir():
        if find_event_files(path):
            return "tensorboard"
        raise InputError(path, "directory holds no training logs (no TensorBoard event files found)")
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputError(path, "empty file")
    if looks_like_event_file(head):
        return "tensorboard"
    if b"\x00" in head:
        raise InputError(path, "binary file that is not a TensorBoard event file: not a training log")
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text[:1] in "{[\"":
        return "keras_json"
    first_line = text.splitlines()[0] if text else ""
    if any(d in first_line for d in (",", ";", "\t")) or "\n" in text:
        return "keras_csv"
    raise InputError(path, "unknown format: not a CSV history, a History JSON or a TensorBoard event file")


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def load(path: str | Path, format: str | None = None, *, segment: int | None = None,
         directions: dict[str, str] | None = None) -> Run:
    """Read one training log (file or TensorBoard run directory) into a :class:`Run`.

    ``format`` forces a reader (one of :data:`FORMATS`); by default the content decides.
    ``segment`` picks one of several runs appended to the same log (1-based; default: the last).
    ``directions`` overrides the improvement direction per series, e.g. ``{"val_wer": "min"}``.
    Raises :class:`~curvecheck.errors.InputError` with a one-line reason for unreadable input.
    """
    path = Path(path)
    directions = dict(directions or {})
    if not path.exists():
        raise InputError(path, "no such file or directory")
    if format is not None and format not in FORMATS:
        raise InputError(path, f"unknown --log-format '{format}' (choose from {', '.join(FORMATS)})")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(path, "empty file")
    fmt = format or detect_format(path)
    try:
        if fmt == "tensorboard":
            from .tensorboard import read_tensorboard

            run = read_tensorboard(path, segment=segment, directions=directions)
        elif path.is_dir():
            raise InputError(path, f"is a directory; --log-format {fmt} needs a file")
        elif fmt == "keras_json":
            from .keras_json import read_keras_json

            run = read_keras_json(path, _read_text(path), segment=segment, directions=directions)
        else:
            from .csv_log import read_csv_log

            run = read_csv_log(path, _read_text(path), segment=segment, directions=directions)
    except (OSError, UnicodeError) as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    apply_directions(run, directions, path)
    return validate_run(run, path)
