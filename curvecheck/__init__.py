"""curvecheck: read training logs, diagnose the curves, recommend what to do.

>>> import curvecheck
>>> run = curvecheck.load("sample_logs/segmentation_unet.csv")
>>> report = curvecheck.analyze(run)

Attributes are imported lazily so that ``curvecheck --help`` does not pay for numpy.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load", "load_many", "analyze", "recommend_stop", "compare", "plot", "Run", "Series", "InputError", "__version__"]


def __getattr__(name: str):
    if name in ("load", "load_many", "analyze", "recommend_stop", "compare", "plot"):
        from . import api

        return getattr(api, name)
    if name in ("Run", "Series"):
        from . import model

        return getattr(model, name)
    if name == "InputError":
        from .errors import InputError

        return InputError
    raise AttributeError(f"module 'curvecheck' has no attribute {name!r}")
