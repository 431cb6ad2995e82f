"""How numbers and epochs are written in messages (one definition for findings, reports and advice)."""

from __future__ import annotations

import math


def fmt(v: float | None, digits: int = 4) -> str:
    """4 significant digits; scientific notation when very small or very large; 'nan'/'inf' as such."""
    if v is None or not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def fx(x: float | None) -> str:
    """An epoch or step: '12', or '12.5' for fractional (Hugging Face) epochs."""
    if x is None:
        return str(x)
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
