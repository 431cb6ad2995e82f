"""Rich terminal report. Plain text (no colour codes) when piped or when NO_COLOR is set."""

from __future__ import annotations

import math
import os
import sys
import textwrap

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..numbers import fx
from ..report import Report, RunReport

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """A unicode sparkline; '·' marks NaN/inf buckets. Bucket means when longer than ``width``."""
    if not values:
        return ""
    n = len(values)
    buckets = [values[int(i * n / width): max(int((i + 1) * n / width), int(i * n / width) + 1)]
               for i in range(min(width, n))]
    means = []
    for b in buckets:
        finite = [v for v in b if math.isfinite(v)]
        means.append(sum(finite) / len(finite) if len(finite) == len(b) else None)
    finite = [m for m in means if m is not None]
    if not finite:
        return "·" * len(means)
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join("·" if m is None else _BARS[min(7, int((m - lo) / span * 7.999))] for m in means)


def fmt_value(v: float | None) -> str:
    if v is None:
        return "–"
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4f}"


def fmt_x(v: float | None) -> str:
    return "–" if v is None else fx(v)


def _ranges(xs: list[float]) -> str:
    """[3,4,5,9] -> '3-5, 9' (short form for NaN epoch lists)."""
    if not xs:
        return ""
    out, start, prev = [], xs[0], xs[0]
    for x in xs[1:]:
        if x == prev + 1:
            prev = x
            continue
        out.append(fmt_x(start) if start == prev else f"{fmt_x(start)}-{fmt_x(prev)}")
        start = prev = x
    out.append(fmt_x(start) if start == prev else f"{fmt_x(start)}-{fmt_x(prev)}")
    return ", ".join(out[:6]) + (" ..." if len(out) > 6 else "")


def _axis_line(run: RunReport) -> str:
    span = f"{run.x_axis}s {fmt_x(run.x_first)}-{fmt_x(run.x_last)}"
    if run.x_axis == "epoch" and run.epoch_base == 0:
        return f"{run.num_points} {run.x_axis}s ({span}; numbered as in the log, from 0 like Keras CSVLogger: " \
               f"epoch 0 is Keras's 'Epoch 1')"
    return f"{run.num_points} {run.x_axis}s ({span}, numbered as in the log)"


def _series_table(run: RunReport, width: int) -> Table:
    x = run.x_axis
    table = Table(show_edge=False, header_style="bold", pad_edge=False, expand=False)
    table.add_column("series", no_wrap=True)
    table.add_column("kind")
    table.add_column("curve", no_wrap=True)
    table.add_column("first", justify="right")
    table.add_column("best", justify="right")
    table.add_column(f"at {x}", justify="right")
    table.add_column("last", justify="right")
    shown = [s for s in run.series if s.is_signal]
    with_nan = any(s.nan_epochs for s in shown)
    if with_nan:
        table.add_column("non-finite")
    spark_width = 24 if width >= 110 else 12
    for s in shown:
        arrow = {"min": " ↓", "max": " ↑"}.get(s.direction, "")
        row: list[str | Text] = [s.name, f"{s.kind}{arrow}", sparkline(s.sparkline_values, spark_width),
               fmt_value(s.first), fmt_value(s.best), fmt_x(s.best_epoch), fmt_value(s.last)]
        if with_nan:
            bad = f"{len(s.nan_epochs)} ({x} {_ranges(s.nan_epochs)})" if s.nan_epochs else ""
            row.append(Text(bad, style="red"))
        table.add_row(*row)
    return table


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "blue"}


def _epochs(f, unit: str) -> str:
    e = f.epochs
    if "at" in e:
        return f"{unit} {fmt_x(e['at'])}"
    if "start" in e:
        return f"{unit}s {fmt_x(e['start'])}-{fmt_x(e['end'])}"
    return ""


def _indented(text: str, width: int, style: str = "", indent: int = 6) -> Text:
    """Wrapped at the console width with every line indented (and no trailing padding)."""
    extra = len(text) - len(text.lstrip(" "))  # keep a line's own leading indent on its continuation lines
    lines = textwrap.wrap(text.strip(), width=max(40, width - indent - extra - 1)) or [""]
    return Text("\n".join(" " * (indent + extra) + ln for ln in lines), style=style)


def render_findings(console: Console, run: RunReport) -> None:
    if not run.findings:
        console.print(Text("  no findings", style="green"))
        return
    for f in run.findings:
        line = Text("  ")
        line.append(f"{f.severity:<7}", style=_SEVERITY_STYLE[f.severity])
        line.append(f" {f.code} {f.name}", style="bold")
        where = _epochs(f, run.x_axis)
        if where:
            line.append(f" [{where}]", style="dim")
        console.print(line)
        console.print(_indented(f.message, console.width))
        if f.advice:
            console.print(_indented(f"-> {f.advice}", console.width, style="dim"))


def render_run(console: Console, run: RunReport, quiet: bool = False) -> None:
    console.print(Text(run.source, style="bold cyan"))
    if quiet:
        render_findings(console, run)
        console.print()
        return
    console.print(f"  format: {run.format}   x-axis: {_axis_line(run)}")
    console.print(_series_table(run, console.width))
    hidden = [s.name for s in run.series if not s.is_signal]
    if hidden:
        console.print(Text(f"  not curves (bookkeeping columns): {', '.join(hidden)}", style="dim"))
    reported = {f.message for f in run.findings}  # CC401 repeats the segment and truncation notes
    for note in run.notes:
        if note.message not in reported:
            console.print(Text(f"  note: {note.message}", style="dim"))
    console.print(Text("findings:", style="bold"))
    render_findings(console, run)
    _render_verdicts(console, run)
    console.print()


def _render_verdicts(console: Console, run: RunReport) -> None:
    from .recommend import recommendation_lines, verdict_lines

    if run.recommendation is not None:
        console.print(Text("recommendation:", style="bold"))
        for line, style in recommendation_lines(run.recommendation, run.x_axis):
            console.print(_indented(line, console.width, style=style, indent=2))
    if run.lr_verdict is not None:
        for i, (line, style) in enumerate(verdict_lines(run.lr_verdict)):
            console.print(_indented(line, console.width, style=("bold " + style) if i == 0 else style,
                                    indent=0 if i == 0 else 2))


def _console() -> Console:
    # Piped output is read in files and CI logs: don't wrap it at 80 columns.
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))
    return Console(highlight=False, width=width)


def render_terminal(report: Report, console: Console | None = None, quiet: bool = False) -> None:
    console = console or _console()
    for run in report.runs:
        render_run(console, run, quiet)


def render_text(report: Report, quiet: bool = False) -> str:
    """The terminal report as a string (with colour codes only when stdout is a colour terminal)."""
    console = _console()
    with console.capture() as captured:
        render_terminal(report, console, quiet)
        if len(report.runs) + len(report.errors) > 1:  # several runs: a summary table across them
            from .summary import render_summary

            render_summary(report, console)
    return captured.get()
