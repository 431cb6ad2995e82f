"""Follow a growing training log and say, as it grows, whether training should stop now.

``curvecheck watch LOG|DIR`` polls the log's bytes (file sizes; never the modification time, so
the answer depends only on what has been written), re-reads it when it grew, and evaluates the
chosen stop rule on the log so far. Rules are causal (see :mod:`curvecheck.stopping`), so what
watch says after epoch t is what a replay of the finished log says about epoch t.

The log is only ever opened for reading. A CSV row still being written (no line end yet) is left
out until it is complete, so a half-written row never reads as a missing value.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, UsageError
from .findings import Finding
from .model import Run

# exit codes of `curvecheck watch` (also in its --help and the README)
EXIT_CONTINUE, EXIT_STOP, EXIT_ERROR = 0, 1, 2


@dataclass
class WatchSnapshot:
    """What watch knows after reading the log once."""

    source: str
    x_axis: str = "epoch"
    points: int = 0
    last_epoch: float | None = None
    monitor: list[str] = field(default_factory=list)
    strategy: str = "auto"
    stopped: bool = False
    stop_epoch: float | None = None
    kept_epoch: float | None = None
    reason: str = ""
    rule_state: str = ""
    findings: list[Finding] = field(default_factory=list)
    curves: dict[str, list[float]] = field(default_factory=dict)
    bests: dict[str, float | None] = field(default_factory=dict)  # best value of each curve, in its direction
    waiting: str | None = None  # why there is nothing to evaluate yet (empty log, one epoch...)


def log_file_of(path: Path) -> Path:
    """The log to follow: the path itself, or for a directory its TensorBoard run or, failing that,
    the last (by name) Lightning ``metrics.csv``, HF ``trainer_state.json`` or CSV file under it."""
    if not path.is_dir():
        return path
    from .readers.tensorboard import find_event_files

    if find_event_files(path):
        return path
    for pattern in ("metrics.csv", "trainer_state.json", "*.csv"):
        found = sorted(path.rglob(pattern))
        if found:
            return found[-1]
    raise InputError(path, "directory holds no training log (no TensorBoard events, metrics.csv, "
                           "trainer_state.json or CSV file)")


def fingerprint(path: Path) -> tuple:
    """Sizes of the files that make up the log: it changed when this changed (mtime is not used)."""
    if path.is_dir():
        return tuple(sorted((str(p), p.stat().st_size) for p in path.rglob("*") if p.is_file()))
    return ((str(path), path.stat().st_size),)


def read_growing(path: Path) -> Run:
    """Load the log as it is now; for a CSV file, only its complete lines."""
    from .readers import detect_format, load

    if path.is_dir() or detect_format(path) != "keras_csv":
        return load(path)
    from .readers.common import validate_run
    from .readers.csv_log import read_csv_log

    with path.open("rb") as fh:  # read-only; no lock is taken
        data = fh.read()
    complete = data[: data.rfind(b"\n") + 1]
    try:
        text = complete.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = complete.decode("latin-1")
    if not text.strip():
        raise InputError(path, "no complete line yet")
    return validate_run(read_csv_log(path, text), path)


def snapshot(log: str | Path, monitors: list[str] | None = None, *, strategy: str = "auto", mode: str = "auto",
             weights: list[float] | None = None, conditions: list[str] | None = None, **settings) -> WatchSnapshot:
    """Read the log once and evaluate the stop rule and the diagnostics on it."""
    from .api import analyze_run
    from .recommend import resolve_monitors, run_stop_rule
    from .stopping import StopRule, ThresholdRule

    path = Path(log)
    snap = WatchSnapshot(source=str(path), strategy=strategy)
    if not path.exists():  # watch may start before training writes its first line
        snap.waiting = "no such file or directory (yet)"
        return snap
    path = log_file_of(path)
    snap.source = str(path)
    try:
        run = read_growing(path)
    except InputError as exc:
        snap.waiting = exc.problem
        return snap
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if strategy == "threshold":
        threshold = ThresholdRule(conditions or [], **settings)
        rule: StopRule = threshold
        names = [name for name, _op, _v in threshold.conditions]
        missing = [n for n in names if n not in run.series]
        if missing:
            raise UsageError(f"{path}: no series {', '.join(missing)} for --when")
        series = [run[n] for n in names]
        for row in zip(*(s.values for s in series)):
            if rule.update(dict(zip(names, (float(v) for v in row)))):
                break
        x = series[0].x
    else:
        mons = resolve_monitors(run, monitors, mode)
        names = [s.name for s, _ in mons]
        rule = run_stop_rule(run, mons, strategy, weights=weights, **settings)
        x = mons[0][0].x
    snap.x_axis, snap.points, snap.monitor = run.x_axis, int(x.shape[0]), names
    snap.last_epoch = float(x[-1]) if x.shape[0] else None
    snap.stopped, snap.reason, snap.rule_state = rule.stopped, rule.reason, rule.state()
    snap.stop_epoch = float(x[rule.stop_index]) if rule.stop_index is not None else None
    snap.kept_epoch = float(x[rule.kept_index]) if rule.kept_index is not None else None
    snap.findings = analyze_run(run).findings
    for s in run.signals():
        if s.kind != "lr":
            finite = s.values[s.finite]
            snap.curves[s.name] = s.values.tolist()
            snap.bests[s.name] = (None if not finite.size or s.direction not in ("min", "max")
                                  else float(finite.min() if s.direction == "min" else finite.max()))
    return snap


def follow(log: str | Path, interval: float = 2.0, max_polls: int | None = None, **options) -> Iterator[WatchSnapshot]:
    """Yield a snapshot at the start and each time the log's bytes change; poll every ``interval`` s."""
    path = Path(log)
    last: tuple | None = None
    polls = 0
    while max_polls is None or polls < max_polls:
        polls += 1
        try:
            current = fingerprint(log_file_of(path) if path.exists() else path)
        except (OSError, InputError):
            current = ()
        if current != last:
            last = current
            yield snapshot(path, **options)
        time.sleep(interval)
