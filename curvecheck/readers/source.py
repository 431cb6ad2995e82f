"""Getting a log's bytes: files, ``-`` (stdin), gzip, and the ways a path can be wrong.

Every reader works on bytes already in memory, so format detection sniffs a copy and never
consumes the stream it later parses (a pipe cannot be rewound: sniffing it directly loses its
first bytes). Inputs are only ever opened for reading.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import stat
import sys
import zlib
from pathlib import Path

from ..errors import InputError

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"


def is_stdin(path: str | Path) -> bool:
    return str(path) == STDIN


PIPE_TIMEOUT = 5.0  # seconds a pipe may stay silent before we give up on it


def check_readable_file(path: Path) -> bool:
    """Refuse what is neither a regular file nor a pipe before opening it; True for a pipe."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(path, _os_problem(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory")
    if stat.S_ISFIFO(st.st_mode):
        return True  # <(cat log.csv), /dev/stdin, a named pipe: read with a time limit
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, "not a regular file (a socket or device): pass it as '-' on stdin to read it")
    return False


def _read_pipe(path: Path) -> bytes:
    """A pipe's bytes, waiting at most PIPE_TIMEOUT for each chunk (a FIFO nobody writes to must not hang)."""
    import select

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO without a writer must not block either
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], PIPE_TIMEOUT)
            if not ready:
                raise InputError(path, f"pipe: nothing written to it for {PIPE_TIMEOUT:g} s")
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EISDIR:
        return "is a directory"
    return f"cannot read: {exc.strerror or exc}"


def read_bytes(path: Path) -> bytes:
    """The whole log as bytes (gunzipped when it is gzip data), or a one-line InputError."""
    if is_stdin(path):
        data = sys.stdin.buffer.read()
    else:
        is_pipe = check_readable_file(path)
        try:
            if is_pipe:
                data = _read_pipe(path)
            else:
                with open(path, "rb", opener=_read_only_opener) as fh:
                    data = fh.read()
        except OSError as exc:
            raise InputError(path, _os_problem(exc)) from None
    return gunzip(path, data)


def gunzip(where: str | Path, data: bytes) -> bytes:
    """``data`` decompressed when it is gzip (by its magic bytes, not the file name), else as it is."""
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(where, f"damaged gzip data: {exc}") from None


# "s3://bucket/key"; pathlib folds the "//", so "s3:/bucket/key" is accepted too. Two letters at
# least, so a Windows drive ("C:/") is never taken for a URL scheme.
_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):/+(.+)$")


def remote_url(path: str | Path) -> str | None:
    """The URL a path names (``s3://``, ``gs://``, ``https://``, ``memory://``...), or None for a local path."""
    m = _URL_RE.match(str(path))
    if m is None or m.group(1).lower() == "file" or os.path.lexists(str(path)):
        return None
    return f"{m.group(1)}://{m.group(2)}"


def read_remote(url: str) -> bytes:
    """A remote log's bytes through fsspec (the optional extra ``curvecheck[remote]``)."""
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError:
        raise InputError(url, "remote logs need fsspec: pip install 'curvecheck[remote]'") from None
    try:
        with fsspec.open(url, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError(url, "no such file") from None
    except IsADirectoryError:
        raise InputError(url, "is a directory: give the log file (remote folders are not searched)") from None
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its own package is missing
        raise InputError(url, f"cannot open this URL: {exc}") from None
    except OSError as exc:
        raise InputError(url, f"cannot read: {exc.strerror or exc}") from None
    return gunzip(url, data)


def _read_only_opener(name: str, flags: int) -> int:
    # O_NONBLOCK: if a FIFO appears between the stat and the open, the open must not hang
    return os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class Source:
    """A log to read: its path and (for files and stdin) its bytes, read once."""

    def __init__(self, path: Path, data: bytes | None = None, url: str | None = None):
        self.path = path
        self.data = data
        self.url = url  # for a remote log: the URL it was read from
        self._text: str | None = None

    @property
    def is_dir(self) -> bool:
        return self.data is None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = decode_text(self.data or b"")
        return self._text

    @property
    def label(self) -> str:
        if self.url:
            return self.url
        return "<stdin>" if is_stdin(self.path) else str(self.path)
