"""Registry entry for TensorBoard: the reader itself lives in :mod:`curvecheck.readers.tensorboard`."""

from __future__ import annotations

from ..errors import InputError
from ..model import Run
from .registry import ReadOptions
from .source import Source, is_stdin


def read(source: Source, options: ReadOptions) -> Run:
    from .tensorboard import read_tensorboard

    if is_stdin(source.path):
        raise InputError(source.label, "TensorBoard event data cannot be read from stdin: give the file or folder")
    return read_tensorboard(source.path, segment=options.segment, directions=options.directions)
