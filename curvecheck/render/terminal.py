"""Rich terminal report. Plain text (no colour codes) when piped or when NO_COLOR is set."""

from __future__ import annotations

import math
import os
import sys
import textwrap
from typing import IO

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..numbers import fx
from ..report import Report, RunReport

_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-~=+*#"


def sparkline(values: list[float], width: int = 24, ascii_only: bool = False) -> str:
    """A sparkline of the whole run: one character per point up to ``width`` points, bucket means
    beyond. '·' ('.' in ASCII) marks buckets holding NaN/inf."""
    if not values:
        return ""
    bars, missing = (_ASCII_BARS, "?") if ascii_only else (_BARS, "·")
    n = len(values)
    cells = min(width, n)
    # bucket i covers values[n*i/cells : n*(i+1)/cells]: every point falls in exactly one bucket
    edges = [n * i // cells for i in range(cells + 1)]
    means = []
    array = np.asarray(values, dtype=np.float64)  # speed: 10^6 points; the same sums, left to right
    for a, b in zip(edges[:-1], edges[1:]):
        bucket = array[a:b]
        # halves keep values near 1e308 from overflowing to inf in the sum
        mean = sum((bucket / 2).tolist()) / len(bucket) if np.isfinite(bucket).all() else None
        if mean is not None and not math.isfinite(mean):  # many values near 1e308: divide before adding
            mean = sum((bucket / len(bucket) / 2).tolist())
        means.append(mean)
    finite = [m for m in means if m is not None]
    if not finite:
        return missing * len(means)
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    if not math.isfinite(span):  # -1e308 .. 1e308: scale first
        lo, span, means = lo / 4, hi / 4 - lo / 4, [None if m is None else m / 4 for m in means]
    return "".join(missing if m is None else bars[min(7, int((m - lo) / span * 7.999))] for m in means)


def fmt_value(v: float | None) -> str:
    if v is None:
        return "-"
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4f}"


def fmt_x(v: float | None) -> str:
    return "-" if v is None else fx(v)


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
    count = f"{run.num_points} {run.x_axis}s"
    if run.x_axis == "epoch" and run.x_first is not None and run.x_last is not None \
            and run.x_last - run.x_first + 1 > 1.5 * run.num_points:
        count = f"{run.num_points} points"  # logged every k epochs (Lightning's check_val_every_n_epoch)
    if run.numbering:  # the framework's own convention, where another count could be confused with it
        return f"{count} ({span}; numbered as in the log, {run.numbering})"
    return f"{count} ({span}, numbered as in the log)"


def _series_table(run: RunReport, width: int, ascii_only: bool = False) -> Table:
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
        arrow = (_ASCII_ARROWS if ascii_only else _ARROWS).get(s.direction, "")
        row: list[Text | str] = [Text(s.name), f"{s.kind}{arrow}", sparkline(s.sparkline_values, spark_width,
                                                                             ascii_only),
                                 fmt_value(s.first), fmt_value(s.best), fmt_x(s.best_epoch), fmt_value(s.last)]
        if with_nan:
            bad = f"{len(s.nan_epochs)} ({x} {_ranges(s.nan_epochs)})" if s.nan_epochs else ""
            row.append(Text(bad, style="red"))
        table.add_row(*row)
    return table


_ARROWS = {"min": " ↓", "max": " ↑"}
_ASCII_ARROWS = {"min": " (min)", "max": " (max)"}
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
    console.print(Text(f"  format: {run.format}   x-axis: {_axis_line(run)}"))
    console.print(_series_table(run, console.width, needs_ascii(console)))
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


class _ReportConsole(Console):
    def on_broken_pipe(self) -> None:
        """The reader stopped early (``| head``): drop the rest of the report, keep the command's exit
        code (Rich's default exits 1, which would read as "findings")."""
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def make_console(file: IO[str] | None = None) -> Console:
    """The console every text report prints to.

    Markup is off (a series named ``val_[link=http://x]loss[/link]`` is printed as written).
    Output that is not a terminal (a pipe, a file, a CI log) is never hard-wrapped: long lines
    stay whole, so paths and messages can be searched and copied.
    """
    stream = file if file is not None else sys.stdout
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return _ReportConsole(file=file, highlight=False, markup=False, emoji=False, width=None if is_tty else _NO_WRAP)


_NO_WRAP = 100_000


def needs_ascii(console: Console) -> bool:
    """True when the output's encoding cannot show the arrows and sparkline blocks (e.g. cp1252)."""
    try:
        "↓▁█·".encode(console.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def render_terminal(report: Report, console: Console | None = None, quiet: bool = False) -> None:
    from ..names import terminal_safe

    console = console or make_console()
    for run in report.runs:
        render_run(console, terminal_safe(run), quiet)


def render_text(report: Report, quiet: bool = False) -> str:
    """The terminal report as a string (with colour codes only when stdout is a colour terminal)."""
    from ..names import terminal_safe

    console = make_console()
    with console.capture() as captured:
        render_terminal(report, console, quiet)
        if len(report.runs) + len(report.errors) > 1:  # several runs: a summary table across them
            from .summary import render_summary

            render_summary(terminal_safe(report), console)
    return captured.get()
