"""What every check shares: the Check base class and a per-run context with cached curve statistics.

Noise-aware by design: each series gets a robust noise level (``sigma``, see
:func:`curvecheck.signal.noise_level`) and a running-median trend, and thresholds are multiples
of sigma, so one noisy epoch neither triggers nor hides a finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np

from ..context import default_monitor
from ..errors import UsageError
from ..findings import Evidence, Finding
from ..metrics import MetricInfo, is_percent
from ..model import Run, Series
from ..numbers import fmt, fx  # noqa: F401  (re-exported for the checks)
from ..reduce import ReducedSeries, Reduction, level_view, peak_view, resolve_max_points, stride
from ..schedule import LR_DROP_RATIO, LR_SMOOTH_SHARE, Schedule, describe_schedule, lr_profile  # noqa: F401  (re-exported)
from ..signal import best_index, bin_medians, noise_level, rolling_median
from ..vocab import BOUNDED_KINDS

METRIC_KINDS = BOUNDED_KINDS  # the metrics checks compare with losses; all live in [0, 1]
T = TypeVar("T")


def slope_t(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y over x and its t statistic (slope / standard error).

    A trend test over a window: many small steps in the same direction are significant even when
    each one is smaller than the noise.
    """
    n = x.shape[0]
    if n < 3:
        return 0.0, 0.0
    xc = x - x.mean()
    sxx = float(np.sum(xc * xc))
    if sxx == 0:
        return 0.0, 0.0
    slope = float(np.sum(xc * (y - y.mean())) / sxx)
    resid = y - (y.mean() + slope * xc)
    s2 = float(np.sum(resid * resid)) / (n - 2)
    if s2 == 0:
        return slope, (np.inf if slope > 0 else -np.inf if slope < 0 else 0.0)
    return slope, slope / np.sqrt(s2 / sxx)


def lr_drops(ctx: RunContext, start: float = -np.inf, end: float = np.inf) -> dict:
    """What the LR did in [start, end]: discrete drops (step schedules), or a smooth schedule.

    A window onto :func:`curvecheck.schedule.describe_schedule`, the one classification of the LR."""
    lr = ctx.lr
    if lr is None or lr.finite.sum() < 2:
        return {"has_lr": False, "smooth": False, "drops": [], "first": None, "last": None, "min": None,
                "in_window": None}
    x, v = lr.x[lr.finite], lr.values[lr.finite]
    schedule = ctx.schedule
    inside = (x >= start) & (x <= end)
    return {
        "has_lr": True,
        "smooth": schedule.smooth,
        "drops": [d for d in schedule.drops if start <= d <= end],
        "first": schedule.first, "last": schedule.last, "min": schedule.min,
        "in_window": (float(v[inside][0]), float(v[inside][-1])) if inside.any() else None,
    }


def out_of_range(s: Series) -> np.ndarray:
    """For a metric that must lie in [0, 1], which of its finite values leave it (all False for other
    series; values all between 1 and 100 are percentages, e.g. accuracy logged as 35..78)."""
    v = s.values[s.finite]
    if s.kind not in BOUNDED_KINDS or not v.shape[0]:
        return np.zeros(v.shape[0], dtype=bool)
    if is_percent(s.kind, v):
        return np.zeros(v.shape[0], dtype=bool)
    return (v > 1 + 1e-6) | (v < -1e-6)


@dataclass
class Curve:
    """A series' finite points with its trend and noise, in 'goodness' units (higher is better)."""

    series: Series
    x: np.ndarray
    values: np.ndarray  # raw finite values
    sign: float  # +1 when higher is better, -1 when lower is better
    per_step: bool = False  # values are per-interval medians of a per-step (minibatch) series
    # the x of every finite logged point when the curve is a sample of them (curvecheck.reduce), else None
    logged_x: np.ndarray | None = None

    @property
    def logged(self) -> int:
        """How many logged points the curve stands for (``n`` unless it is a sample of a long series)."""
        return self.n if self.logged_x is None else int(self.logged_x.shape[0])

    def logged_after(self, i: int) -> int:
        """How many logged points come after the curve's point ``i`` (``n - 1 - i`` unless it is a sample)."""
        if self.logged_x is None:
            return self.n - 1 - i
        return int(self.logged_x.shape[0] - np.searchsorted(self.logged_x, self.x[i], side="right"))

    @cached_property
    def goodness(self) -> np.ndarray:
        return self.sign * self.values

    @cached_property
    def trend(self) -> np.ndarray:
        """Centred 5-point running median of the goodness: robust to single spikes."""
        return rolling_median(self.goodness, 5)

    @cached_property
    def sigma(self) -> float:
        return noise_level(self.values)

    @property
    def at_ceiling(self) -> bool:
        """A [0, 1] metric that reached 1.0 (perfect): it cannot improve, so it is neither stuck nor stalled."""
        return self.series.kind in BOUNDED_KINDS and self.sign > 0 and float(np.max(self.values)) >= 1.0 - 1e-9

    def frozen_tail(self, min_epochs: int = 5) -> int:
        """How many final points are exactly equal (0 when fewer than ``min_epochs``)."""
        v = self.values
        start = v.shape[0] - 1
        while start > 0 and v[start - 1] == v[-1]:
            start -= 1
        length = v.shape[0] - start
        return length if length >= min_epochs else 0

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def name(self) -> str:
        return self.series.name

    def best_index(self, smoothed: bool = True) -> int:
        """Index (into the finite points) of the best trend value (raw value when not ``smoothed``);
        the first one on ties. Same definition as everywhere: :func:`curvecheck.signal.best_index`."""
        index = best_index(self.trend if smoothed else self.goodness, "max")
        return 0 if index is None else index

    def window_mean(self, count: int) -> float:
        """Mean goodness of the last ``count`` points."""
        return float(np.mean(self.goodness[-count:]))

    def significant_bests(self, k: float = 2.0, rel: float = 0.0) -> list[int]:
        """Indices where the curve beat its last significant best by more than k*sigma (and rel*|value|).

        Comparing against the last *significant* best (not the last best) lets slow steady progress
        add up, while noise wiggles below the threshold are ignored.
        """
        threshold = k * (self.sigma if np.isfinite(self.sigma) else 0.0)
        g = self.goodness
        # Speed: with non-negative thresholds every significant best is a strict running record
        # (greater than every earlier value), so the same scan runs over the records only, with the
        # same float operations (same result). Other thresholds keep the plain scan.
        idx: Iterable[int] = range(1, g.shape[0])
        if g.shape[0] > 1 and threshold >= 0 and rel >= 0:
            with np.errstate(invalid="ignore"):
                records = g[1:] > np.fmax.accumulate(g)[:-1]
            idx = (np.flatnonzero(records) + 1).tolist()
        values = g.tolist()
        anchor = values[0]
        out = [0]
        for i in idx:
            if values[i] - anchor > max(threshold, rel * abs(anchor)):
                anchor = values[i]
                out.append(i)
        return out


MAIN_METRIC_ORDER = ("iou", "dice", "map", "accuracy", "f1", "auc")
_TEXT_METRIC = re.compile(r"(^|[^a-z])(wer|cer|rouge\w*|bleu|sacrebleu|chrf)([^a-z]|$)")


def _secondary_rank(name: str) -> int:
    """Within one kind: mAP50-95 before mAP50, top-1 before top-5 (0 = preferred)."""
    low = name.lower()
    if "95" in low:
        return 0
    if "top5" in low or "top_5" in low or re.search(r"map_?0?\.?5\b|map50(?!_?95)", low):
        return 2
    return 1


PER_STEP_RATIO = 3  # a series logged this many times as often as the sparsest one is per-step
PER_STEP_MIN_POINTS = 500  # ... as is one logged at this many steps when nothing is sparser
PER_STEP_BINS = 50  # intervals a per-step series is summarised in when there is no evaluation grid


class RunContext:
    """A run plus cached curves and the roles of its series (primary losses, val metrics, LR)."""

    def __init__(self, run: Run, max_points: int | None = None):
        self.run = run
        # longer curves are judged on a sample of their points (curvecheck.reduce; None: the default)
        self.max_points = resolve_max_points(max_points)
        self._curves: dict[tuple[str, bool], Curve | None] = {}
        self._reduced: dict[str, bool] = {}
        self._totals: dict[str, Series | None] = {}
        # roles asked for once per series by several checks: cached, or a run of many tags is quadratic
        self._signals: list[Series] | None = None
        self._losses: dict[str, list[Series]] = {}
        self._primary: dict[str, Series | None] = {}
        self._memo: dict[Any, Any] = {}
        self._per_step: dict[int, tuple[Series, bool]] = {}

    @classmethod
    def of(cls, run: Run) -> RunContext:
        """The context of the analysis of ``run`` under way (:func:`shared_context`), else a fresh one."""
        ctx = _SHARED.get(id(run))
        return ctx if ctx is not None and ctx.run is run else cls(run)

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` once per run and ``key`` (a check's findings asked again by the recommendation)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def curve(self, series: Series | None, peaks: bool = False) -> Curve | None:
        """The series' finite points as a :class:`Curve`; a per-step series (see :meth:`per_step`) is
        summarised as the median of each evaluation interval, so minibatch noise is not judged as
        spikes, plateaus or oscillation of the model. A curve longer than ``max_points`` is a sample
        of its points (:func:`curvecheck.reduce.level_view`; ``peaks=True``: the highest point of
        each stretch, :func:`curvecheck.reduce.peak_view`, for the spike check)."""
        if series is None:
            return None
        key = (series.name, peaks and self.reduced(series))
        if key not in self._curves:
            finite = series.finite
            sign = {"max": 1.0, "min": -1.0}.get(series.direction, -1.0 if series.kind == "loss" else 1.0)
            x, v = series.x[finite], series.values[finite]
            per_step = self.per_step(series)
            logged_x = x if self.reduced(series) else None
            if per_step:
                x, v = bin_medians(x, v, self._evaluation_grid(series))
            elif key[1]:
                x, v = peak_view(x, v, self.max_points)
            elif logged_x is not None:
                x, v = level_view(x, v, sign, self.max_points)
            self._curves[key] = Curve(series, x, v, sign, per_step, logged_x) if v.shape[0] >= 1 else None
        return self._curves[key]

    def reduced(self, series: Series) -> bool:
        """True when the checks judge this series on a sample of its points (more finite points than
        ``max_points``; per-step series are summarised per evaluation interval instead)."""
        if series.name not in self._reduced:
            self._reduced[series.name] = (stride(int(series.finite.sum()), self.max_points) > 1
                                          and not self.per_step(series))
        return self._reduced[series.name]

    def reduction(self) -> Reduction | None:
        """The series of this run judged on a sample, for the report (None: every point judged)."""
        out = []
        for s in self.run.signals():
            if s.kind != "lr" and len(s) and self.reduced(s):
                points = int(s.finite.sum())
                analysed = self.curve(s)
                out.append(ReducedSeries(s.name, points, analysed.n if analysed else 0,
                                         stride(points, self.max_points)))
        return Reduction(self.max_points, out) if out else None

    @cached_property
    def _sparsest(self) -> Series | None:
        logged = [s for s in self.signals() if s.finite.sum() >= 3]
        return min(logged, key=lambda s: int(s.finite.sum())) if logged else None

    def per_step(self, series: Series) -> bool:
        """True for a per-step (minibatch) series: on a step axis, logged at least ``PER_STEP_RATIO``
        times as often as the run's sparsest series (validation, or per-epoch averages), or, when
        nothing is logged more sparsely, at ``PER_STEP_MIN_POINTS`` steps or more."""
        if self.x_axis != "step":
            return False
        # asked several times per series by several checks: once (keyed by the series object itself)
        hit = self._per_step.get(id(series))
        if hit is None or hit[0] is not series:
            hit = self._per_step[id(series)] = (series, self._is_per_step(series))
        return hit[1]

    def _is_per_step(self, series: Series) -> bool:
        sparse = self._sparsest
        if sparse is None or series.kind == "lr":
            return False
        n = int(series.finite.sum())
        if series is not sparse and n >= PER_STEP_RATIO * int(sparse.finite.sum()):
            return True
        return n >= PER_STEP_MIN_POINTS and n < PER_STEP_RATIO * int(sparse.finite.sum())

    def _evaluation_grid(self, series: Series) -> np.ndarray:
        """Interval ends for a per-step series: the evaluation steps of the sparsest series, or, when the
        series is (about) the sparsest itself, ``PER_STEP_BINS`` intervals of equal point count."""
        sparse = self._sparsest
        if sparse is not None and PER_STEP_RATIO * int(sparse.finite.sum()) <= int(series.finite.sum()):
            return np.unique(sparse.x[sparse.finite])
        x = series.x[series.finite]
        return np.unique(np.quantile(x, np.linspace(0, 1, PER_STEP_BINS + 1)[1:], method="lower"))

    @property
    def x_axis(self) -> str:
        return self.run.x_axis

    @cached_property
    def num_points(self) -> int:
        """The run's length as the checks see it: :attr:`Run.num_points`, or, when long series are judged on
        a sample of their points, the longest sample (so shares of the run index the sampled curves)."""
        sampled = [c.n for s in self.signals() if self.reduced(s) and (c := self.curve(s)) is not None]
        return max(sampled) if sampled else self.run.num_points

    def signals(self) -> list[Series]:
        if self._signals is None:
            self._signals = [s for s in self.run.signals() if s.kind != "lr" and len(s)]
        return list(self._signals)

    def losses(self, split: str) -> list[Series]:
        if split not in self._losses:
            self._losses[split] = [s for s in self.signals() if s.kind == "loss" and s.split == split]
        return list(self._losses[split])

    def primary_loss(self, split: str) -> Series | None:
        """The overall loss of a split: base name 'loss' when present; else, for a log of component
        losses on one x axis (Ultralytics/YOLO ``val/box_loss``, ``val/cls_loss``...), their sum (what
        the model optimises; see :meth:`total_loss`); else the first loss."""
        if split not in self._primary:
            losses = self._losses_of(split)
            named = next((s for s in losses if s.info.base == "loss"), None)
            self._primary[split] = named or self.total_loss(split) or (losses[0] if losses else None)
        return self._primary[split]

    def _losses_of(self, split: str) -> list[Series]:
        self.losses(split)
        return self._losses[split]

    def total_loss(self, split: str) -> Series | None:
        """The sum of a split's component losses (``<split> total loss``), when it has several on the
        same x values and no overall loss; None otherwise."""
        key = f"{split} total loss"
        if key not in self._totals:
            parts = [s for s in self.losses(split) if s.finite.any()]
            total = None
            if len(parts) >= 2 and all(np.array_equal(p.x, parts[0].x) for p in parts):
                values = np.sum([p.values for p in parts], axis=0)
                total = Series(key, parts[0].x, values, MetricInfo(kind="loss", split=split, direction="min",
                                                                   base="total_loss"))
            self._totals[key] = total
        return self._totals[key]

    def main_metric(self, split: str) -> Series | None:
        """The metric a user reports for a split: IoU/Jaccard > Dice > mAP (50-95 first) > accuracy (top-1
        first) > F1 > AUC; None when the split has none of these."""
        return next(iter(self.quality_metrics(split)), None)

    def quality_metrics(self, split: str) -> list[Series]:
        """One metric per quality kind a user may report (IoU, Dice, mAP, accuracy, F1, AUC; mAP50-95 over
        mAP50, top-1 over top-5), in :data:`MAIN_METRIC_ORDER`, then a WER/CER/ROUGE/BLEU score. Precision and recall alone depend on a
        threshold and are not among them."""
        # a metric that leaves [0, 1] is a bug (CC401): nobody should monitor or report it
        metrics = [s for s in self.metrics(split) if s.finite.any() and not out_of_range(s).any()]
        out = []
        for kind in MAIN_METRIC_ORDER:
            of_kind = [s for s in metrics if s.kind == kind]
            if of_kind:
                out.append(min(of_kind, key=lambda s: _secondary_rank(s.name)))
        # then text-generation scores (WER, CER, ROUGE, BLEU), which have no kind of their own
        text = [s for s in self.signals() if s.kind == "other" and s.split == split and s.direction != "none"
                and s.finite.any() and _TEXT_METRIC.search(s.name.lower())]
        return out + text[:1]

    def metrics(self, split: str) -> list[Series]:
        return [s for s in self.signals() if s.kind in METRIC_KINDS and s.split == split and s.direction != "none"]

    def pairs(self) -> list[tuple[Series, Series]]:
        return [(t, v) for t, v in self.run.pairs() if t.kind != "lr"]

    @cached_property
    def lr(self) -> Series | None:
        return self.run.lr_series()

    @cached_property
    def monitor(self) -> Series | None:
        """The curve monitored by default (:func:`curvecheck.context.default_monitor`)."""
        return default_monitor(self.run)

    @cached_property
    def schedule(self) -> Schedule:
        """The LR schedule, classified once (:func:`curvecheck.schedule.describe_schedule`)."""
        return describe_schedule(self.lr)


_SHARED: dict[int, RunContext] = {}  # id(run) -> the context of its analysis under way


@contextmanager
def shared_context(run: Run) -> Iterator[RunContext]:
    """Within this block every :meth:`RunContext.of` ``(run)`` is one context: one analysis (the checks, the
    recommendation, the LR verdict) asks the same questions of the run (its curves; did it never learn,
    where did it diverge) and answers each once. Outside, each call gets a fresh context: a run's
    series or format may change between analyses."""
    ctx = RunContext.of(run)  # nested: the outer block's
    outer = id(run) in _SHARED
    _SHARED[id(run)] = ctx
    try:
        yield ctx
    finally:
        if not outer:
            _SHARED.pop(id(run), None)


@dataclass(frozen=True)
class CheckSettings:
    """A check's thresholds. Each check subclasses this as ``Check.Settings`` and declares its
    thresholds as fields with :func:`setting` (default + the sentence a user reads in ``explain``).

    Settings come from Python (``analyze(settings={"plateau": {"min_epochs": 10}})``), the config
    file (``[tool.curvecheck.plateau]``) or the CLI (``--set plateau.min_epochs=10``); all of them end
    in :meth:`Check.make_settings`, which checks names and types.
    """


def setting(default: float, doc: str) -> Any:
    """A documented threshold of a check: ``k_sigma: float = setting(3.0, "what it means")``."""
    return field(default=default, metadata={"doc": doc})


def setting_docs(settings_cls: type[CheckSettings]) -> list[tuple[str, type, Any, str]]:
    """(name, type, default, meaning) of every threshold, in declaration order."""
    out = []
    for f in fields(settings_cls):
        default = f.default if f.default is not MISSING else None
        typ = {"int": int, "float": float, "bool": bool, "str": str}.get(str(f.type), type(default))
        out.append((f.name, typ, default, f.metadata.get("doc", "")))
    return out


def _coerce(value: Any, typ: type, where: str) -> Any:
    """A setting's value as its declared type; ints are accepted for floats, nothing else is converted
    silently (a string "10" from the command line is parsed by the CLI before it gets here)."""
    if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, typ) and not (typ is int and isinstance(value, bool)):
        return value
    raise UsageError(f"{where}: expected {typ.__name__}, got {value!r}")


S = TypeVar("S", bound=CheckSettings)
_EvidenceBase = Evidence  # inside Check, the name Evidence is the check's own evidence class


class Check(Generic[S]):
    """Base class. Subclasses set the metadata and implement :meth:`run`.

    The class docstring is the user documentation shown by ``curvecheck explain CODE``; it has
    the sections *What it detects*, *Why it matters*, *What to do* and *Example*. ``Settings`` is
    the dataclass of its thresholds (see :class:`CheckSettings`); an instance reads them from
    ``self.settings``. ``Evidence`` is the dataclass its findings' evidence is made of (a check with
    several kinds of finding declares one class per kind, each named ``...Evidence``). ``severity`` is
    the default severity; config can change it per code.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[str]
    severity: ClassVar[str]
    min_points: ClassVar[int] = 5
    Settings: ClassVar[type[CheckSettings]] = CheckSettings
    # The dataclass of this check's evidence (its fields are the JSON shape of ``evidence`` for this
    # code, in the shipped JSON Schema and in ``explain``). The base class means "not declared yet":
    # the schema then accepts any object for this code.
    Evidence: ClassVar[type[Evidence]] = Evidence

    def __init__(self, settings: CheckSettings | None = None, severity: str | None = None):
        # typed as the subclass's Settings: ``class Plateau(Check[Plateau.Settings])`` lets mypy check
        # ``self.settings.min_epochs``; an unparameterised ``Check`` reads them untyped
        self.settings: S = cast(S, settings if settings is not None else self.Settings())
        # a configured severity wins over the check's own choice (some checks grade by case)
        self.severity_override = severity

    @classmethod
    def make_settings(cls, overrides: Mapping[str, Any] | None = None, source: str = "settings") -> CheckSettings:
        """This check's settings with ``overrides`` applied; an unknown name or a wrong type is a
        :class:`UsageError` naming the key and ``source`` (a file, ``--set``, ``settings=``)."""
        known = {name: typ for name, typ, _d, _m in setting_docs(cls.Settings)}
        values = {}
        for key, value in (overrides or {}).items():
            where = f"{source}: {cls.name}.{key}"
            if key not in known:
                names = ", ".join(known) or "none"
                raise UsageError(f"{where}: unknown setting of {cls.code} {cls.name} (its settings: {names})")
            values[key] = _coerce(value, known[key], where)
        return replace(cls.Settings(), **values)

    def finding(self, *, series: list[str], epochs: dict[str, float], message: str,
                evidence: _EvidenceBase | dict | None = None, advice: str = "", severity: str | None = None,
                kind: str | None = None) -> Finding:
        return Finding(code=self.code, name=self.name, kind=kind or self.kind,
                       severity=self.severity_override or severity or self.severity, series=series, epochs=epochs,
                       message=message, evidence=evidence if evidence is not None else {}, advice=advice)

    @classmethod
    def evidence_classes(cls) -> list[type[_EvidenceBase]]:
        """Every evidence shape this check's findings can carry: its ``Evidence`` and any other nested
        Evidence dataclass whose name ends in ``Evidence`` (parts such as ``Drop`` are not listed)."""
        found = [value for name, value in vars(cls).items()
                 if isinstance(value, type) and issubclass(value, _EvidenceBase) and value is not _EvidenceBase
                 and name.endswith("Evidence")]
        return found or ([cls.Evidence] if cls.Evidence is not _EvidenceBase else [])

    @classmethod
    def applicable(cls, run: Run) -> bool:
        """False when the run is too short for this check to judge."""
        return run.num_points >= cls.min_points

    def run(self, ctx: RunContext) -> list[Finding]:
        raise NotImplementedError

    def findings(self, ctx: RunContext) -> list[Finding]:
        """:meth:`run`, once per run, settings and severity: the recommendation asks some checks' questions
        again (did the run never learn, where did it diverge) and gets the same answer without the work."""
        return list(ctx.memo((self.code, self.settings, self.severity_override), lambda: self.run(ctx)))

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip().splitlines()
        return doc[0] if doc else cls.name
