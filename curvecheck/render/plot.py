"""Annotated figures of training curves (matplotlib, headless).

Everything drawn comes from the same run model, findings and recommendation that ``analyze``
reports, so a user can check each verdict on the picture. Long series are decimated for drawing
only (min and max of each bucket, so spikes survive); the analysis always uses every point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..context import default_monitor
from ..marks import Marks, build_marks
from ..metrics import BOUNDED_KINDS
from ..model import Run, Series
from ..names import figure_text
from ..report import RunReport
from ..signal import tensorboard_smooth

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..lr import SweepReport

MAX_DRAW_POINTS = 4000
_TRAIN, _VAL = "#1f77b4", "#d62728"


@dataclass
class Panel:
    key: str
    title: str
    series: list[Series]
    is_lr: bool = False


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = MAX_DRAW_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ~max_points points for drawing: each bucket keeps its min and max (and NaNs stay gaps)."""
    n = x.shape[0]
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep = []
    for a, b in zip(edges[:-1], edges[1:]):
        seg = y[a:b]
        if not np.isfinite(seg).any():
            keep.append(a)
            continue
        lo, hi = a + int(np.nanargmin(seg)), a + int(np.nanargmax(seg))
        keep.extend(sorted({lo, hi}))
    idx = np.array(keep)
    return x[idx], y[idx]


def _quantity(s: Series) -> tuple[str, str]:
    """(panel key, title): train and val versions of one quantity share a panel."""
    if s.kind == "lr":
        return "lr", "learning rate"
    return f"{s.kind}:{s.info.base}", figure_text(_display_name(s))


_SPLIT_PREFIXES = ("metrics/", "validation/", "val/", "val_", "eval_", "eval/", "train/", "train_", "training/")


def _display_name(s: Series) -> str:
    """The quantity's own spelling without its split marker: 'mAP50-95(B)', 'dice_coef', 'box_loss'."""
    name = s.name
    for prefix in _SPLIT_PREFIXES:
        if name.lower().startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):].removeprefix("epoch_")
    return name.removeprefix("epoch_")


def select_panels(run: Run, metrics: list[str] | None = None, max_panels: int = 6) -> list[Panel]:
    """Panels in reading order: losses, metrics, other curves, learning rate last."""
    groups: dict[str, Panel] = {}
    for s in run.signals():
        if not len(s) or (s.direction == "none" and s.kind != "lr"):
            continue
        key, title = _quantity(s)
        if metrics and not any(m.lower() in (s.kind, s.name.lower(), s.info.base) or m.lower() in s.name.lower()
                               for m in metrics) and not (s.kind == "lr" and "lr" in [m.lower() for m in metrics]):
            continue
        groups.setdefault(key, Panel(key, title, [], s.kind == "lr")).series.append(s)
    order = {"loss": 0, "iou": 1, "dice": 1, "f1": 2, "map": 2, "accuracy": 3, "auc": 4, "precision": 5,
             "recall": 5, "other": 6, "lr": 9}
    panels = sorted(groups.values(), key=lambda p: (order.get(p.key.split(":")[0], 7),
                                                    0 if p.key.endswith(":loss") else 1, p.key))
    lr = [p for p in panels if p.is_lr]
    rest = [p for p in panels if not p.is_lr]
    keep = rest[: max_panels - len(lr)]
    monitored = _monitor_panel(run, rest)
    if monitored is not None and monitored not in keep and keep:
        keep[-1] = monitored  # the curve behind "keep epoch N" is always drawn
    rest = keep
    for p in rest + lr:
        p.series.sort(key=lambda s: {"train": 0, "val": 1, "test": 2}.get(s.split, 3))
    return rest + lr[:1]


def _monitor_panel(run: Run, panels: list[Panel]) -> Panel | None:
    monitor = default_monitor(run)
    return next((p for p in panels if monitor is not None and any(s is monitor for s in p.series)), None)


def default_output(logs: Sequence[str | Path], suffix: str = ".png") -> Path:
    """A name in the current directory that is never one of the logs."""
    stem = Path(str(logs[0]).rstrip("/")).name.split(".")[0] if len(logs) == 1 else "compare"
    return Path.cwd() / f"{stem}_curvecheck{suffix}"


def _label(s: Series, run_label: str | None) -> str:
    return figure_text(f"{run_label} {s.name}" if run_label else s.name)


# Matplotlib cannot place an axis whose data span overflows a float (1e308 - -1e308 = inf), and its
# transforms turn singular well before that (a span of 2e300 already fails): values beyond this are
# drawn at this edge (the report gives the real numbers).
_MAX_DRAWN = 1e150


def _drawable(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), np.clip(values, -_MAX_DRAWN, _MAX_DRAWN), values)


def _draw_series(ax, s: Series, colour: str, smooth: float, run_label: str | None, dashed: bool = False,
                 log: bool = False) -> None:
    x, y = decimate(s.x, _drawable(s.values))
    ls = "--" if dashed else "-"
    if smooth and s.kind != "lr":
        ax.plot(x, y, color=colour, lw=0.8, alpha=0.35, ls=ls)
        sm = _drawable(_smoothed(_drawable(s.values), smooth, log))
        xs, ys = decimate(s.x, sm)
        ax.plot(xs, ys, color=colour, lw=2.0, ls=ls, label=_label(s, run_label))
    else:
        ax.plot(x, y, color=colour, lw=1.6, ls=ls, label=_label(s, run_label))


def _smoothed(values: np.ndarray, smooth: float, log: bool) -> np.ndarray:
    """The EMA in the space the axis draws: on a log axis, of the log values (a linear EMA of a loss
    falling from 1e5 to 1e2 stays decades above the raw curve there)."""
    if not log:
        return tensorboard_smooth(values, smooth)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(values > 0, np.log10(values), np.nan)
    return np.where(np.isfinite(logs), 10 ** tensorboard_smooth(logs, smooth), values)


def _mark_nonfinite(ax, s: Series, colour: str) -> bool:
    bad = ~s.finite
    if not bad.any():
        return False
    ax.plot(s.x[bad], np.zeros(int(bad.sum())), ls="none", marker="x", color="black", ms=6, mew=1.5,
            transform=ax.get_xaxis_transform(), clip_on=False, zorder=5)
    return True


def _mark_best(ax, s: Series, colour: str, marks: Marks) -> bool:
    if s.name not in marks.best:
        return False
    at = np.nonzero(s.x == marks.best[s.name])[0]
    if not at.size:
        return False
    i = int(at[0])
    y = float(_drawable(s.values[i:i + 1])[0])
    ax.plot([s.x[i]], [y], marker="*", ms=13, color=colour, mec="black", mew=0.6, zorder=6, ls="none")
    ax.annotate(f"{s.x[i]:g}", (s.x[i], y), xytext=(0, 7 if s.direction == "max" else -12),
                textcoords="offset points", ha="center", fontsize=7, color=colour, zorder=7)
    return True


def _annotate_findings(ax, panel: Panel, marks: Marks, used: set[str]) -> None:
    names = {s.name for s in panel.series}
    for span in marks.overfitting:
        if not names & set(span.series):
            continue
        ax.axvspan(span.start, span.end, color="#d62728", alpha=0.07, lw=0)
        train = next((s for s in panel.series if s.name == span.series[0]), None)
        val = next((s for s in panel.series if s.name == span.series[-1]), None)
        if train is not None and val is not None and np.array_equal(train.x, val.x):
            m = train.x >= span.start
            ax.fill_between(train.x[m], train.values[m], val.values[m], color="#d62728", alpha=0.15, lw=0)
        ax.axvline(span.start, color="#d62728", lw=1, ls=":")
        used.add("overfit")
    # this panel's own stall: from the earliest stall of its series
    stalls = [p for p in marks.plateaus if names & set(p.series)]
    if stalls:
        warning = any(p.severity == "warning" for p in stalls)
        ax.axvspan(min(p.start for p in stalls), max(p.end for p in stalls), color="grey", alpha=0.12, lw=0,
                   hatch="//" if warning else None)
        used.add("plateau")
    s = next((s for s in panel.series if s.name in marks.spikes), None)
    if s is not None:
        xs = np.array(marks.spikes[s.name], dtype=float)
        idx = np.searchsorted(s.x, xs)
        idx = idx[(idx < len(s)) & (s.x[np.minimum(idx, len(s) - 1)] == xs)]
        ax.plot(s.x[idx], s.values[idx], ls="none", marker="o", ms=11, mfc="none", mec="#ff7f0e", mew=2, zorder=6)
        used.add("spike")


def _mark_lr_drops(axes, marks: Marks, used: set[str]) -> None:
    if not marks.lr_drops:
        return
    for ax in axes:
        ax.plot(marks.lr_drops, [0] * len(marks.lr_drops), ls="none", marker="^", ms=8, color="#2ca02c",
                clip_on=False, transform=ax.get_xaxis_transform(), zorder=5)
    used.add("lrdrop")


def _mark_recommendation(axes, marks: Marks, unit: str, colour: str, used: set[str], label_top: bool = True) -> None:
    if marks.keep is None:
        return
    keep = marks.keep
    for i, ax in enumerate(axes):
        ax.axvline(keep, color=colour, lw=1.6, ls="--", zorder=4)
        if i == 0 and label_top:
            lo, hi = ax.get_xlim()
            right_half = keep > lo + 0.6 * (hi - lo)  # keep the label inside the panel
            ax.annotate(f"keep {unit} {keep:g}", xy=(keep, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(-3 if right_half else 3, -3), textcoords="offset points",
                        ha="right" if right_half else "left", va="top", fontsize=9,
                        color=colour, fontweight="bold",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "alpha": 0.9})
    used.add("keep")


def _mark_keep_ticks(axes, marks: Marks, colour: str, used: set[str]) -> None:
    """An overlay's recommended epochs: a tick in the run's colour on the top edge, as a full-height line
    per run would be read as one more curve."""
    if marks.keep is None:
        return
    for ax in axes:
        ax.plot([marks.keep], [1.0], ls="none", marker="v", ms=9, color=colour, mec="black", mew=0.5,
                transform=ax.get_xaxis_transform(), clip_on=False, zorder=6)
    used.add("keep_tick")


def _mark_segments(axes, marks: Marks, used: set[str]) -> None:
    if marks.restart is None:
        return
    for ax in axes:
        ax.axvline(marks.restart, color="purple", lw=1.2, ls="-.")
    used.add("restart")


def _legend_handles(used: set[str], smooth: float, unit: str = "epoch"):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    h = []
    if smooth:
        on_log = "; of log values on log axes" if "log_smooth" in used else ""
        h += [Line2D([], [], color="grey", lw=0.8, alpha=0.5, label="raw"),
              Line2D([], [], color="grey", lw=2, label=f"smoothed (EMA {smooth:g}{on_log})")]
    h.append(Line2D([], [], color="grey", marker="*", ms=11, ls="none", mec="black", label=f"best {unit}"))
    spec = {
        "keep": Line2D([], [], color="black", ls="--", label=f"recommended {unit}"),
        "keep_tick": Line2D([], [], color="grey", marker="v", ms=9, mec="black", mew=0.5, ls="none",
                            label=f"recommended {unit}"),
        "overfit": Patch(color="#d62728", alpha=0.25, label="overfitting: onset to end, gap shaded"),
        "plateau": Patch(color="grey", alpha=0.25, label="plateau"),
        "spike": Line2D([], [], marker="o", mfc="none", mec="#ff7f0e", mew=2, ls="none", label="spike"),
        "lrdrop": Line2D([], [], marker="^", color="#2ca02c", ls="none", label="LR drop"),
        "nan": Line2D([], [], marker="x", color="black", ls="none", label="NaN / inf"),
        "restart": Line2D([], [], color="purple", ls="-.", label="resumed run"),
    }
    return h + [spec[k] for k in ("keep", "keep_tick", "overfit", "plateau", "spike", "lrdrop", "nan", "restart") if k in used]


def _panel_values(panel: Panel) -> np.ndarray:
    vals = [_drawable(s.values[s.finite]) for s in panel.series if s.finite.any()]
    return np.concatenate(vals) if vals else np.array([])


def _is_bounded(panel: Panel) -> bool:
    """IoU, accuracy, ...: values in [0, 1] (or percent), where 1e-9 before learning starts is 0, not a decade."""
    return panel.key.split(":")[0] in BOUNDED_KINDS


def _log_scale(panel: Panel, log_y: bool) -> bool:
    """Whether the panel's y axis is logarithmic: the LR, or positive values with --log-y or spanning
    several decades (a linear axis hides the end of the run)."""
    v = _panel_values(panel)
    positive = bool(v.size and (v > 0).all() and not _is_bounded(panel))
    return panel.is_lr or (positive and (log_y or v.max() / v.min() > 1e3))


def _style_axis(ax, panel: Panel, x_axis: str, log_y: bool, legend: bool = True) -> None:
    ax.set_title(panel.title, fontsize=11, loc="left")
    ax.grid(True, alpha=0.25)
    ax.set_xlabel(x_axis)
    v = _panel_values(panel)
    if _log_scale(panel, log_y):
        ax.set_yscale("log")
    elif v.size > 10:
        # like TensorBoard's "ignore outliers in chart scaling": a huge first epoch should not
        # flatten the rest of the run. Per series, so that no series is pushed out of view.
        per = [_drawable(s.values[s.finite]) for s in panel.series if s.finite.sum() > 3]
        lo = min(np.percentile(x, 2) for x in per) if per else v.min()
        hi = max(np.percentile(x, 98) for x in per) if per else v.max()
        # only the bad side is trimmed: each series' best value (the starred point) stays in view
        judged = [(s.direction, _drawable(s.values[s.finite])) for s in panel.series if s.finite.any()]
        lo = min([lo] + [float(d.min()) for direction, d in judged if direction == "min"])
        hi = max([hi] + [float(d.max()) for direction, d in judged if direction == "max"])
        full = v.max() - v.min()
        if full > 0 and (hi - lo) < 0.7 * full:
            pad = 0.08 * (hi - lo or full)
            ax.set_ylim(lo - pad, hi + pad)
    ax.tick_params(labelsize=8)
    if legend:
        ax.legend(fontsize=8, loc="best", framealpha=0.8)


def _run_labels(runs: list[Run]) -> list[str]:
    """Each run's unique name (as ``analyze`` reports it), with its LR when the name does not say it."""
    from ..lr import lr_of_run
    from ..readers.discovery import run_names

    names = [r.name for r in runs]
    if not all(names) or len(set(names)) < len(names):  # runs loaded one by one: name them from their sources
        names = run_names([Path(r.source.rstrip("/")) for r in runs])
    labels = []
    for run, name in zip(runs, names):
        lr, _ = lr_of_run(run)
        label = f"{name} (lr {lr:g})" if lr is not None and f"{lr:g}" not in name else name
        labels.append(figure_text(label))
    return labels


def run_colours(runs: list[Run]) -> tuple[list[str], list[int], bool]:
    """(colour per run, legend order, ordered by LR?).

    When every run has a learning rate, colours follow the LR on a sequential colormap (dark = low LR),
    so a sweep reads as a gradient; otherwise a qualitative palette in the order the runs were given.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    from ..lr import lr_of_run

    lrs = [lr_of_run(r)[0] for r in runs]
    n = len(runs)
    if n > 1 and all(lr is not None for lr in lrs):
        order = sorted(range(n), key=lambda i: (lrs[i], i))
        seq = colormaps["viridis"]
        colours = [""] * n
        for rank, i in enumerate(order):
            colours[i] = to_hex(seq(0.88 * rank / (n - 1)))  # 0.88: the last yellow is unreadable on white
        return colours, order, True
    palette = colormaps["tab10" if n <= 10 else "tab20"]
    return [to_hex(palette(i % palette.N)) for i in range(n)], list(range(n)), False


@dataclass
class _Layout:
    """Where each (run, panel) goes: one run's panels wrap into 2 columns; a grid puts each run in a
    block of one column and wraps the blocks into about sqrt(runs) columns."""

    n_keys: int
    n_runs: int
    grid: bool

    @property
    def key_cols(self) -> int:
        return 1 if self.grid or self.n_keys == 1 else 2

    @property
    def block_cols(self) -> int:
        if not self.grid:
            return 1
        return self.n_runs if self.n_runs <= 3 else math.ceil(math.sqrt(self.n_runs))

    @property
    def rows(self) -> int:
        if self.grid:
            return self.n_keys * math.ceil(self.n_runs / self.block_cols)
        return math.ceil(self.n_keys / self.key_cols)

    @property
    def cols(self) -> int:
        return self.block_cols if self.grid else self.key_cols

    def at(self, run_i: int, key_i: int) -> tuple[int, int]:
        if self.grid:
            return (run_i // self.block_cols) * self.n_keys + key_i, run_i % self.block_cols
        return key_i // self.key_cols, key_i % self.key_cols


def _run_legend(fig, runs: list[Run], labels: list[str], colours: list[str], order: list[int], by_lr: bool,
                dashed: bool, left: float) -> None:
    """The overlay's legend, right of the panels: one entry per run (in LR order for a sweep)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colours[i], lw=2.2, label=labels[i]) for i in order]
    if dashed:
        handles += [Line2D([], [], color="none", label=" "),
                    Line2D([], [], color="grey", lw=2, ls="-", label="validation (solid)"),
                    Line2D([], [], color="grey", lw=2, ls="--", label="train (dashed)")]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(left, 0.94), fontsize=8, frameon=False,
               title="runs, by learning rate" if by_lr else "runs", title_fontsize=9, alignment="left",
               ncol=1 if len(runs) <= 24 else 2)


def _legend_width(labels: list[str], n_runs: int) -> float:
    """Inches the run legend needs: line sample + the longest label at font size 8."""
    chars = max(max(len(label) for label in labels), len("runs, by learning rate"))
    return (0.75 + 0.07 * chars) * (1 if n_runs <= 24 else 2)


def _winner(sweep: SweepReport | None, runs: list[Run], labels: list[str]) -> str:
    """For an overlay: which run won, by the sweep ranking `compare` computed, named by its label in the
    figure's run legend."""
    best = next((e for e in sweep.entries if e.rank == 1), None) if sweep is not None else None
    if sweep is None or best is None or best.best is None or best.best_epoch is None:
        return ""
    who = next((label for run, label in zip(runs, labels) if run.source == best.source), best.name)
    return f"; best: {who} (smoothed {sweep.metric} {best.best:.4g} at epoch {best.best_epoch:g})"


def _style_panel(key: str, r_i: int, grid: bool, panel_sets: list[list[Panel]], titles: dict[str, str]) -> Panel:
    """The panel an axis is styled by: the run's own in a grid, every run's series of that quantity in an
    overlay (one y scale for all of them)."""
    if grid:
        return next((p for p in panel_sets[r_i] if p.key == key), None) or Panel(key, titles[key], [])
    return Panel(key, titles[key], [p_s for ps in panel_sets for p in ps if p.key == key for p_s in p.series],
                 key == "lr")


def plot_runs(runs: list[Run], reports: list[RunReport], output: Path, *, metrics: list[str] | None = None,
              smooth: float = 0.6, log_y: bool = False, grid: bool = False, dpi: int = 120,
              size: tuple[float, float] | None = None, sweep: SweepReport | None = None) -> Path:
    """Draw and write one figure (see :func:`build_figure`); returns the path written."""
    fig = build_figure(runs, reports, metrics=metrics, smooth=smooth, log_y=log_y, grid=grid, size=size,
                       sweep=sweep)
    return save_figure(fig, Path(output), dpi=dpi)


def save_figure(fig: Figure, output: Path, dpi: int = 120) -> Path:
    """Write a figure (.png, .svg with text kept as text, .pdf) without touching matplotlib's global state."""
    import matplotlib

    from ..output import atomic_write

    fmt = output.suffix.lower().lstrip(".") or "png"
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable and editable
        # a temporary file renamed into place: never written into an existing inode (a hard link to a log)
        atomic_write(output, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi,
                                                     metadata={"Software": "curvecheck"} if fmt == "png" else None))
    return output


def build_figure(runs: list[Run], reports: list[RunReport], *, metrics: list[str] | None = None,
                 smooth: float = 0.6, log_y: bool = False, grid: bool = False,
                 size: tuple[float, float] | None = None, sweep: SweepReport | None = None) -> Figure:
    """One figure for one run (annotated) or several runs (overlaid, or small multiples with grid).

    A plain :class:`matplotlib.figure.Figure` on an Agg canvas: no pyplot, no backend switch, so a
    notebook's own matplotlib setup is left alone (display the figure, or save it with savefig).
    ``sweep`` (the ranking :func:`curvecheck.compare` computes) names the winning run in an overlay's title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panel_sets = [select_panels(r, metrics) for r in runs]
    keys = list(dict.fromkeys(p.key for ps in panel_sets for p in ps))
    titles = {p.key: p.title for ps in panel_sets for p in ps}
    if not keys:
        from ..errors import UsageError

        sources = ", ".join(r.source for r in runs)
        raise UsageError(f"{sources}: nothing to plot: no series match --metrics {','.join(metrics)}" if metrics
                         else f"{sources}: nothing to plot: no series with a direction or learning rate")
    grid = grid and len(runs) > 1
    overlay = len(runs) > 1 and not grid
    # a grid gives each run only its own panels (in the common order), so runs that log different
    # metrics leave no holes; an overlay gives every panel to every run
    slots = [[k for k in keys if any(p.key == k for p in ps)] if grid else keys for ps in panel_sets]
    layout = _Layout(max(len(sl) for sl in slots), len(runs), grid)
    labels = _run_labels(runs) if len(runs) > 1 else [""]
    colours, order, by_lr = run_colours(runs)
    legend_w = _legend_width(labels, len(runs)) if overlay else 0.0
    panel_h = 2.8 if grid else 3.3
    legend_rows = math.ceil(len(runs) / (1 if len(runs) <= 24 else 2)) + 3 if overlay else 0
    height = max(panel_h * layout.rows + 0.9, 0.19 * legend_rows + 1.2)  # the run legend fits, too
    figsize = size or (max(7.0, 5.2 * layout.cols) + legend_w, height)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    axes = fig.subplots(layout.rows, layout.cols, squeeze=False)
    all_marks = [build_marks(r) for r in reports]
    used: set[str] = set()
    dashed_any = False
    for r_i, (report, panels, marks) in enumerate(zip(reports, panel_sets, all_marks)):
        by_key = {p.key: p for p in panels}
        colour = colours[r_i]
        label = labels[r_i] if overlay else None  # a grid panel's title names its run
        run_axes = []
        for k_i, key in enumerate(slots[r_i]):
            row, col = layout.at(r_i, k_i)
            ax = axes[row][col]
            panel = by_key.get(key)
            if panel is None:
                continue
            run_axes.append(ax)
            log = _log_scale(_style_panel(key, r_i, grid, panel_sets, titles), log_y)
            if log and smooth and not panel.is_lr:
                used.add("log_smooth")
            for s in panel.series:
                c = colour if overlay else (_VAL if s.split == "val" else _TRAIN)
                dashed = overlay and s.split == "train" and s.kind != "lr"
                dashed_any |= dashed
                _draw_series(ax, s, c, smooth, label, dashed=dashed, log=log)
                if s.split == "val" or len(panel.series) == 1:
                    used.add("best") if _mark_best(ax, s, c, marks) else None
                if _mark_nonfinite(ax, s, c):
                    used.add("nan")
            if not overlay:
                _annotate_findings(ax, panel, marks, used)
        if not overlay:
            _mark_lr_drops(run_axes, marks, used)
            _mark_segments(run_axes, marks, used)
        if overlay:
            _mark_keep_ticks(run_axes, marks, colour, used)
        else:
            _mark_recommendation(run_axes, marks, report.x_axis, "black", used)
    for r_i in range(len(runs) if grid else 1):
        for k_i, key in enumerate(slots[r_i]):
            row, col = layout.at(r_i, k_i)
            ax = axes[row][col]
            panel = _style_panel(key, r_i, grid, panel_sets, titles)
            if ax.lines or ax.collections:
                _style_axis(ax, panel, reports[r_i].x_axis, log_y, legend=not overlay)
                if grid:
                    ax.set_title(f"{labels[r_i]}: {titles[key]}", fontsize=10, loc="left")
                elif overlay:
                    ax.set_title(titles[key], fontsize=11, loc="left", pad=11)  # room for the keep ticks
    for row_axes in axes:
        for ax in row_axes:
            if not ax.lines and not ax.collections:
                ax.set_visible(False)
    title = figure_text(Path(runs[0].source.rstrip("/")).name if len(runs) == 1
                        else f"{len(runs)} runs" + _winner(sweep, runs, labels))
    fig.suptitle(f"curvecheck: {title}", fontsize=12, x=0.01, ha="left")
    handles = _legend_handles(used, smooth, reports[0].x_axis)
    fig.legend(handles=handles, loc="lower center", ncol=min(8, len(handles)), fontsize=8, frameon=False)
    right = 1 - legend_w / figsize[0]
    if overlay:
        _run_legend(fig, runs, labels, colours, order, by_lr, dashed_any, right)
    fig.tight_layout(rect=(0, 0.05, right, 0.97))
    return fig
