from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..findings import Evidence as EvidenceBase
from ..findings import Finding
from .base import METRIC_KINDS, Check, CheckSettings, Curve, RunContext, fmt, fx, setting
from .never_learned import AUC_CHANCE_BAND, auc_at_chance
from .never_learned import ZERO_IS_TRIVIAL as _ZERO_IS_TRIVIAL
from .never_learned import resolution, trivial_value


def stuck_quantum(c: Curve) -> float:
    """How close two values must be to count as the same: one step of a bounded metric (1/n_val for an
    accuracy on n_val samples, read from the values in [0, 1] and at most 0.02), else float32 round-off."""
    if c.series.kind in METRIC_KINDS:
        inside = c.values[(c.values >= 0) & (c.values <= 1)]
        return min(resolution(inside), 0.02) * 1.01 if inside.size else 1e-9
    return 1e-6 * max(1e-12, float(np.median(np.abs(c.values))))  # float32 round-off is not a change


def _band(c: Curve, first: int) -> float:
    """The wobble a large validation set's accuracy may have and still count as one value: one step
    (1/n_val) or 0.5% of its level (as :func:`trivial_value` judges it)."""
    return max(resolution(c.values) * 1.01, 0.005 * float(np.median(c.values[first:])))


def stuck_stretch(c: Curve, min_len: int) -> tuple[int, int] | None:
    """The longest stretch (first, last index) where the metric stays within one quantum (its step,
    1/n_val for an accuracy) of the stretch's first value, when it has at least ``min_len`` points."""
    q = float(stuck_quantum(c))
    v = c.values.tolist()  # Speed: the scan on Python floats (same IEEE arithmetic, ~10x fewer ns a point)
    best, start = (0, -1), 0
    for i in range(1, len(v) + 1):
        if i == len(v) or abs(v[i] - v[start]) > q:
            if i - start > best[1] - best[0] + 1:
                best = (start, i - 1)
            start = i
    return best if best[1] - best[0] + 1 >= min_len else None


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

    What it detects: a metric (accuracy, IoU, Dice, F1, mAP..., and regression metrics such as MAE,
    MSE or WER) that (a) stays within one quantum (its step, 1/n_val for an accuracy) of one value
    for a stretch of at least ``min_epochs`` epochs and ``stretch_share`` of the run, anywhere in it,
    while the loss of the same split fell by more than ``loss_change`` (relative) over that stretch
    (or is NaN, or the value is trivial: a dead network's metric is stuck whatever its loss does), or (b) sits at a trivial value for the second half of the run: IoU, Dice, F1, precision,
    recall or mAP below ``zero_level``, or AUC within ``auc_band`` of 0.5. A metric at its ceiling
    (1.0) is not stuck, nor one that climbed to just below it (its distance to 1.0 under
    ``ceiling_headroom`` of its progress: 0.997 after starting at 0.5). A stuck accuracy is named when the loss confirms it: the majority share
    (predicting the prior costs a cross-entropy H(p)) or chance for k classes. An accuracy that only
    wobbles within 0.5% of such a share (a large validation set) counts when it got there within
    ``prior_within`` epochs (or 10% of the run): one that climbed there over many epochs learned.
    A stretch that wobbled by a step and was later beaten by more than a step was slow learning; one
    that wobbles by a step must last twice ``min_epochs`` (exactly constant: ``min_epochs``).

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
        min_epochs: int = setting(5, "epochs a metric must stay within one quantum of a value ...")
        stretch_share: float = setting(1 / 3, "... and this share of the run (anywhere in it, not only the tail)")
        loss_change: float = setting(
            0.05, "relative loss fall over the same epochs that shows the model is still learning")
        zero_level: float = setting(0.01, "IoU/Dice/F1/precision/recall/mAP below this over the second half is trivial")
        auc_band: float = setting(AUC_CHANCE_BAND, "AUC within this of 0.5 over the second half is chance level")
        ceiling_headroom: float = setting(
            0.05, "a [0, 1] metric whose distance to 1.0 is under this share of its progress so far is saturated")
        prior_within: int = setting(
            3, "an accuracy that wobbles at the majority share is called that only when it got there within this "
               "many epochs (or 10% of the run); one that climbed there slowly learned")

    settings: Settings

    @dataclass
    class Evidence(EvidenceBase):
        metric: str
        signal: str  # frozen (within one quantum while the loss moves) | trivial (about 0 / AUC 0.5)
        value: float
        stretch_start: float | None = None  # the log's epochs of the stuck stretch
        stretch_end: float | None = None
        stretch_points: int | None = None
        quantum: float | None = None
        loss: str | None = None
        loss_relative_change: float | None = None
        trivial_meaning: str | None = None  # e.g. the majority share, checked against the loss
        threshold: float | None = None
        also: list[str] | None = None  # other metrics of the same split stuck with it

    def run(self, ctx: RunContext) -> list[Finding]:
        out = []
        for split in ("val", "train"):
            loss = ctx.curve(ctx.primary_loss(split))
            found = []
            regression = [s for s in ctx.signals() if s.split == split and s.kind == "other"
                          and s.direction in ("min", "max")]  # MAE, MSE, WER...
            for m in ctx.metrics(split) + regression:
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
        if isinstance(head.evidence, EvidenceBase):
            head.evidence.also = [f.series[0] for f in found[1:]]  # type: ignore[attr-defined]
        return head

    def _frozen(self, ctx: RunContext, c: Curve, loss: Curve | None) -> Finding | None:
        min_len = max(int(self.settings.min_epochs), int(np.ceil(self.settings.stretch_share * c.n)))
        stretch = stuck_stretch(c, min_len)
        quantum, wobbling = stuck_quantum(c) / 1.01, False
        if stretch is None:
            stretch = self._trivial_tail(ctx, c, min_len)
            wobbling = stretch is not None
            quantum = _band(c, c.n - min_len) if wobbling else quantum
        if stretch is None or c.at_ceiling and c.values[stretch[1]] >= 1.0 - 1e-9:
            return None  # 100% accuracy is saturation (see CC201 for memorisation), not a stuck metric
        first, last = stretch
        if self._saturated(c, first, last):
            return None
        unit = ctx.x_axis
        x0, x1 = c.x[first], c.x[last]
        value = float(np.median(c.values[first:last + 1]))
        change = loss_change_during(ctx, c.series.split, x0, x1)
        level = float(np.median(loss.values[(loss.x >= x0) & (loss.x <= x1)])) if loss is not None else None
        trivial = trivial_value(c, first, level, 0.0) if c.series.kind == "accuracy" and last == c.n - 1 else None
        if trivial is not None and not self._partner_trivial(ctx, c, first):
            trivial = None  # training learned (e.g. 100 % train accuracy): the val accuracy is not the prior
        if trivial is None and self._moved_on(c, first, last):
            return None
        if trivial is None and not wobbling and last - first + 1 < 2 * self.settings.min_epochs \
                and float(np.ptp(c.values[first:last + 1])) > 0:
            return None  # 5 epochs of +-1 sample (0.82, 0.84, 0.80 on 50) is a small set's noise, not a freeze
        if change is not None and change >= -self.settings.loss_change and trivial is None:
            return None  # the loss is not falling either: a plateau (CC202) or overfitting (CC201)
        ev = self.Evidence(metric=c.name, signal="frozen", value=value, stretch_start=x0, stretch_end=x1,
                           stretch_points=last - first + 1, quantum=quantum,
                           loss=loss.name if loss is not None else None, loss_relative_change=change,
                           trivial_meaning=trivial.meaning if trivial else None)
        moved = f" while {loss.name} changed {change:+.0%}" if change is not None and loss is not None else ""
        within = f" (within one step of {fmt(ev.quantum)})" if c.series.kind in METRIC_KINDS else ""
        if wobbling:  # not one value: say how far it moves
            part = c.values[first:last + 1]
            within = f" (between {fmt(float(np.min(part)))} and {fmt(float(np.max(part)))})"
        msg = (f"{c.name} stays at {fmt(value)}{within} from {unit} {fx(x0)} to {fx(x1)} ({last - first + 1} of "
               f"{c.n} {unit}s){moved}.")
        if trivial is not None:
            msg += f" {fmt(value)} is {trivial.meaning}."
        elif c.series.kind == "accuracy":
            msg += " The model likely predicts the same labels every epoch."
        elif value == 0 and c.series.kind in _ZERO_IS_TRIVIAL:
            msg += " At 0 the model predicts no positives at all."
        return self.finding(series=[c.name] + ([loss.name] if loss is not None else []),
                            epochs={"start": x0, "end": x1}, message=msg, evidence=ev,
                            advice=self._advice(c.series.kind))

    @staticmethod
    def _moved_on(c: Curve, first: int, last: int) -> bool:
        """A stretch that wobbled by a step (0.84, 0.86, 0.82 on 50 samples) and was then beaten by more
        than a step (0.90; the median of what follows, so one lucky epoch does not count) was a slow phase of learning, not a stuck metric. An exactly constant stretch
        (IoU 0.0 for 12 epochs, then learning) stays a finding."""
        part = c.goodness[first:last + 1]
        if last >= c.n - 1 or float(np.ptp(part)) == 0:
            return False
        return float(np.median(c.goodness[last + 1:])) > float(np.max(part)) + stuck_quantum(c)

    def _saturated(self, c: Curve, first: int, last: int) -> bool:
        """A [0, 1] metric that climbed and sits just below 1.0 (0.997 after starting at 0.5) has no room
        left to move: that is convergence, not a stuck metric (a trivial value never climbed)."""
        if c.series.kind not in METRIC_KINDS or c.sign < 0:
            return False
        value = float(np.median(c.values[first:last + 1]))
        progress = value - float(np.min(c.values[:first + 1]))
        return 0 <= 1.0 - value <= self.settings.ceiling_headroom * progress

    def _trivial_tail(self, ctx: RunContext, c: Curve, min_len: int) -> tuple[int, int] | None:
        """A large validation set's accuracy wobbles by a few samples: the last ``min_len`` points within
        0.5% of their level count as stuck when that level is trivial (the loss confirms it)."""
        loss = ctx.curve(ctx.primary_loss(c.series.split))
        first = c.n - min_len
        if c.series.kind != "accuracy" or loss is None or first < 0:
            return None
        level = float(np.median(loss.values[loss.x >= c.x[first]]))
        trivial = trivial_value(c, first, level, 0.0)
        if trivial is None or not self._partner_trivial(ctx, c, first):
            return None
        if trivial.value >= 0.5 and self._climbed(c, first):
            return None
        return first, c.n - 1

    def _climbed(self, c: Curve, first: int) -> bool:
        """A model that predicts the majority class is at that share within the first epochs; an accuracy
        that climbed there over many epochs (0.42, 0.69, 0.82, 0.88, 0.91, 0.93) learned it. (Chance for
        k classes wobbles by several samples around 1/k: this test is for the majority share only.)"""
        inside = np.abs(c.values - float(np.median(c.values[first:]))) <= _band(c, first)
        reached = int(np.argmax(inside)) if inside.any() else c.n
        return reached > max(self.settings.prior_within, round(0.1 * c.n))

    @staticmethod
    def _partner_trivial(ctx: RunContext, c: Curve, first: int) -> bool:
        """The other split's accuracy is trivial over the same epochs too (or there is none)."""
        partner = ctx.curve(ctx.run.partner(c.name))
        if partner is None or partner.series.kind != "accuracy":
            return True
        loss = ctx.curve(ctx.primary_loss(partner.series.split))
        start = int(np.searchsorted(partner.x, c.x[first]))
        if loss is None or start >= partner.n - 2:
            return True
        level = float(np.median(loss.values[loss.x >= c.x[first]]))
        return trivial_value(partner, start, level, 0.0) is not None

    def _trivial(self, ctx, c) -> Finding | None:
        half = c.values[c.n // 2:]
        kind = c.series.kind
        if kind in _ZERO_IS_TRIVIAL and np.all(np.abs(half) < self.settings.zero_level):
            what = f"below {self.settings.zero_level:g}"
        elif kind == "auc" and auc_at_chance(half, self.settings.auc_band):
            what = f"within {self.settings.auc_band:g} of 0.5 (chance)"
        else:
            return None
        unit = ctx.x_axis
        msg = (f"{c.name} stays {what} over the second half of the run ({unit}s {fx(c.x[c.n // 2])}-{fx(c.x[-1])}; "
               f"max {fmt(half.max())}).")
        return self.finding(series=[c.name], epochs={"start": c.x[c.n // 2], "end": c.x[-1]}, message=msg,
                            evidence=self.Evidence(metric=c.name, signal="trivial", value=float(half.max()),
                                                   stretch_start=c.x[c.n // 2], stretch_end=c.x[-1],
                                                   stretch_points=int(half.size),
                                                   threshold=self.settings.zero_level if kind != "auc"
                                                   else self.settings.auc_band),
                            advice=self._advice(kind))

    @staticmethod
    def _advice(kind: str) -> str:
        if kind in ("iou", "dice"):
            return ("The foreground is probably small: use a Dice/IoU loss (or BCE + Dice) instead of plain BCE, "
                    "check that masks and predictions line up (same scale, threshold 0.5, channel order), and "
                    "check the metric's implementation.")
        return ("Check class balance: use class weights (Keras class_weight=..., torch CrossEntropyLoss(weight=...) "
                "or BCEWithLogitsLoss(pos_weight=...)), focal loss or resampling; evaluate with a "
                "lower decision threshold; check the metric's implementation (threshold, averaging, dtype).")
