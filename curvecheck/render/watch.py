"""How `curvecheck watch` shows a snapshot: plain lines (``--once``) or a Rich live view."""

from __future__ import annotations

from typing import Any

from ..numbers import fx as _fx
from ..watch import WatchSnapshot
from .terminal import fmt_value, sparkline


def fx(v: float | None) -> str:
    return "?" if v is None else _fx(v)


def status_line(snap: WatchSnapshot, word: bool = True) -> str:
    """The verdict; ``word=False`` leaves out the leading STOP NOW (the live view prints it once, below)."""
    if snap.waiting:
        return f"WAITING: {snap.waiting}"
    if snap.stopped:
        return (f"{'STOP NOW: ' if word else ''}the {snap.strategy} rule fired at {snap.x_axis} {fx(snap.stop_epoch)} ({snap.reason}); "
                f"keep {snap.x_axis} {fx(snap.kept_epoch)}")
    kept = f"; best so far at {snap.x_axis} {fx(snap.kept_epoch)}" if snap.kept_epoch is not None else ""
    return f"CONTINUE: no stop signal yet from the {snap.strategy} rule{kept}"


def plain_lines(snap: WatchSnapshot) -> list[str]:
    """``--once`` output: a few stable, greppable lines."""
    lines = [f"log: {snap.source}"]
    if not snap.waiting:
        lines.append(f"seen: {snap.points} {snap.x_axis}s (last {fx(snap.last_epoch)}); "
                     f"monitor: {', '.join(snap.monitor)}")
        lines.append(f"rule: {snap.strategy}: {snap.rule_state}")
        for f in snap.findings:
            lines.append(f"finding: {f.severity} {f.code} {f.name}: {f.message}")
    lines.append(status_line(snap))
    return lines


def live_view(snap: WatchSnapshot):
    """A Rich renderable: curves as sparklines, findings, the rule's state and the status."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("series", "curve", "last", "best"):
        table.add_column(col, justify="right" if col in ("last", "best") else "left")
    for name, values in snap.curves.items():
        table.add_row(name, sparkline(values, 40), fmt_value(values[-1] if values else None),
                      fmt_value(snap.bests.get(name)))
    parts: list[Any] = [table] if snap.curves else []
    for f in snap.findings:
        parts.append(Text(f"{f.severity:<7} {f.code} {f.name}: {f.message}",
                          style={"error": "red", "warning": "yellow"}.get(f.severity, "")))
    if snap.rule_state:
        parts.append(Text(f"rule {snap.strategy}: {snap.rule_state}", style="dim"))
    style = "bold red" if snap.stopped else ("dim" if snap.waiting else "bold green")
    parts.append(Text(status_line(snap, word=False), style=style))
    title = f"curvecheck watch: {snap.source}" + (f" ({snap.points} {snap.x_axis}s)" if snap.points else "")
    return Panel(Group(*parts), title=title, title_align="left")
