"""A compact Markdown report for a pull-request comment or a CI step summary.

Every name from a log (file, series, tag) goes through :mod:`curvecheck.names`: it renders as the
literal text, never as a link, an image, a tag, emphasis or maths, and never breaks a table.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import quote

from ..findings import SEVERITIES
from ..names import markdown_code, markdown_text
from ..report import Report, RunReport
from .terminal import fmt_value, fmt_x

_ICON = {"error": ":x:", "warning": ":warning:", "info": ":information_source:"}


def _where(epochs: dict, unit: str) -> str:
    if "at" in epochs:
        return f"{unit} {fmt_x(epochs['at'])}"
    if "start" in epochs:
        return f"{unit}s {fmt_x(epochs['start'])}-{fmt_x(epochs['end'])}"
    return ""


def count_line(findings: list) -> str:
    """'1 error, 2 warnings' (or 'no findings')."""
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] > 1 else ''}" for s in SEVERITIES if counts[s]]
    return ", ".join(parts) if parts else "no findings"


def findings_table(findings: list, unit: str = "epoch") -> list[str]:
    if not findings:
        return ["No findings."]
    rows = ["| severity | check | where | finding |", "| --- | --- | --- | --- |"]
    for f in findings:
        text = markdown_text(f.message)
        if f.advice:
            text += "<br>**What to do:** " + markdown_text(f.advice)
        rows.append(f"| {_ICON.get(f.severity, '')} {f.severity} | {f.code} {f.name} | {_where(f.epochs, unit)} | "
                    f"{text} |")
    return rows


def _series_table(run: RunReport) -> list[str]:
    rows = [f"| series | kind | first | best | at {run.x_axis} | last |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for s in run.series:
        if s.is_signal:
            arrow = {"min": " (lower is better)", "max": " (higher is better)"}.get(s.direction, "")
            rows.append(f"| {markdown_code(s.name)} | {s.kind}{arrow} | {fmt_value(s.first)} | {fmt_value(s.best)} | "
                        f"{fmt_x(s.best_epoch)} | {fmt_value(s.last)} |")
    return rows


def recommendation_lines(rec, x_axis: str = "epoch") -> list[str]:
    if rec is None:
        return []
    if rec.epoch is None:
        head = "no epoch to recommend"
    else:
        values = ", ".join(f"{markdown_code(k)} {fmt_value(v)}" for k, v in rec.value.items())
        head = f"keep {x_axis} {fmt_x(rec.epoch)} ({values})"
        if rec.keep_hint:
            head += f"; {markdown_text(rec.keep_hint)}"
    out = [f"**Recommendation:** {head}. {markdown_text(rec.reason)}"]
    if rec.checkpoint:
        out.append(f"Checkpoint: {markdown_code(rec.checkpoint)}")
    if rec.suggested:
        out.append(f"Next run: {markdown_code(rec.suggested.get('early_stopping', rec.suggested['keras']))}")
    return out


def verdict_lines(verdict) -> list[str]:
    if verdict is None:
        return []
    head = f"**Learning rate:** {verdict.verdict.replace('_', ' ')}"
    if verdict.event_lr is not None and verdict.event:
        head += f" (lr {verdict.event_lr:g} {markdown_text(verdict.event)}"
        head += f"; lr {verdict.lr:g} at the start)" if verdict.lr is not None else ")"
    elif verdict.lr is not None:
        head += f" (lr {verdict.lr:g}, from the {markdown_text(verdict.lr_source or '')})"
    return [head] + [f"- {markdown_text(e)}" for e in verdict.evidence[:3]]


def run_section(run: RunReport, plot: str | None = None) -> list[str]:
    span = f"{run.num_points} {run.x_axis}s ({fmt_x(run.x_first)}-{fmt_x(run.x_last)})"
    out = [f"### curvecheck: {markdown_code(run.source)}", "",
           f"{run.format}, {span}: **{count_line(run.findings)}**", ""]
    out += findings_table(run.findings, run.x_axis) + [""]
    for block in (recommendation_lines(run.recommendation, run.x_axis), verdict_lines(run.lr_verdict)):
        if block:
            out += block + [""]
    out += ["<details><summary>series</summary>", ""] + _series_table(run) + ["", "</details>", ""]
    if plot:
        out += [f"![curvecheck figure of {markdown_text(Path(run.source).name)}]({quote(str(plot))})", ""]
    return out


def render_analysis(report: Report, plot: str | Path | None = None) -> str:
    """The analyze report as Markdown: per run, the findings table, recommendation, LR verdict."""
    lines: list[str] = []
    for run in report.runs:
        lines += run_section(run, str(plot) if plot and len(report.runs) == 1 else None)
    if plot and len(report.runs) > 1:
        lines.append(f"![curvecheck figure]({quote(str(plot))})")
    return "\n".join(lines).rstrip() + "\n"


def render_recommendation(rec, source: str, findings: list, x_axis: str = "epoch") -> str:
    lines = [f"### curvecheck recommend-stop: {markdown_code(source)}", ""]
    lines += recommendation_lines(rec, x_axis) + [""]
    lines += findings_table(findings, x_axis)
    return "\n".join(lines).rstrip() + "\n"


def gate_table(result) -> list[str]:
    verdicts = {"better": "better", "worse": "**worse**", "within_noise": "within noise", "unknown": "?"}
    rows = ["| series | baseline | candidate | delta | noise band | |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for d in result.deltas:
        delta = "-" if d.delta is None else f"{d.delta:+.4g}"
        band = "-" if d.noise_band is None else f"±{d.noise_band:.2g}"
        rows.append(f"| {markdown_code(d.metric)} | {fmt_value(d.baseline)} | {fmt_value(d.candidate)} | {delta} | "
                    f"{band} | {verdicts[d.verdict]} |")
    return rows


def render_comparison(sweep, gates: list) -> str:
    lines: list[str] = []
    if sweep is not None:
        lines += [f"### curvecheck compare: runs ranked by best smoothed {markdown_code(sweep.metric)}", "",
                  "| rank | run | lr | best | at epoch | lr verdict |", "| ---: | --- | ---: | ---: | ---: | --- |"]
        for e in sorted(sweep.entries, key=lambda e: e.rank or 10**6):
            lines.append(f"| {e.rank or '-'} | {markdown_code(Path(e.source).name)} | "
                         f"{'?' if e.lr is None else f'{e.lr:g}'} | {fmt_value(e.best)} | {fmt_x(e.best_epoch)} | "
                         f"{e.verdict.replace('_', ' ')} |")
        lines += [""] + [f"- {markdown_text(s)}" for s in sweep.summary] + [""]
    for g in gates:
        status = "passed" if g.passed else "**failed**: " + "; ".join(markdown_text(c) for c in g.failed)
        lines += [f"### curvecheck gate: {markdown_code(g.candidate)} vs baseline {markdown_code(g.baseline)}", "",
                  f"Values at each run's {g.at} epoch; gate {status}.", ""] + gate_table(g) + [""]
    return "\n".join(lines).rstrip() + "\n"
