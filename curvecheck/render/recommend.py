"""Terminal rendering of stop recommendations, LR verdicts and sweep comparisons."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..lr import LRVerdict, SweepReport
from ..recommend import Recommendation, fmt, fx

_STATUS = {"stop_now": ("STOP NOW", "bold red"), "continue": ("CONTINUE", "bold green"), "finished": ("", ""),
           "never_learned": ("NEVER LEARNED", "bold red"), "no_finite_monitor": ("NO FINITE VALUE", "bold red")}
_VERDICT = {"too_high": "bold red", "too_low": "yellow", "ok": "green", "unknown": "dim"}


def recommendation_lines(rec: Recommendation, x_axis: str = "epoch") -> list[tuple[str, str]]:
    """The recommendation as (text, style) lines, for a panel or an indented report block."""
    lines: list[tuple[str, str]] = []
    status, style = _STATUS.get(rec.status, ("", ""))
    if rec.epoch is None:
        lines.append((f"{status + '  ' if status else ''}no epoch to recommend", style or "bold"))
    else:
        vals = ", ".join(f"{k} {fmt(v)}" for k, v in rec.value.items())
        lines.append((f"{status + '  ' if status else ''}keep {x_axis} {fx(rec.epoch)}  ({vals})",
                      f"bold {'red' if rec.status == 'stop_now' else 'green' if rec.status == 'continue' else ''}"))
        if rec.keep_hint:
            lines.append((rec.keep_hint, "dim"))
    if rec.checkpoint:
        lines.append((f"checkpoint: {rec.checkpoint}", "cyan"))
    lines.append((rec.reason, ""))
    lines += [(f"- {note}", "dim") for note in rec.notes]
    for d in rec.disagreement:
        a, b = d["monitors"]
        lines.append((f"- {a} and {b} disagree: best at {x_axis} {fx(d['best_epochs'][0])} vs "
                      f"{fx(d['best_epochs'][1])}; at {b}'s best {a} is {fmt(d[f'{a}_loss_at_{b}_best'])} worse, "
                      f"at {a}'s best {b} is {fmt(d[f'{b}_loss_at_{a}_best'])} worse", "yellow"))
    if rec.others:
        lines.append(("other validation series there: " + ", ".join(f"{k} {fmt(v)}" for k, v in rec.others.items()),
                      "dim"))
    if rec.suggested:
        lines.append((f"next run: {rec.suggested.get('early_stopping', rec.suggested['keras'])}", "green"))
        lines.append((f"     or: {rec.suggested.get('reduce_lr', rec.suggested['keras_reduce_lr'])}", "green"))
        if "curvecheck_callback" in rec.suggested:
            lines.append((f"     or: {rec.suggested['curvecheck_callback']}  (curvecheck's auto rule during "
                          f"training; pip install curvecheck[{rec.suggested.get('framework', 'keras')}])", "green"))
        lines.append((f"  ({rec.suggested['reason']})", "dim"))
    return lines


def recommendation_text(rec: Recommendation, x_axis: str = "epoch") -> Text:
    t = Text()
    for i, (line, style) in enumerate(recommendation_lines(rec, x_axis)):
        t.append(("\n" if i else "") + line, style=style)
    return t


def render_recommendation(console: Console, rec: Recommendation, source: str, x_axis: str = "epoch") -> None:
    console.print(Panel(recommendation_text(rec, x_axis), title=Text(f"recommend-stop: {source}"), title_align="left",
                        expand=False))


def verdict_lines(v: LRVerdict) -> list[tuple[str, str]]:
    head = f"learning rate: {v.verdict.replace('_', ' ')}"
    if v.event_lr is not None and v.event:
        head += f"  (lr {v.event_lr:g} {v.event}" + (f"; lr {v.lr:g} at the start" if v.lr is not None else "")
        head += f", from the {v.lr_source})" if v.lr_source else ")"
    elif v.lr is not None:
        head += f"  (lr {v.lr:g}, from the {v.lr_source})"
    return [(head, _VERDICT.get(v.verdict, ""))] + [(f"- {e}", "dim") for e in v.evidence[:3]]


def verdict_text(v: LRVerdict) -> Text:
    t = Text()
    for i, (line, style) in enumerate(verdict_lines(v)):
        t.append(("\n  " if i else "") + line, style=style)
    return t


def render_sweep(console: Console, rep: SweepReport) -> None:
    table = Table(title=f"runs ranked by best smoothed {rep.metric}", title_justify="left", header_style="bold")
    for col, just in (("rank", "right"), ("run", "left"), ("lr", "right"), (f"best {rep.metric}", "right"),
                      ("at epoch", "right"), ("lr verdict", "left")):
        table.add_column(col, justify="right" if just == "right" else "left")
    for e in sorted(rep.entries, key=lambda e: e.rank or 10**6):
        table.add_row(str(e.rank or "-"), Text(e.name or Path(e.source).name), f"{e.lr:g}" if e.lr is not None else "?",
                      fmt(e.best) if e.best is not None else "-", fx(e.best_epoch) if e.best_epoch is not None else "-",
                      Text(e.verdict.replace("_", " "), style=_VERDICT.get(e.verdict, "")))
    console.print(table)
    for line in rep.summary:
        console.print(Text(f"- {line}"))


_GATE_VERDICT = {"better": ("better", "green"), "worse": ("worse", "bold red"),
                 "within_noise": ("within noise", "dim"), "unknown": ("?", "dim")}


def render_gate(console: Console, result) -> None:
    """The regression gate: per series, baseline vs candidate at the chosen epochs, delta and noise band."""
    console.print(Text(f"{result.candidate} vs baseline {result.baseline} (values at each run's {result.at} epoch)",
                       style="bold"))
    table = Table(header_style="bold")
    for col in ("series", "baseline", "at epoch", "candidate", "at epoch", "delta", "noise band", ""):
        table.add_column(col, justify="left" if col in ("series", "") else "right")
    for d in result.deltas:
        word, style = _GATE_VERDICT[d.verdict]
        table.add_row(Text(d.metric), fmt(d.baseline) if d.baseline is not None else "-",
                      fx(d.baseline_epoch) if d.baseline_epoch is not None else "-",
                      fmt(d.candidate) if d.candidate is not None else "-",
                      fx(d.candidate_epoch) if d.candidate_epoch is not None else "-",
                      "-" if d.delta is None else f"{d.delta:+.4g}",
                      "-" if d.noise_band is None else f"+/-{d.noise_band:.2g}", Text(word, style=style))
    console.print(table)
    if result.conditions:
        if result.passed:
            console.print(Text(f"gate passed: none of {', '.join(map(str, result.conditions))} holds", style="green"))
        else:
            console.print(Text(f"gate FAILED: {'; '.join(result.failed)}", style="bold red"))
    if result.findings:  # the gate compares values; the candidate's own findings still count (--fail-on)
        counts = ", ".join(f"{n} {sev}" for sev, n in result.findings.items() if n)
        console.print(Text(f"candidate findings: {counts} (curvecheck analyze {result.candidate})"))
