from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Finding
from .base import Check, CheckSettings, RunContext, fmt, fx, setting

_ZERO_IS_TRIVIAL = ("iou", "dice", "f1", "precision", "recall", "map")


def loss_change_during(ctx: RunContext, split: str, x0: float, x1: float) -> float | None:
    """Relative change of the split's main loss between x0 and x1 (None without a loss)."""
    loss = ctx.curve(ctx.primary_loss(split))
    if loss is None:
        return None
    seg = loss.values[(loss.x >= x0) & (loss.x <= x1)]
    if seg.size < 2 or seg[0] == 0:
        return None
    return float((seg[-1] - seg[0]) / abs(seg[0]))


def frozen_while_loss_moves(ctx: RunContext, c, min_epochs: int = 5, loss_change: float = 0.05) -> bool:
    """True when CC205 reports this metric as frozen (so other checks leave it alone)."""
    length = c.frozen_tail(min_epochs)
    if not length or c.at_ceiling:
        return False
    change = loss_change_during(ctx, c.series.split, c.x[c.n - length], c.x[-1])
    return change is None or abs(change) > loss_change


class StuckMetric(Check):
    """A metric frozen at one value, or sitting at a trivial value, while the loss moves.

    What it detects: a metric that (a) has exactly the same value for the last ``min_epochs`` or
    more epochs while the loss of the same split changed by more than ``loss_change`` (relative),
    or (b) sits at a trivial value for the second half of the run: IoU, Dice, F1, precision,
    recall or mAP below ``zero_level``, or AUC within ``auc_band`` of 0.5. A frozen accuracy is the
    share of the majority class when the model predicts one class for everything.

    Why it matters: the loss improving while the metric stays put means the model learns the
    class prior (or to be confident on easy samples) but not the task. Precision/recall at 0 mean
    no positive predictions above the threshold. A frozen metric can also be a metric bug.

    What to do: check class balance: use class weights (``class_weight=``), focal loss or
    resampling; evaluate with a lower decision threshold; for segmentation, use a Dice or IoU loss
    instead of plain BCE when the foreground is small; check the metric's implementation (dtype,
    threshold, averaging).

    Example: ``val_accuracy is frozen at 0.973 from epoch 9 to 29 while val_loss fell 23%: the
    model likely predicts the majority class for everything; 0.973 is then its share.``
    """

    code = "CC205"
    name = "stuck-metric"
    kind = "stuck_metric"
    severity = "warning"
    min_points = 5

    @dataclass(frozen=True)
    class Settings(CheckSettings):
        min_epochs: int = setting(5, "epochs a metric must stay exactly constant")
        loss_change: float = setting(
            0.05, "relative loss change over the same epochs that shows the model is still learning")
        zero_level: float = setting(0.01, "IoU/Dice/F1/precision/recall/mAP below this over the second half is trivial")
        auc_band: float = setting(0.02, "AUC within this of 0.5 over the second half is chance level")

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for split in ("val", "train"):
            loss = ctx.curve(ctx.primary_loss(split))
            found = []
            for m in ctx.metrics(split):
                c = ctx.curve(m)
                if c is None or c.n < self.min_points:
                    continue
                f = self._frozen(ctx, c, loss) or self._trivial(ctx, c)
                if f:
                    found.append(f)
            if found:
                out.append(self._merge(found))
        return out

    @staticmethod
    def _merge(found: list[Finding]) -> Finding:
        """One finding per split: the metrics of one model get stuck together."""
        head = found[0]
        if len(found) == 1:
            return head
        head.message += " Also: " + " ".join(f.message for f in found[1:])
        head.series = list(dict.fromkeys(s for f in found for s in f.series))
        head.evidence = {"metrics": {f.series[0]: f.evidence for f in found}}
        return head

    def _frozen(self, ctx, c, loss) -> Finding | None:
        v = c.values
        length = c.frozen_tail(int(self.settings.min_epochs))
        if not length or (c.at_ceiling and v[-1] >= 1.0 - 1e-9):
            return None  # 100% accuracy is saturation (see CC201 for memorisation), not a stuck metric
        run_start = c.n - length
        unit = ctx.x_axis
        x0, x1 = c.x[run_start], c.x[-1]
        evidence = {"value": v[-1], "constant_from": x0, "constant_epochs": length}
        moved = ""
        change = loss_change_during(ctx, c.series.split, x0, x1)
        if change is not None:
            evidence["loss_relative_change"] = change
            if abs(change) <= self.settings.loss_change:
                return None  # nothing is moving: a plateau (CC202), not a stuck metric
            moved = f" while {loss.name} changed {change:+.0%}"
        msg = f"{c.name} is frozen at {fmt(v[-1])} from {unit} {fx(x0)} to {fx(x1)} ({length} {unit}s){moved}."
        if c.series.kind == "accuracy":
            msg += (f" The model likely predicts the same class for everything; {fmt(v[-1])} is then the share "
                    f"of the majority class.")
        elif v[-1] == 0 and c.series.kind in _ZERO_IS_TRIVIAL:
            msg += " At 0 the model predicts no positives at all."
        return self.finding(series=[c.name] + ([loss.name] if loss is not None else []),
                            epochs={"start": x0, "end": x1}, message=msg, evidence=evidence,
                            advice=self._advice(c.series.kind))

    def _trivial(self, ctx, c) -> Finding | None:
        half = c.values[c.n // 2:]
        kind = c.series.kind
        if kind in _ZERO_IS_TRIVIAL and np.all(np.abs(half) < self.settings.zero_level):
            what = f"below {self.settings.zero_level:g}"
        elif kind == "auc" and np.all(np.abs(half - 0.5) < self.settings.auc_band):
            what = f"within {self.settings.auc_band:g} of 0.5 (chance)"
        else:
            return None
        unit = ctx.x_axis
        msg = (f"{c.name} stays {what} over the second half of the run ({unit}s {fx(c.x[c.n // 2])}-{fx(c.x[-1])}; "
               f"max {fmt(half.max())}).")
        return self.finding(series=[c.name], epochs={"start": c.x[c.n // 2], "end": c.x[-1]}, message=msg,
                            evidence={"max_second_half": half.max(), "threshold": self.settings.zero_level
                                      if kind != "auc" else self.settings.auc_band},
                            advice=self._advice(kind))

    @staticmethod
    def _advice(kind: str) -> str:
        if kind in ("iou", "dice"):
            return ("The foreground is probably small: use a Dice/IoU loss (or BCE + Dice) instead of plain BCE, "
                    "check that masks and predictions line up (same scale, threshold 0.5, channel order), and "
                    "check the metric's implementation.")
        return ("Check class balance: use class weights (class_weight=...), focal loss or resampling; evaluate with a "
                "lower decision threshold; check the metric's implementation (threshold, averaging, dtype).")
