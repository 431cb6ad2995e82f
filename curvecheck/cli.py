"""The ``curvecheck`` command: parse options, call the library, render. No analysis here.

Exit codes: 0 ok; 1 findings at or above the ``--fail-on`` level; 2 usage or input error.
Heavy modules (numpy, the readers, Rich tables, matplotlib) are imported inside commands so that
``curvecheck --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from . import __version__
from .errors import CurvecheckError, InputError, UsageError
from .render import RENDERERS
from .vocab import FAIL_ON_LEVELS, STRATEGIES

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

def _untyped_list_arguments() -> None:
    """Help shows 'LOG' and '--select <str>' rather than Typer's '<list[Path]>' / '<list[str]>'."""
    from typer.core import TyperArgument, TyperOption

    for cls in (TyperArgument, TyperOption):
        shown = cls.display_type

        def display_type(self, ctx, shown=shown, is_argument=cls is TyperArgument):  # type: ignore[no-untyped-def]
            label = shown(self, ctx)
            if not label.startswith("<list["):
                return label
            return "" if is_argument else "<" + label[len("<list["):-2] + ">"

        cls.display_type = display_type  # type: ignore[method-assign]


_untyped_list_arguments()

app = typer.Typer(
    name="curvecheck",
    help=(
        "Diagnose training logs (Keras, PyTorch Lightning, Hugging Face Trainer, Ultralytics, TensorBoard, "
        "JSON Lines and CSV exports): "
        "what the curves say and what to do.\n\n"
        "Exit codes: 0 ok, 1 findings at the --fail-on level, 2 usage or input error."
    ),
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich help costs ~150 ms of imports
    context_settings={"help_option_names": ["-h", "--help"]},
)


# Choices come from the one vocabulary (vocab.py).
FailOn = Enum("FailOn", {level: level for level in FAIL_ON_LEVELS}, type=str)  # type: ignore[misc]
Strategy = Enum("Strategy", {name: name for name in STRATEGIES}, type=str)  # type: ignore[misc]


# every format name a report prints (declared once, in the reader registry)
if TYPE_CHECKING:
    class LogFormat(str, Enum):
        """The reader names of :data:`curvecheck.readers.registry.FORMATS`."""
else:
    from .readers.registry import FORMATS

    LogFormat = Enum("LogFormat", {name: name for name in FORMATS}, type=str)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"curvecheck: error: {_one_line(message)}", err=True)  # a newline in a path stays one line
    return typer.Exit(EXIT_INPUT)


def _echo(text: str) -> None:
    """Print a line to stdout; a reader that left early (``| head``) does not change the exit code
    (click would exit 1, which means "findings" here)."""
    from .output import closed_stdout_is_fine

    with closed_stdout_is_fine():
        typer.echo(text)


def parse_directions(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, direction = item.partition("=")
        if not sep or not name or direction not in ("min", "max", "none"):
            raise UsageError(f"--direction expects NAME=min|max|none, got '{item}'")
        out[name] = direction
    return out


def _version_callback(value: bool) -> None:
    if value:
        _echo(f"curvecheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Diagnose training logs."""


def _load_config(config_file: Path | None, isolated: bool, sets: list[str] | None):
    """The config file (found from the working directory up unless --config/--isolated) plus --set."""
    from .config import load_config

    config = load_config(config_file, isolated=isolated)
    config.apply_sets(sets)
    return config


def _apply_flags(config, **flags) -> None:
    """Command-line flags override the file (None: not given)."""
    for key, value in flags.items():
        config.set_option(key.replace("_", "-"), value, f"--{key.replace('_', '-')}")


def _directions(config, items: list[str] | None) -> dict[str, str]:
    merged = dict(config["direction"])
    merged.update(parse_directions(items))
    return merged


_CONFIG_HELP = "Config file (default: curvecheck.toml or pyproject.toml [tool.curvecheck], searched upwards)."
_REPORT_FORMATS = ("text", "json", "markdown", "github", "sarif")  # recommend-stop and compare
_FORMAT_METAVAR = "<" + "|".join(_REPORT_FORMATS) + ">"
_SET_HELP = "Set a check's threshold: CHECK.SETTING=VALUE, by code or name (plateau.min_epochs=10). Repeatable."


@app.command(epilog="Examples:\n\n  curvecheck analyze history.csv\n\n"
                     "  curvecheck analyze logs/run1 --format github --fail-on warning --plot run1.png\n\n"
                     "  curvecheck analyze history.csv --format sarif --output curvecheck.sarif")
def analyze(
    logs: List[Path] = typer.Argument(..., metavar="LOG", help="Log files or TensorBoard run directories.",
                                      show_default=False),
    format: str = typer.Option("text", "--format", "-f", metavar="<" + "|".join(RENDERERS) + ">",
                               help=f"Output: {' | '.join(RENDERERS)} (text: terminal report; json: versioned "
                                    "document)."),
    json_flag: bool = typer.Option(False, "--json", help="Same as --format json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                          help="Write the report to FILE (atomically, never over a log) instead of "
                                               "standard output."),
    log_format: Optional[LogFormat] = typer.Option(None, "--log-format",
                                                   help="Force the reader instead of detecting it from the content."),
    segment: Optional[int] = typer.Option(None, "--segment", min=1,
                                          help="When runs were appended to one log, analyse run N (1-based). "
                                               "Default: the last."),
    direction: Optional[List[str]] = typer.Option(None, "--direction",
                                                  help="Override a series' direction: NAME=min|max|none. Repeatable."),
    select: Optional[List[str]] = typer.Option(None, "--select",
                                               help="Run only these checks: codes (CC201), prefixes (CC2) or names "
                                                    "(overfitting). Repeatable or comma-separated."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these checks (same forms as --select)."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", show_default=False,
                                             help="Exit 1 when a finding of this severity or worse is found "
                                                  "(default: error)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the findings."),
    plot_file: Optional[Path] = typer.Option(None, "--plot", help="Also write the annotated figure (as 'plot')."),
    force: bool = typer.Option(False, "--force", help="With --plot: also replace an existing file that is not a "
                                                      "figure (an existing PNG/PDF/SVG is replaced without it; a "
                                                      "log never is)."),
    x_column: Optional[str] = typer.Option(None, "--x", help="The x-axis column of a table (epoch or step)."),
    column: Optional[List[str]] = typer.Option(None, "--column",
                                               help="Say what a column is: NAME=ROLE, ROLE a series meaning "
                                                    "(val_loss, train_accuracy, lr...), epoch, step, ignore, or for "
                                                    "long tables name/value. Repeatable."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1,
                                       help="Analyse runs in N processes (default: all cores)."),
    live: bool = typer.Option(False, "--live", help="Training is still running: the recommendation says STOP NOW "
                                                    "or CONTINUE. Default: a finished run."),
    max_points: Optional[int] = typer.Option(None, "--max-points", min=0, show_default=False,
                                             help="Judge series longer than N points on a sample of their points "
                                                  "(default: the max-points setting, see 'curvecheck config'; 0: "
                                                  "every point, slow on 10^6 points)."),
    sets: Optional[List[str]] = typer.Option(None, "--set", metavar="CHECK.SETTING=VALUE", help=_SET_HELP),
    config_file: Optional[Path] = typer.Option(None, "--config", help=_CONFIG_HELP),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore config files."),
) -> None:
    """Diagnose each log: a summary of every series (first, best with its epoch, last) and the findings.

    A folder or a glob yields every run below it (each CSV/JSON log, each folder of event files);
    '-' reads stdin. With several runs, a summary table across runs follows the reports.

    Epochs are the log's own numbers: Keras CSVLogger counts from 0 (Keras prints 'Epoch 1' for it).
    Exit codes: 0 ok, 1 a finding at or above --fail-on (default: error), 2 usage or input error.
    """
    from . import api
    from .render import render

    try:
        config = _load_config(config_file, isolated, sets)
        _apply_flags(config, select=_split_list(select), ignore=_split_list(ignore), max_points=max_points,
                     fail_on=fail_on.value if fail_on else None)
        directions = _directions(config, direction)
        output_format = "json" if json_flag else format
        if output_format not in RENDERERS:
            raise UsageError(f"--format: unknown format '{format}' (choose from {', '.join(RENDERERS)})")
        plot_target = _plot_target(plot_file, logs, force, replace_figure=True) if plot_file else None
        if output is not None:
            from .output import check_target

            check_target(output, logs, force=True)
        columns = _parse_columns(column)
        report = _analyze_logs(logs, dict(format=log_format.value if log_format else None, segment=segment,
                                          directions=directions, x=x_column, columns=columns, jobs=jobs,
                                          select=config["select"], ignore=config["ignore"],
                                          settings=config.settings, severities=config.severities, live=live,
                                          monitors=config["monitor"], strategy=config["strategy"],
                                          max_points=config["max-points"]),
                               need_runs=plot_target is not None)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    for error in report.errors:
        typer.echo(f"curvecheck: error: {_one_line(error.message)}", err=True)
    failed, written = False, None
    if plot_target is not None and report.runs:
        if _draw(lambda: api.plot([], plot_target, report=report), [r.source for r in report.runs]):
            typer.echo(f"wrote {plot_target}", err=True)
            written = str(plot_target)
        else:
            failed = True
    if report.runs:
        _deliver(render(report, output_format, quiet=quiet, plot=written), output, logs)
    code = report.exit_code(config["fail-on"])
    raise typer.Exit(EXIT_INPUT if failed else code)


def _deliver(text: str, output: Path | None, inputs: list[Path]) -> None:
    """Print a rendered report (a closed stdout keeps the exit code), or write it safely to --output."""
    from .output import check_target, closed_stdout_is_fine, write_text

    if output is None:
        with closed_stdout_is_fine():
            sys.stdout.write(text)
        return
    write_text(check_target(output, inputs, force=True), text)
    typer.echo(f"wrote {output}", err=True)


def _draw(draw, sources: list[str]) -> bool:
    """Write a figure; on failure print one line naming the logs (matplotlib's own limits included)."""
    import numpy as np

    try:
        draw()
        return True
    except (InputError, UsageError) as exc:
        typer.echo(f"curvecheck: error: {_one_line(str(exc))}", err=True)
    except (np.linalg.LinAlgError, OverflowError, ValueError) as exc:
        # a transform that turns singular on extreme values, an image too large
        typer.echo(f"curvecheck: error: {_one_line(', '.join(sources))}: cannot draw the figure: {exc}", err=True)
    return False


# --- many runs (readers): options and the load/analyse loop of `analyze` --------------------

def _one_line(message: str) -> str:
    return message.replace("\r", "\\r").replace("\n", "\\n")


def _parse_columns(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, role = item.rpartition("=")
        if not sep or not name or not role:
            raise UsageError(f"--column expects NAME=ROLE, got '{item}'")
        out[name] = role
    return out


def _analyze_logs(logs, options: dict[str, Any], need_runs: bool):
    """Every run the arguments name, analysed by the API (in parallel processes); unreadable ones in
    report.errors. With ``need_runs`` (the figure) the runs are read here and analysed in this process."""
    from . import api

    if need_runs:
        load_keys = ("format", "segment", "directions", "x", "columns")
        loaded, errors = api.load_many(logs, **{k: options[k] for k in load_keys}, on_error="collect")
        report = api.analyze(loaded, **{k: v for k, v in options.items() if k not in load_keys + ("jobs",)},
                             directions=options["directions"])
        report.errors = errors
        return report
    if not sys.stderr.isatty():
        return api.analyze(logs, **options, on_error="collect")
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("analysing", total=None)
        return api.analyze(logs, **options, on_error="collect",
                           progress=lambda done, total: bar.update(task, completed=done, total=total))


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)




class Mode(str, Enum):
    auto = "auto"
    min = "min"
    max = "max"


@app.command("recommend-stop",
             epilog="Examples:\n\n  curvecheck recommend-stop history.csv\n\n"
                    "  curvecheck recommend-stop logs/fit/run1 --monitor val_loss --monitor val_iou "
                    "--checkpoint-template 'ckpt/epoch_{epoch:03d}.keras'\n\n"
                    "  curvecheck recommend-stop history.csv --strategy keras --patience 5 --json")
def recommend_stop_cmd(
    log: Path = typer.Argument(..., metavar="LOG", help="A log file or TensorBoard run directory.",
                               show_default=False),
    monitor: Optional[List[str]] = typer.Option(None, "--monitor", "-m",
                                                help="Series to monitor (default: val_loss, as Keras). Repeat to "
                                                     "combine several, e.g. --monitor val_loss --monitor val_iou."),
    weight: Optional[List[float]] = typer.Option(None, "--weight", help="Weight of each --monitor (default 1)."),
    mode: Mode = typer.Option(Mode.auto, "--mode", help="min or max; auto takes it from the name."),
    strategy: Optional[Strategy] = typer.Option(None, "--strategy", show_default=False,
                                                help="auto (curvecheck's rule), keras / lightning (exact replays of "
                                                     "their EarlyStopping), gl / pq / up (Prechelt), threshold "
                                                     "(--when)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Patience for keras/lightning (and threshold)."),
    min_delta: Optional[float] = typer.Option(None, "--min-delta", help="min_delta for keras/lightning."),
    baseline: Optional[float] = typer.Option(None, "--baseline", help="Keras baseline."),
    start_from_epoch: Optional[int] = typer.Option(None, "--start-from-epoch", help="Keras start_from_epoch."),
    stopping_threshold: Optional[float] = typer.Option(None, "--stopping-threshold", help="Lightning threshold."),
    divergence_threshold: Optional[float] = typer.Option(None, "--divergence-threshold", help="Lightning threshold."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Prechelt GL/PQ alpha."),
    strips: Optional[int] = typer.Option(None, "--strips", help="Prechelt UP: successive strips (s)."),
    planned_epochs: Optional[int] = typer.Option(None, "--planned-epochs", min=1,
                                                 help="auto: the planned number of epochs (default: read from the "
                                                      "log when it records it)."),
    when: Optional[List[str]] = typer.Option(None, "--when", help="Threshold condition, e.g. 'val_loss<0.1'. Repeatable."),
    smooth: Optional[float] = typer.Option(None, "--smooth", min=0.0, max=0.99,
                                           help="Pick the best epoch on TensorBoard-smoothed curves (weight, e.g. 0.6)."),
    checkpoint_template: Optional[str] = typer.Option(None, "--checkpoint-template",
                                                      help="ModelCheckpoint filepath, e.g. 'ckpt/epoch_{epoch:03d}.keras'"
                                                           ": prints the file to keep ({epoch} as the log's framework "
                                                           "fills it: 1-based for Keras, the logged epoch for "
                                                           "Lightning and others)."),
    live: bool = typer.Option(False, "--live/--finished",
                              help="Training is still running: say STOP NOW or CONTINUE. Default: a finished run."),
    json_flag: bool = typer.Option(False, "--json", help="Print the recommendation as JSON (same as --format json)."),
    format: str = typer.Option("text", "--format", "-f", metavar=_FORMAT_METAVAR,
                               help="Output: text, json, markdown, github or sarif."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                          help="Write the report to FILE instead of standard output (never over "
                                               "a log)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the epoch (or the checkpoint path)."),
    log_format: Optional[LogFormat] = typer.Option(None, "--log-format", help="Force the reader."),
    segment: Optional[int] = typer.Option(None, "--segment", min=1, help="Which appended run to use (1-based)."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", show_default=False,
                                             help="Exit 1 when the log has a finding of this severity or worse "
                                                  "(default: error)."),
    sets: Optional[List[str]] = typer.Option(None, "--set", metavar="CHECK.SETTING=VALUE", help=_SET_HELP),
    config_file: Optional[Path] = typer.Option(None, "--config", help=_CONFIG_HELP),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore config files."),
) -> None:
    """Recommend the epoch to keep, say when training should have stopped, and suggest EarlyStopping settings.

    Epochs are the log's own numbers (Keras CSVLogger counts from 0; Keras prints that epoch as 'Epoch 1').
    Exit codes: 0 a recommendation was made and no finding reached --fail-on; 1 a finding did (e.g. the
    run diverged); 2 usage or input error.
    """
    from . import api

    try:
        config = _load_config(config_file, isolated, sets)
        _apply_flags(config, monitor=monitor, strategy=strategy.value if strategy else None,
                     fail_on=fail_on.value if fail_on else None)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    fmt = "json" if json_flag else format
    if fmt not in _REPORT_FORMATS:
        raise _fail(f"--format: unknown format '{format}' (choose from {', '.join(_REPORT_FORMATS)})")
    chosen = config["strategy"]
    # only the options given: each rule's defaults live with the rule (curvecheck.stopping)
    given = {"patience": patience, "min_delta": min_delta, "baseline": baseline, "start_from_epoch": start_from_epoch,
             "stopping_threshold": stopping_threshold, "divergence_threshold": divergence_threshold,
             "alpha": alpha, "s": strips, "planned_epochs": planned_epochs}
    params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    try:
        run = api.load(log, log_format.value if log_format else None, segment=segment,
                       directions=dict(config["direction"]))
        rec = api.recommend_stop(run, config["monitor"], weights=weight, mode=mode.value, strategy=chosen,
                                 smooth=smooth, conditions=when, checkpoint_template=checkpoint_template, live=live,
                                 fail_on=config["fail-on"], settings=config.settings, severities=config.severities,
                                 **params)
    except (InputError, UsageError, ValueError) as exc:
        raise _fail(str(exc)) from None
    try:
        _deliver_recommendation(rec, run, fmt, output, log, quiet, config)
    except (InputError, UsageError) as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(rec.exit_code())



def _deliver_recommendation(rec, run, fmt: str, output: Path | None, log: Path, quiet: bool, config) -> None:
    """Print (or write to --output) the recommendation in an output format."""
    import io

    from .names import terminal_safe
    from .render.recommend import render_recommendation
    from .render.terminal import make_console

    def text_render(console) -> None:
        render_recommendation(console, terminal_safe(rec), terminal_safe(str(log)), run.x_axis)

    if quiet:
        text = (rec.checkpoint if rec.checkpoint else ("" if rec.epoch is None else f"{rec.epoch:g}")) + "\n"
    elif fmt == "text" and output is None:
        from .output import closed_stdout_is_fine

        with closed_stdout_is_fine():  # names are data: no markup, control characters shown escaped
            text_render(make_console())
        return
    elif fmt == "json":
        from .render.json_out import recommendation_json

        text = recommendation_json(rec) + "\n"
    else:
        console = make_console(io.StringIO())
        with console.capture() as captured:
            text_render(console)
        text = captured.get()
        if fmt != "text":
            text = _recommendation_report(rec, run, fmt, log, text, config)
    _deliver(text, output, [log])


def _recommendation_report(rec, run, fmt: str, log: Path, text: str, config) -> str:
    """The markdown, github or sarif rendering: these list the log's findings with the recommendation."""
    from .checks import run_checks

    findings = run_checks(run, settings=config.settings, severities=config.severities)[0]
    if fmt == "sarif":
        from .render.sarif import render

        return render([(str(log), findings)]) + "\n"
    from .render import markdown

    summary = markdown.render_recommendation(rec, str(log), findings, run.x_axis)
    if fmt == "markdown":
        return summary
    from .render import github

    github.append_step_summary(summary, [log])
    return github.render_recommendation(rec, str(log), findings, text)


@app.command(epilog="Examples:\n\n  curvecheck watch logs/history.csv\n\n"
                     "  curvecheck watch lightning_logs/version_0 --strategy lightning --patience 3\n\n"
                     "  curvecheck watch history.csv --once   (one look, plain lines, for scripts)")
def watch(
    log: Path = typer.Argument(..., metavar="LOG", help="A log file, or a directory (TensorBoard run, Lightning or HF output).",
                               show_default=False),
    monitor: Optional[List[str]] = typer.Option(None, "--monitor", "-m", help="Series to monitor (default: val_loss)."),
    mode: Mode = typer.Option(Mode.auto, "--mode", help="min or max; auto takes it from the name."),
    strategy: Strategy = typer.Option(Strategy("auto"), "--strategy", help="The stop rule (as in recommend-stop)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Patience for keras/lightning/threshold."),
    planned_epochs: Optional[int] = typer.Option(None, "--planned-epochs", min=1,
                                                 help="auto: the planned number of epochs (default: from the log)."),
    when: Optional[List[str]] = typer.Option(None, "--when", help="Threshold condition, e.g. 'val_loss<0.1'."),
    interval: float = typer.Option(2.0, "--interval", min=0.05, help="Seconds between two looks at the log's size."),
    once: bool = typer.Option(False, "--once", help="Evaluate once, print plain lines, exit (for scripts)."),
) -> None:
    """Follow a growing log: curves, current findings and the stop rule's state, redrawn as the log grows;
    prints STOP NOW once when the rule fires. The log is only read, never locked or written.

    Exit codes: 0 no stop signal (with --once) or watching ended by Ctrl-C before one; 1 the rule says
    STOP NOW; 2 usage or input error (with --once, also a log with nothing to evaluate yet).
    """
    from .watch import EXIT_ERROR, EXIT_STOP, snapshot

    given = {"patience": patience, "planned_epochs": planned_epochs}
    options = dict(monitors=monitor, strategy=strategy.value, mode=mode.value, conditions=when,
                   **{k: v for k, v in given.items() if v is not None})
    try:
        if once:
            from .render.watch import plain_lines

            snap = snapshot(log, **options)
            _echo("\n".join(plain_lines(snap)))
            raise typer.Exit(EXIT_ERROR if snap.waiting else EXIT_STOP if snap.stopped else EXIT_OK)
        _watch_live(log, interval, options)
    except (InputError, UsageError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _watch_live(log: Path, interval: float, options: dict) -> None:
    from rich.console import Console
    from rich.live import Live

    from .render.watch import live_view, status_line
    from .watch import EXIT_STOP, follow

    console = Console(highlight=False)
    snap = None
    try:
        with Live(console=console, auto_refresh=False, transient=False) as live:
            for snap in follow(log, interval, **options):
                live.update(live_view(snap), refresh=True)
                if snap.stopped:
                    break
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_OK) from None
    if snap is not None and snap.stopped:
        console.print(status_line(snap), style="bold red")
        raise typer.Exit(EXIT_STOP)


@app.command(epilog="Examples:\n\n  curvecheck compare sweep/lr_*.csv\n\n"
                     "  curvecheck compare new/history.csv --baseline main/history.csv --fail-if 'val_iou < -0.01'")
def compare(
    logs: List[Path] = typer.Argument(..., metavar="LOG", help="The runs of a sweep (files or TensorBoard directories).",
                                      show_default=False),
    label: Optional[List[str]] = typer.Option(None, "--label", metavar="lr=VALUE",
                                              help="lr=VALUE for each log, in order (default: from the lr column "
                                                   "or the file name)."),
    metric: Optional[str] = typer.Option(None, "--metric", metavar="NAME", help="Series to rank by (default: the first shared "
                                                                "validation metric, else val_loss)."),
    json_flag: bool = typer.Option(False, "--json", help="Print the comparison as JSON (same as --format json)."),
    format: str = typer.Option("text", "--format", "-f", metavar=_FORMAT_METAVAR,
                               help="Output: text, json, markdown, github or sarif."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                          help="Write the report to FILE instead of standard output."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", metavar="LOG",
                                            help="Regression gate: compare each LOG with this run, series by series."),
    fail_if: Optional[List[str]] = typer.Option(None, "--fail-if", metavar="'METRIC < DELTA'",
                                                help="With --baseline: exit 1 when the delta (candidate - baseline) "
                                                     "satisfies this, e.g. 'val_iou < -0.01' or 'val_loss > 5%'. "
                                                     "Repeatable. Default: fail-if in the config file."),
    at: str = typer.Option("best", "--at", metavar="<best|recommended|last>", help="With --baseline: compare the values at each run's best epoch, "
                                                "its recommended epoch, or its last epoch (best|recommended|last)."),
    sets: Optional[List[str]] = typer.Option(None, "--set", metavar="CHECK.SETTING=VALUE", help=_SET_HELP),
    config_file: Optional[Path] = typer.Option(None, "--config", help=_CONFIG_HELP),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore config files."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", show_default=False,
                                             help="Exit 1 when a run has a finding of this severity or worse "
                                                  "(default: error)."),
) -> None:
    """Compare the runs of a learning-rate sweep: rank them, judge each LR, and say whether the best is bracketed.

    Exit codes: 0 ok, 1 a run has a finding at or above --fail-on (default: error, e.g. a run that never
    learned), 2 usage or input error.
    """
    from .api import compare as compare_api

    fmt = "json" if json_flag else format
    if fmt not in _REPORT_FORMATS:
        raise _fail(f"--format: unknown format '{format}' (choose from {', '.join(_REPORT_FORMATS)})")
    if fail_if and baseline is None:
        raise _fail("--fail-if needs --baseline")
    try:
        config = _load_config(config_file, isolated, sets)
        _apply_flags(config, fail_if=fail_if or None, fail_on=fail_on.value if fail_on else None)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    if baseline is not None:  # the gate's conditions: --fail-if, else the config's fail-if
        source = config.source("fail-if")
        _gate_cmd(logs, baseline, config, at, fmt, output, where=source if source == "--fail-if" else f"{source}: fail-if")
    labels = None
    if label:
        if len(label) != len(logs):
            raise _fail(f"give one --label per log ({len(logs)} logs, {len(label)} labels)")
        try:
            labels = [item.split("=", 1)[1] if "=" in item else item for item in label]
            [float(v) for v in labels]
        except ValueError:
            raise _fail("--label expects lr=NUMBER") from None
    try:
        runs, labels, unreadable = _load_sweep(logs, labels)
        if not runs:
            raise typer.Exit(EXIT_INPUT)
        rep = compare_api(runs, labels, metric, settings=config.settings, severities=config.severities)
    except (InputError, UsageError) as exc:
        raise _fail(str(exc)) from None
    _deliver_comparison(rep, [], fmt, output, list(logs))
    raise typer.Exit(EXIT_INPUT if unreadable else rep.exit_code(config["fail-on"]))


def _load_sweep(logs: list[Path], labels: list[str] | None):
    """The runs of the readable logs (and their labels); one line on stderr for each log that is not."""
    from . import api

    runs: list = []
    kept: list[str] = []
    unreadable = False
    for i, log in enumerate(logs):
        loaded, errors = api.load_many(log, on_error="collect")
        for error in errors:
            typer.echo(f"curvecheck: error: {_one_line(error.message)}", err=True)
        unreadable = unreadable or bool(errors)
        runs.extend(loaded)
        if loaded and labels:
            kept.append(labels[i])
    return runs, (kept if labels else None), unreadable


def _gate_cmd(logs: list[Path], baseline: Path, config, at: str, fmt: str, output: Path | None,
              where: str = "--fail-if"):
    """compare --baseline: each candidate against the baseline; exit 1 when a fail-if condition holds
    or a candidate has a finding at --fail-on, as every command does."""
    from collections import Counter

    from . import api
    from .checks import run_checks
    from .findings import at_level
    from .gate import gate, parse_condition

    try:
        conditions = [parse_condition(c, where) for c in config["fail-if"]]
        base = api.load(baseline)
    except (InputError, UsageError) as exc:
        raise _fail(str(exc)) from None
    gates, failed, findings_fail = [], False, False
    for log in logs:
        try:
            run = api.load(log)
            result = gate(run, base, conditions, at=at, where=where)
            found = run_checks(run, settings=config.settings, severities=config.severities)[0]
            result.findings = dict(Counter(f.severity for f in found))
            findings_fail = findings_fail or bool(at_level(found, config["fail-on"]))
            gates.append(result)
        except InputError as exc:
            typer.echo(f"curvecheck: error: {_one_line(str(exc))}", err=True)
            failed = True
        except UsageError as exc:
            raise _fail(str(exc)) from None
    if gates:
        _deliver_comparison(None, gates, fmt, output, [*logs, baseline])
    gate_failed = any(not g.passed for g in gates) or findings_fail
    raise typer.Exit(EXIT_INPUT if failed else EXIT_FINDINGS if gate_failed else EXIT_OK)


def _deliver_comparison(rep, gates: list, fmt: str, output: Path | None, inputs: list[Path]) -> None:
    import io

    from .names import terminal_safe
    from .render.recommend import render_gate, render_sweep
    from .render.terminal import make_console

    def text() -> str:
        buf = io.StringIO()
        console = make_console(buf) if output is not None or fmt != "text" else make_console()
        with console.capture() as captured:
            if rep is not None:
                render_sweep(console, terminal_safe(rep))
            for g in gates:
                render_gate(console, terminal_safe(g))
        return captured.get()

    if fmt == "json":
        from .render.json_out import comparison_json

        body = comparison_json(rep, gates) + "\n"
    elif fmt == "sarif":
        from .render.sarif import render

        body = render([], gates) + "\n"
    elif fmt in ("markdown", "github"):
        from .render import markdown

        body = markdown.render_comparison(rep, gates)
        if fmt == "github":
            from .render import github

            github.append_step_summary(body, inputs)
            body = github.render_comparison(gates, text(), rep)
    else:
        body = text()
    _deliver(body, output, inputs)


def _plot_target(output: Path | None, logs: list[Path], force: bool, replace_figure: bool = False) -> Path:
    """Where to write a figure: never onto a log (or a link to one), never over a file without leave."""
    from .output import check_target
    from .render.plot import default_output

    target = output or default_output(logs)
    if target.is_dir():
        raise UsageError(f"{target}: is a directory: give a file name ending in .png, .svg or .pdf")
    if target.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"{target}: the figure must be .png, .svg or .pdf")
    return check_target(target, logs, force=force, replace_figure=replace_figure)


def _parse_size(size: str | None) -> tuple[float, float] | None:
    if not size:
        return None
    try:
        w, h = (float(v) for v in size.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size expects WIDTHxHEIGHT in inches, e.g. 12x8, got '{size}'") from None
    return w, h


@app.command(epilog="Examples:\n\n  curvecheck plot history.csv\n\n"
                     "  curvecheck plot sweep/lr_*.csv -o sweep.svg --metrics loss,accuracy")
def plot(
    logs: List[Path] = typer.Argument(..., metavar="LOG", help="Log files or TensorBoard run directories.", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Figure file (.png, .svg, .pdf). Default: <log>_curvecheck.png in the "
                                               "current directory."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Panels to draw, e.g. loss,iou,lr (kinds or names)."),
    smooth: float = typer.Option(0.6, "--smooth", min=0.0, max=0.99,
                                 help="TensorBoard smoothing weight for the thick lines (0 = raw only)."),
    log_y: bool = typer.Option(False, "--log-y", help="Log scale for the y axes (the LR is always on a log axis)."),
    grid: bool = typer.Option(False, "--grid", help="With several runs: small multiples, about sqrt(runs) columns, instead of one overlay."),
    dpi: int = typer.Option(120, "--dpi", min=30, max=600, help="Resolution for PNG."),
    size: Optional[str] = typer.Option(None, "--size", help="Figure size in inches, WIDTHxHEIGHT (e.g. 12x8)."),
    force: bool = typer.Option(False, "--force", help="Also replace an existing file that is not a figure (an "
                                                      "existing PNG/PDF/SVG is replaced without it; a log never is)."),
    log_format: Optional[LogFormat] = typer.Option(None, "--log-format", help="Force the reader."),
    segment: Optional[int] = typer.Option(None, "--segment", min=1, help="Which appended run to plot (1-based)."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", show_default=False,
                                             help="Exit 1 (after writing the figure) when a run has a finding of "
                                                  "this severity or worse (default: error, as analyze)."),
    sets: Optional[List[str]] = typer.Option(None, "--set", metavar="CHECK.SETTING=VALUE", help=_SET_HELP),
    config_file: Optional[Path] = typer.Option(None, "--config", help=_CONFIG_HELP),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore config files."),
) -> None:
    """Draw the curves with what the diagnostics found: recommended epoch, best epochs, overfitting gap,
    plateaus, LR drops, spikes, NaN epochs. Several runs (files, globs or a folder) are overlaid
    (one colour per run, dark to light by learning rate when every run has one).

    A log that cannot be read gets one line on stderr; the others are still plotted.
    Exit codes: 0 ok, 1 a run has a finding at or above --fail-on (default: error), 2 usage or input
    error (a log could not be read, or no figure could be drawn)."""
    from . import api

    try:
        config = _load_config(config_file, isolated, sets)
        _apply_flags(config, fail_on=fail_on.value if fail_on else None)
        target = _plot_target(output, logs, force, replace_figure=True)
        figure_size = _parse_size(size)
        report = _analyze_logs(logs, dict(format=log_format.value if log_format else None, segment=segment,
                                          directions=dict(config["direction"]), x=None, columns=None,
                                          settings=config.settings, severities=config.severities,
                                          monitors=config["monitor"], strategy=config["strategy"],
                                          max_points=config["max-points"]),
                               need_runs=True)
    except (InputError, UsageError) as exc:
        raise _fail(str(exc)) from None
    for error in report.errors:
        typer.echo(f"curvecheck: error: {_one_line(error.message)}", err=True)
    if not report.runs:
        raise typer.Exit(EXIT_INPUT)
    drawn = _draw(lambda: api.plot([], target, report=report, metrics=_split_list([metrics]) if metrics else None,
                                   smooth=smooth, log_y=log_y, grid=grid, dpi=dpi, size=figure_size),
                  [r.source for r in report.runs])
    if not drawn:
        raise typer.Exit(EXIT_INPUT)
    _echo(f"wrote {_one_line(str(target))}")
    raise typer.Exit(report.exit_code(config["fail-on"]))


def _split_list(items: list[str] | None) -> list[str] | None:
    if not items:
        return None
    return [p.strip() for item in items for p in item.split(",") if p.strip()]


@app.command(epilog="Examples:\n\n  curvecheck explain\n\n  curvecheck explain CC201\n\n"
                     "  curvecheck explain overfitting")
def explain(
    code: Optional[str] = typer.Argument(None, metavar="CODE", help="A check code (CC201) or name (overfitting)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the catalogue as the README's Markdown table."),
) -> None:
    """Document the checks: with no CODE, list them all; with a CODE, print what it detects, why it
    matters, what to do, and its thresholds."""
    from .checks import CHECKS, find_check
    from .render.docs import check_doc, check_table, readme_catalogue

    if code is None:
        _echo(readme_catalogue(CHECKS.values()) if markdown else check_table(CHECKS.values()))
        return
    check = find_check(code)
    if check is None:
        raise _fail(f"unknown check '{code}' (run 'curvecheck explain' for the list)")
    _echo(check_doc(check))


@app.command("config", epilog="Examples:\n\n  curvecheck config\n\n"
                               "  curvecheck config --config ci/curvecheck.toml --set plateau.min_epochs=10")
def config_cmd(
    sets: Optional[List[str]] = typer.Option(None, "--set", metavar="CHECK.SETTING=VALUE", help=_SET_HELP),
    config_file: Optional[Path] = typer.Option(None, "--config", help=_CONFIG_HELP),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore config files."),
) -> None:
    """Print the effective settings and where each came from (default, the config file, --set)."""
    from .config import describe

    try:
        config = _load_config(config_file, isolated, sets)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    _echo(f"# config file: {config.path if config.path else 'none' + (' (--isolated)' if isolated else '')}")
    for key, value, source in describe(config):
        _echo(f"{key} = {_toml_value(value)}  # {source}")


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _tolerate_legacy_encodings() -> None:
    """On a non-UTF-8 stdout (a Windows cp1252 console, LANG=C) print what cannot be encoded as
    backslash escapes instead of crashing; the text report also switches to ASCII glyphs."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main() -> None:
    """Entry point: never show a traceback to the user (CURVECHECK_DEBUG=1 shows it)."""
    import warnings

    # Overflow to inf in absurd logs (values near 1e308) is handled and reported by the checks;
    # numpy's RuntimeWarnings would only be noise on the user's terminal.
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    _tolerate_legacy_encodings()
    try:
        app()
    except CurvecheckError as exc:
        typer.echo(f"curvecheck: error: {_one_line(str(exc))}", err=True)
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        sys.exit(130)
    except MemoryError:  # analysing (not reading: the readers name the file) needed more than the process may use
        typer.echo("curvecheck: error: out of memory while analysing the logs (a memory limit such as ulimit -v, "
                   "or too little RAM for this many points)", err=True)
        sys.exit(EXIT_INPUT)
    except BrokenPipeError:  # stdout closed early outside a guarded report: the reader left, not an error
        os._exit(EXIT_OK)  # not sys.exit: the flush at exit would hit the closed pipe again
    except Exception as exc:  # a bug in curvecheck: one line, and how to see more
        if os.environ.get("CURVECHECK_DEBUG"):
            raise
        typer.echo(f"curvecheck: internal error: {type(exc).__name__}: {exc} "
                   f"(set CURVECHECK_DEBUG=1 for the traceback and please report it)", err=True)
        sys.exit(EXIT_INPUT)


if __name__ == "__main__":
    main()
