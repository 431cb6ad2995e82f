from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import findings
from ..findings import Finding
from .base import Check, RunContext, fmt, fx


class NonFinite(Check):
    """NaN or inf in a loss or metric, from the first epoch it appears.

    What it detects: any NaN or inf value in a loss or metric series. It reports the first epoch,
    how many epochs are affected, whether the series ever recovered, and the learning rate at
    that epoch when the log has one.

    Why it matters: once the loss is NaN the weights are NaN too; every later epoch is wasted
    and any checkpoint saved after it is unusable. A metric that is NaN while the loss is finite
    usually divides by zero (an empty mask in a Dice/IoU, no positive predictions in a precision).

    What to do: lower the learning rate (a NaN right after the LR rose is the classic sign), clip
    gradients, look for log(0) or division by zero in custom losses and metrics (add a smoothing
    term), check the inputs for NaN, and stop a broken run at once. The advice names the log's own
    framework: Keras ``clipnorm=1.0`` and ``TerminateOnNaN()``; Lightning ``gradient_clip_val`` and
    ``EarlyStopping(check_finite=True)``; Hugging Face ``max_grad_norm``; Ultralytics a lower ``lr0``.

    Example: ``loss is NaN from epoch 12 to the end (13 of 25 epochs); the learning rate was
    2.05e-03 then, 2048x its first value.``
    """

    code = "CC101"
    name = "non-finite"
    kind = "non_finite"
    severity = "error"
    min_points = 1

    @dataclass
    class Evidence(findings.Evidence):
        first_epoch: float  # first non-finite point (of the series reported first: a loss if any)
        non_finite_count: int
        points: int
        recovered: bool  # finite again after the first non-finite point
        series_non_finite_counts: dict[str, int] = field(default_factory=dict)
        lr_at_first: float | None = None  # the learning rate at that point, when logged

    def run(self, ctx: RunContext) -> list[Finding]:
        # one finding per event: series that turn non-finite at the same epoch are reported together
        groups: dict[float, list] = {}
        for s in ctx.signals():
            bad = ~s.finite
            # a train metric NaN throughout is reported here too (CC302 adds that its val twin is finite)
            if bad.any():
                first = int(np.argmax(bad))
                groups.setdefault(float(s.x[first]), []).append((s, first, bad))
        return [self._finding(ctx, x0, members) for x0, members in sorted(groups.items())]

    def _finding(self, ctx: RunContext, x0: float, members: list) -> Finding:
        unit = ctx.x_axis
        s, first, bad = next(((m for m in members if m[0].kind == "loss")), members[0])
        names = [m[0].name for m in members]
        count = int(bad.sum())
        recovered = bool(s.finite[first:].any())
        kinds = sorted({"NaN" if np.isnan(v) else "inf" for m in members for v in m[0].values[~m[0].finite]})
        what = "/".join(kinds)
        subject = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = "is" if len(names) == 1 else "are"
        if count == len(s):
            msg = f"{subject} {verb} {what} at every {unit} ({count} of {len(s)})."
        elif not recovered:
            msg = f"{subject} {verb} {what} from {unit} {fx(x0)} to the end ({count} of {len(s)} {unit}s)."
            if first:
                msg += f" Last finite {s.name}: {fmt(s.values[first - 1])} at {unit} {fx(s.x[first - 1])}."
        else:
            msg = f"{subject} {verb} {what} at {count} {unit}(s), first at {unit} {fx(x0)}, finite again afterwards."
        evidence = self.Evidence(first_epoch=x0, non_finite_count=count, points=len(s), recovered=recovered,
                                 series_non_finite_counts={m[0].name: int(m[2].sum()) for m in members})
        lr_note = self._lr_at(ctx, x0, evidence)
        if lr_note:
            msg += " " + lr_note
        has_loss = any(m[0].kind == "loss" for m in members)
        if has_loss:
            from ..advice import callback_framework, clip_gradients, stop_on_nan

            framework = callback_framework(ctx.run)
            advice = (f"Lower the learning rate, clip gradients ({clip_gradients(framework)}), check inputs and "
                      f"custom losses for NaN/log(0); {stop_on_nan(framework)}.")
        else:
            advice = ("The loss is finite, so the metric itself is undefined on some batches: add a smoothing term "
                      "to Dice/IoU/precision (empty masks or no positive predictions divide by zero).")
        return self.finding(series=names, epochs={"at": x0} if recovered else {"start": x0, "end": s.x[-1]},
                            message=msg, evidence=evidence, advice=advice,
                            severity="error" if has_loss else "warning")

    @staticmethod
    def _lr_at(ctx: RunContext, x0: float, evidence: NonFinite.Evidence) -> str:
        lr = ctx.lr
        if lr is None or not lr.finite.any():
            return ""
        idx = np.nonzero(lr.x <= x0)[0]
        if not idx.size or not np.isfinite(lr.values[idx[-1]]):
            return ""
        at, first = lr.values[idx[-1]], lr.values[lr.finite][0]
        evidence.lr_at_first = float(at)
        if first > 0 and at > 1.5 * first:
            return f"The learning rate was {fmt(at)} then, {at / first:.3g}x its first value."
        return f"The learning rate was {fmt(at)} then."
