"""Writing figures and reports without ever touching a log.

A target is checked after resolving it: a symbolic link (dangling or not), a hard link to a log
(same device and inode), a directory, a file being read or any file curvecheck can read as a log
is refused, whatever the options. ``--force`` only replaces a regular file that is not a log.
Files are written atomically: into a temporary file in the target's directory, then renamed over
the target, so a reader never sees half a figure and an existing inode (possibly shared with a
log through a hard link made after the check) is never written into.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .errors import UsageError
from .names import one_line

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"%PDF-")
_MAX_DIR_FILES = 10_000  # inode comparison with the files of an input directory is bounded


class OutputRefused(UsageError):
    """A target that curvecheck will not write: one line naming it and the reason."""

    def __init__(self, target: Path | str, problem: str):
        super().__init__(one_line(f"{target}: {problem}"))


def input_inodes(inputs: Sequence[Path | str]) -> set[tuple[int, int]]:
    """(device, inode) of every file being read, including the files inside input directories."""
    seen: set[tuple[int, int]] = set()
    for item in inputs:
        path = Path(item)
        try:
            st = path.stat()
        except (OSError, RuntimeError):  # missing or a symlink loop: the reader reports it
            continue
        seen.add((st.st_dev, st.st_ino))
        if stat.S_ISDIR(st.st_mode):
            for count, (root, _dirs, files) in enumerate(os.walk(path)):
                for name in files:
                    try:
                        fst = os.stat(os.path.join(root, name))
                    except OSError:
                        continue
                    seen.add((fst.st_dev, fst.st_ino))
                if count + len(seen) > _MAX_DIR_FILES:
                    break
    return seen


def _is_log(path: Path) -> bool:
    """Whether curvecheck reads ``path`` as a training log (then it is never overwritten)."""
    from .errors import CurvecheckError
    from .readers import load

    try:
        load(path)
    except CurvecheckError:
        return False
    except Exception:  # noqa: BLE001 - a file the readers choke on is not worth the risk
        return True
    return True


def looks_like_figure(path: Path) -> bool:
    """A PNG, PDF or SVG file, by its first bytes (not its name)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return head.startswith(_IMAGE_MAGIC) or (b"<svg" in head and head.lstrip().startswith((b"<?xml", b"<svg")))


def check_target(target: Path | str, inputs: Sequence[Path | str], *, force: bool = False,
                 replace_figure: bool = False) -> Path:
    """Return ``target`` if it may be written; raise :class:`OutputRefused` with the reason if not.

    ``force`` allows replacing an existing regular file; ``replace_figure`` allows it for an
    existing PNG/PDF/SVG only. Neither ever allows replacing a log or a file being read.
    """
    target = Path(target)
    if str(target) in ("", "-") or str(target).endswith(os.sep):
        raise OutputRefused(target, "not a file name")
    try:
        lst = target.lstat()
    except FileNotFoundError:
        lst = None
    except OSError as exc:
        raise OutputRefused(target, f"cannot check the output file: {exc.strerror or exc}") from None
    parent = target.parent
    if not parent.is_dir():
        raise OutputRefused(target, f"no such directory: {parent}")
    if lst is None:
        return target
    if stat.S_ISLNK(lst.st_mode):
        raise OutputRefused(target, "is a symbolic link: refusing to write through it (give the real path)")
    if stat.S_ISDIR(lst.st_mode):
        raise OutputRefused(target, "is a directory: give a file name")
    if not stat.S_ISREG(lst.st_mode):
        raise OutputRefused(target, "is not a regular file: refusing to replace it")
    if (lst.st_dev, lst.st_ino) in input_inodes(inputs):
        raise OutputRefused(target, "is a log being read (or a hard link to one): refusing to overwrite a log")
    if _is_log(target):
        raise OutputRefused(target, "is a training log: refusing to overwrite a log")
    if force or (replace_figure and looks_like_figure(target)):
        return target
    raise OutputRefused(target, "already exists (use --force to overwrite, or choose another name)")


def atomic_write(target: Path | str, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a new temporary file next to ``target``, then rename it over ``target``."""
    target = Path(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputRefused(target, f"cannot write: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a figure is an ordinary file
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputRefused(target, f"cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def write_text(target: Path | str, text: str) -> Path:
    """Write a report (UTF-8, ending in a newline) atomically."""
    body = text if text.endswith("\n") else text + "\n"
    return atomic_write(target, lambda tmp: tmp.write_text(body, encoding="utf-8"))


@contextmanager
def closed_stdout_is_fine() -> Iterator[None]:
    """A reader that stops early (``| head``) is not an error: the command keeps its exit code.

    On a broken pipe the rest of the output goes to /dev/null (so the flush at exit is silent too).
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
