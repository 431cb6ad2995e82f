"""Terminal rendering of stop recommendations, LR verdicts and sweep comparisons."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..lr import LRVerdict, SweepReport
from ..recommend import Recommendation, fmt, fx

_STATUS = {"stop_now": ("STOP NOW", "bold red"), "continue": ("CONTINUE", "bold green"), "finished": ("", "")}
_VERDICT = {"too_high": "bold red", "too_low": "yellow", "ok": "green", "unknown": "dim"}


def recommendation_text(rec: Recommendation, x_axis: str = "epoch") -> Text:
    t = Text()
    status, style = _STATUS.get(rec.status, ("", ""))
    if status:
        t.append(f"{status}  ", style=style)
    if rec.epoch is None:
        t.append("no epoch to recommend\n", style="bold")
    else:
        t.append(f"keep {x_axis} {fx(rec.epoch)}", style="bold")
        vals = ", ".join(f"{k} {fmt(v)}" for k, v in rec.value.items())
        t.append(f"  ({vals})\n")
        if rec.epoch_base == 0 and x_axis == "epoch":
            t.append(f"Keras calls it 'Epoch {fx(rec.epoch + 1)}'; ModelCheckpoint {{epoch}} = {fx(rec.epoch + 1)}\n",
                     style="dim")
    if rec.checkpoint:
        t.append(f"checkpoint: {rec.checkpoint}\n", style="cyan")
    t.append(rec.reason + "\n")
    for note in rec.notes:
        t.append(f"- {note}\n", style="dim")
    for d in rec.disagreement:
        a, b = d["monitors"]
        t.append(f"- {a} and {b} disagree: best at {x_axis} {fx(d['best_epochs'][0])} vs {fx(d['best_epochs'][1])}"
                 f"\n", style="yellow")
    if rec.others:
        t.append("other validation series there: " + ", ".join(f"{k} {fmt(v)}" for k, v in rec.others.items()) + "\n",
                 style="dim")
    if rec.suggested:
        t.append("next run: ", style="bold")
        t.append(rec.suggested["keras"] + "\n", style="green")
        t.append(f"  ({rec.suggested['reason']})\n", style="dim")
    return t


def render_recommendation(console: Console, rec: Recommendation, source: str, x_axis: str = "epoch") -> None:
    console.print(Panel(recommendation_text(rec, x_axis), title=f"recommend-stop: {source}", title_align="left",
                        expand=False))


def verdict_text(v: LRVerdict) -> Text:
    t = Text("learning rate: ", style="bold")
    t.append(v.verdict.replace("_", " "), style=_VERDICT.get(v.verdict, ""))
    if v.lr is not None:
        t.append(f"  (lr {v.lr:g}, from the {v.lr_source})", style="dim")
    for e in v.evidence[:3]:
        t.append(f"\n  - {e}", style="dim")
    return t


def render_sweep(console: Console, rep: SweepReport) -> None:
    table = Table(title=f"runs ranked by best smoothed {rep.metric}", title_justify="left", header_style="bold")
    for col, just in (("rank", "right"), ("run", "left"), ("lr", "right"), (f"best {rep.metric}", "right"),
                      ("at epoch", "right"), ("lr verdict", "left")):
        table.add_column(col, justify=just)
    for e in sorted(rep.entries, key=lambda e: e.rank or 10**6):
        table.add_row(str(e.rank or "–"), Path(e.source).name, f"{e.lr:g}" if e.lr is not None else "?",
                      fmt(e.best) if e.best is not None else "–", fx(e.best_epoch) if e.best_epoch is not None else "–",
                      Text(e.verdict.replace("_", " "), style=_VERDICT.get(e.verdict, "")))
    console.print(table)
    for line in rep.summary:
        console.print(Text(f"- {line}"))
