"""The diagnostics catalogue: one module per check, registered here by stable code.

Codes: CC1xx numerical health, CC2xx progress and generalisation, CC3xx learning rate and
validation, CC4xx the log itself. ``curvecheck explain`` prints each check's docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import UsageError
from ..findings import SEVERITIES, SEVERITY_RANK, Finding
from ..model import Note, Run
from ..reduce import resolve_max_points
from .base import Check, CheckSettings, RunContext
from .data_integrity import DataIntegrity
from .divergence import Divergence
from .loss_metric import LossMetricDivergence
from .lr_schedule import LRSchedule
from .never_learned import NeverLearned
from .non_finite import NonFinite
from .oscillation import Oscillation
from .overfitting import Overfitting
from .plateau import Plateau
from .spikes import Spikes
from .stuck_metric import StuckMetric
from .suspicious_validation import SuspiciousValidation
from .undertrained import Undertrained

CHECKS: dict[str, type[Check]] = {c.code: c for c in (
    NonFinite, Divergence, NeverLearned, Spikes, Overfitting, Plateau, Oscillation, LossMetricDivergence, StuckMetric,
    Undertrained, LRSchedule, SuspiciousValidation, DataIntegrity,
)}

# Checks that judge every logged point even on a series longer than max-points (curvecheck.reduce): where
# a NaN/inf appears, how far a divergence went, which steps repeat or leave [0, 1]. They are cheap (numpy
# passes), and a sample would move or hide exactly what they report.
EVERY_POINT = {NonFinite.code, Divergence.code, DataIntegrity.code}


def find_check(key: str) -> type[Check] | None:
    """A check by code (case-insensitive) or kebab name."""
    key = key.strip()
    return CHECKS.get(key.upper()) or next((c for c in CHECKS.values() if c.name == key.lower()), None)


def _matches(check: type[Check], patterns: list[str]) -> bool:
    for p in patterns:
        p = p.strip()
        if check.name == p.lower() or check.code.startswith(p.upper()):
            return True
    return False


def select_checks(select: list[str] | None = None, ignore: list[str] | None = None) -> list[type[Check]]:
    """Checks chosen by code, code prefix (``CC2``) or name; unknown patterns are a usage error."""
    for p in (select or []) + (ignore or []):
        if not any(_matches(c, [p]) for c in CHECKS.values()):
            raise UsageError(f"'{p}' matches no check (see 'curvecheck explain' for codes and names)")
    chosen = [c for c in CHECKS.values() if not select or _matches(c, select)]
    return [c for c in chosen if not ignore or not _matches(c, ignore)]


def resolve_settings(settings: Mapping[str, Mapping[str, Any]] | None = None,
                     source: str = "settings") -> dict[str, CheckSettings]:
    """Per-check settings keyed by code, from a mapping keyed by code or name (``{"plateau": {...}}``,
    ``{"CC202": {...}}``); unknown checks, names or types are a :class:`UsageError` naming ``source``."""
    out: dict[str, CheckSettings] = {}
    merged: dict[str, dict[str, Any]] = {}
    for key, overrides in (settings or {}).items():
        check = find_check(key)
        if check is None:
            raise UsageError(f"{source}: '{key}' is not a check (see 'curvecheck explain' for codes and names)")
        if not isinstance(overrides, Mapping):
            raise UsageError(f"{source}: {key}: expected a table of settings, got {overrides!r}")
        merged.setdefault(check.code, {}).update(overrides)
    for code, overrides in merged.items():
        out[code] = CHECKS[code].make_settings(overrides, source)
    return out


def resolve_severities(severities: Mapping[str, str] | None = None, source: str = "severity") -> dict[str, str]:
    """Severity overrides keyed by code (``{"CC203": "info"}``; names are accepted too)."""
    out = {}
    for key, sev in (severities or {}).items():
        check = find_check(key)
        if check is None:
            raise UsageError(f"{source}: '{key}' is not a check (see 'curvecheck explain' for codes and names)")
        if sev not in SEVERITIES:
            raise UsageError(f"{source}: {key}: severity must be one of {', '.join(SEVERITIES)}, got {sev!r}")
        out[check.code] = sev
    return out


def run_checks(run: Run, checks: list[type[Check]] | None = None,
               settings: Mapping[str, Mapping[str, Any] | CheckSettings] | None = None,
               severities: Mapping[str, str] | None = None, *,
               max_points: int | None = None) -> tuple[list[Finding], list[Note]]:
    """All findings for one run, most severe first, plus a note naming checks the run is too short for.

    ``settings`` maps a check (code or name) to its thresholds (a mapping of overrides, or an already
    resolved ``Check.Settings``); ``severities`` maps a check to the severity its findings get.
    Curves longer than ``max_points`` are judged on a sample of their points (:mod:`curvecheck.reduce`;
    None: its default, 0: never); the note of kind ``reduced`` says which.
    """
    resolved = {code: s for code, s in (settings or {}).items() if isinstance(s, CheckSettings)}
    resolved.update(resolve_settings({k: v for k, v in (settings or {}).items()
                                      if not isinstance(v, CheckSettings)}))
    severity_of = resolve_severities(severities)
    shared = RunContext.of(run)  # the context of the analysis under way (base.shared_context), if any
    ctx = shared if shared.max_points == resolve_max_points(max_points) else RunContext(run, max_points)
    every_point = RunContext(run, 0) if ctx.reduction() else ctx
    chosen = list(checks if checks is not None else CHECKS.values())
    findings: list[Finding] = []
    for cls in chosen:
        if cls.applicable(run):
            check = cls(resolved.get(cls.code), severity_of.get(cls.code))
            findings.extend(check.findings(every_point if cls.code in EVERY_POINT else ctx))
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.code))
    notes = [n for n in (too_short_note(run, chosen), no_validation_note(ctx), reduction_note(ctx)) if n is not None]
    return findings, notes


def reduction_note(ctx: RunContext) -> Note | None:
    """Which long series the checks judged on a sample of their points (:mod:`curvecheck.reduce`)."""
    reduction = ctx.reduction()
    return Note("reduced", reduction.note_text(ctx.x_axis)) if reduction else None


def no_validation_note(ctx: RunContext) -> Note | None:
    """A run logged without validation: a remark for the report, not a finding (nothing is wrong with
    the log; overfitting and the best epoch simply cannot be judged)."""
    if ctx.run.num_points >= 2 and ctx.losses("train") and not (ctx.losses("val") or ctx.metrics("val")):
        from ..advice import add_validation, callback_framework

        return Note("no_validation", "no validation series: overfitting and the best epoch cannot be judged "
                                     f"({add_validation(callback_framework(ctx.run))}).")
    return None


def too_short_note(run: Run, checks: list[type[Check]]) -> Note | None:
    """Which of these checks the run is too short for (they say nothing rather than guess)."""
    too_short = [f"{c.code} {c.name} (needs {c.min_points})" for c in checks if not c.applicable(run)]
    if not too_short:
        return None
    return Note("too_short", f"too short to judge ({run.num_points} {run.x_axis}s): {', '.join(too_short)}")


__all__ = ["CHECKS", "Check", "CheckSettings", "find_check", "no_validation_note", "resolve_settings", "resolve_severities", "run_checks",
           "select_checks", "too_short_note"]
