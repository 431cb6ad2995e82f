from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import findings
from ..findings import Finding
from .base import Check, RunContext, fmt, fx, out_of_range


class DataIntegrity(Check):
    """Appended or restarted runs, truncated files, gaps, repeated steps, impossible metric values.

    What it detects: several runs appended to one log (the epoch counter resets) or a resumed run
    (the step goes backwards); the same step logged twice in one series; a file cut off mid-write;
    missing epochs in the middle of the log; a metric that should lie in [0, 1] (accuracy, IoU,
    Dice, F1, precision, recall, AUC, mAP) with values above 1 or below 0 (values all between 1
    and 100 are read as percentages and only noted).

    Why it matters: a log that mixes runs gives a meaningless "best epoch"; a truncated log hides
    the end of the run; a metric above 1 is a bug in the metric, so every decision based on it is
    suspect (other checks then leave that metric alone).

    What to do: write each run to its own log (a new CSVLogger filename per run, or
    ``append=False``), or pick the run with ``--segment``; fix the metric implementation. (A log
    without any validation series is not a data problem: the report carries a ``no_validation`` note.)

    Example: ``log holds 4 appended runs; analysing the last (epochs 0-8).``
    """

    code = "CC401"
    name = "data-integrity"
    kind = "data_integrity"
    severity = "warning"
    min_points = 1

    @dataclass
    class SegmentsEvidence(findings.Evidence):
        segments: list[dict[str, Any]]  # index, x_start, x_end, points of each appended run
        selected_segment: int | None

    @dataclass
    class TruncatedEvidence(findings.Evidence):
        pass

    @dataclass
    class GapsEvidence(findings.Evidence):
        missing_epochs: int
        usual_step: float

    @dataclass
    class DuplicatesEvidence(findings.Evidence):
        duplicates: dict[str, int] = field(default_factory=dict)  # series -> points logged again at a used x

    @dataclass
    class RangeEvidence(findings.Evidence):
        max: float
        min: float
        epochs_out_of_range: int

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        run = ctx.run
        for note in run.notes:
            if note.kind == "segments":
                out.append(self.finding(series=[], epochs={}, message=note.message,
                                        evidence=self.SegmentsEvidence([s.to_dict() for s in run.segments],
                                                                       run.selected_segment),
                                        advice="Give each run its own log file, or pick one with --segment N."))
            elif note.kind == "truncated":
                out.append(self.finding(series=[], epochs={}, message=note.message, evidence=self.TruncatedEvidence(),
                                        advice="The run was probably killed while writing; the last epoch may be missing."))
        out.extend(self._gaps(ctx))
        out.extend(self._duplicates(ctx))
        out.extend(self._out_of_range(ctx))
        return out

    def _gaps(self, ctx: RunContext) -> list[Finding]:
        if ctx.x_axis != "epoch":
            return []
        x = np.unique(np.concatenate([s.x for s in ctx.signals()])) if ctx.signals() else np.array([])
        if x.size < 3:
            return []
        d = np.diff(x)
        step = np.median(d)
        holes = np.nonzero(d > 1.5 * step)[0]
        if not holes.size:
            return []
        spans = [f"{fx(x[i] + step)}-{fx(x[i + 1] - step)}" for i in holes[:5]]
        missing = int(sum(round(d[i] / step) - 1 for i in holes))
        return [self.finding(series=[], epochs={"start": x[holes[0]], "end": x[holes[-1] + 1]}, severity="info",
                             message=f"{missing} epoch(s) missing from the log: {', '.join(spans)}.",
                             evidence=self.GapsEvidence(missing, float(step)),
                             advice="Epochs are missing (logging interrupted or filtered); the curve between is unknown.")]

    def _duplicates(self, ctx: RunContext) -> list[Finding]:
        """Several values logged at the same step of one series (TensorBoard keeps them all)."""
        dup = {}
        for s in ctx.signals():
            n_dup = int(s.x.shape[0] - np.unique(s.x).shape[0])
            if n_dup:
                dup[s.name] = n_dup
        if not dup:
            return []
        listed = ", ".join(f"{k} ({v})" for k, v in list(dup.items())[:5])
        return [self.finding(series=list(dup), epochs={}, severity="info",
                             message=f"some {ctx.x_axis}s were logged more than once: {listed}.",
                             evidence=self.DuplicatesEvidence(dup),
                             advice="Usually a resumed run or a second writer on the same log; all values are kept, "
                                    "in file order.")]

    def _out_of_range(self, ctx: RunContext) -> list[Finding]:
        out = []
        for s in ctx.signals():
            bad = out_of_range(s)
            if bad.any():
                v = s.values[s.finite]
                xs = s.x[s.finite][bad]
                out.append(self.finding(
                    series=[s.name], epochs={"start": xs[0], "end": xs[-1]},
                    message=(f"{s.name} leaves [0, 1] at {int(bad.sum())} {ctx.x_axis}(s) (max {fmt(v.max())}, "
                             f"min {fmt(v.min())}): {'an' if s.kind[:1] in 'aeiou' else 'a'} {s.kind} cannot do that, "
                             "so the metric has a bug."),
                    evidence=self.RangeEvidence(float(v.max()), float(v.min()), int(bad.sum())),
                    advice="Fix the metric implementation (averaging over batches, smoothing terms, thresholds)."))
        return out
