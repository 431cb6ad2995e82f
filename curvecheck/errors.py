"""Errors that curvecheck reports to the user as one line (exit code 2)."""

from __future__ import annotations

from pathlib import Path


class CurvecheckError(Exception):
    """Base class for every error curvecheck reports without a traceback."""


class InputError(CurvecheckError):
    """A log that cannot be read: missing, empty, truncated, unknown format...

    ``str(err)`` is a single line naming the file and the problem.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class UsageError(CurvecheckError):
    """A bad option value (e.g. an unknown --direction series)."""
