"""Understanding series names: split (train/val/test), kind (loss, iou, ...) and direction.

Users log metrics under many spellings: Keras (`val_mean_io_u_5`, `dice_coef`, `acc`), Lightning
(`val_loss_epoch`, `train/nll_loss`, `lr-AdamW`), Hugging Face (`eval_loss`), Ultralytics
(`metrics/mAP50-95(B)`, `val/box_loss`), TensorBoard's Keras layout (`validation/epoch_loss`).
This module maps each name to a :class:`MetricInfo`; every check reads only that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocab import BOUNDED_KINDS, DIRECTIONS, SPLITS  # noqa: F401  (re-exported)
from .vocab import SERIES_KINDS as KINDS  # noqa: F401


@dataclass(frozen=True)
class MetricInfo:
    """What a series name means.

    ``base`` is the name with its split marker removed, so that ``loss``/``val_loss`` and
    ``train/box_loss``/``val/box_loss`` share a base and can be paired.
    """

    kind: str
    split: str
    direction: str
    base: str


# Split markers, longest first so that "validation/" wins over "val".
_SPLIT_PREFIXES = (
    ("validation/", "val"), ("validation_", "val"), ("valid/", "val"), ("valid_", "val"),
    ("val/", "val"), ("val_", "val"), ("val-", "val"), ("eval/", "val"), ("eval_", "val"),
    ("dev_", "val"), ("dev/", "val"), ("metrics/", "val"),  # Ultralytics: metrics/* are validation
    ("test/", "test"), ("test_", "test"),
    ("training/", "train"), ("training_", "train"), ("train/", "train"), ("train_", "train"),
    ("train-", "train"), ("tr_", "train"),
)
_SPLIT_SUFFIXES = (
    ("_validation", "val"), ("_valid", "val"), ("_val", "val"), ("/val", "val"), ("_eval", "val"),
    ("_test", "test"), ("/test", "test"), ("_train", "train"), ("/train", "train"),
)
# Suffixes that say how a value was aggregated or stored, not what it is.
_NOISE_SUFFIXES = ("_epoch", "_step", "_history", "_hist", "_mean", "_avg")

_LR_RE = re.compile(r"^(lr|learning_rate|learningrate|lr[-_/].*|x/lr\d*|.*/lr\d*|lr\d+)$")
_KERAS_INDEX_RE = re.compile(r"_\d+$")  # Keras appends _1, _5... to repeated metric names

# Token tests, applied to the lower-cased base name split on non-alphanumerics.
_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("loss", re.compile(r"(^|_)(loss|nll|nll_loss|cross_entropy|crossentropy|ce|bce|objective)($|_)")),
    ("iou", re.compile(r"(^|_)(m?iou|mean_io_u|io_u|jaccard(_coef(ficient)?)?(_t)?|jaccard_index|iou_score)($|_)")),
    ("dice", re.compile(r"(^|_)(dice|dice_coef|dice_coefficient|dice_score|dsc)")),
    ("f1", re.compile(r"(^|_)(f1|f1_score|fscore|f_score|f_measure|fbeta(_score)?)($|_)")),
    ("map", re.compile(r"(^|_)(m?ap(50|75)?|map_0_5|map50_95|map_0_5_0_95|map_0_5_0_95)($|_)")),
    ("auc", re.compile(r"(^|_)(auc|roc_auc|pr_auc|auroc|auprc)($|_)")),
    ("precision", re.compile(r"(^|_)(precision|prec)($|_)")),
    ("recall", re.compile(r"(^|_)(recall|sensitivity|tpr)($|_)")),
    ("accuracy", re.compile(r"(^|_)(acc|accuracy|categorical_accuracy|binary_accuracy|sparse_categorical_accuracy|top1|top5|top_1|top_5|accuracy_top1|accuracy_top5|char_acc)($|_)")),
)
# Kind "other" with a known direction.
_LOWER_IS_BETTER = re.compile(
    r"(^|_)(mae|mse|rmse|msle|mape|error|err|wer|cer|ter|perplexity|ppl|mean_absolute_error|"
    r"mean_squared_error|hamming|distance|divergence|kl|nmse)($|_)"
)
_HIGHER_IS_BETTER = re.compile(
    r"(^|_)(r2|bleu|rouge\w*|psnr|ssim|specificity|mcc|kappa|ndcg|mrr|hit_rate|hitrate|"
    r"exact_match|em|meteor|cider|spice|recall_at_\d+|coverage)($|_)"
)
# Bookkeeping columns that are logged but are not training signals.
_BOOKKEEPING = re.compile(
    r"^(epoch|epochs|step|global_step|time|wall_time|walltime|timestamp|runtime|.*_runtime|"
    r".*samples_per_second|.*steps_per_second|total_flos|.*_samples|batch_size|.*tokens|usd|"
    r"grad_norm|hp_metric|.*time.*)$"
)

_MAX_KINDS = set(BOUNDED_KINDS)


def _normalise(name: str) -> str:
    return name.strip().lower()


def _tokens(text: str) -> str:
    """'mAP50-95(B)' -> 'map50_95_b'; keeps underscores as the only separator."""
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def split_of(name: str) -> tuple[str, str]:
    """Return (split, base name without the split marker)."""
    low = _normalise(name)
    for prefix, split in _SPLIT_PREFIXES:
        if low.startswith(prefix) and len(low) > len(prefix):
            return split, low[len(prefix):]
    stripped = low
    for suffix in _NOISE_SUFFIXES:
        if stripped.endswith(suffix) and len(stripped) > len(suffix):
            stripped = stripped[: -len(suffix)]
            break
    for suffix, split in _SPLIT_SUFFIXES:
        if stripped.endswith(suffix) and len(stripped) > len(suffix):
            return split, stripped[: -len(suffix)]
    return "train", low


def _clean_base(base: str) -> str:
    for suffix in _NOISE_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    # Keras TensorBoard tags: epoch_loss, epoch_accuracy (also evaluation_loss_vs_iterations)
    if base.startswith("epoch_") and len(base) > 6:
        base = base[6:]
    return base


def kind_of(base: str) -> str:
    low = _normalise(base)
    if _LR_RE.match(low) or low in ("lr", "learning_rate"):
        return "lr"
    tok = _tokens(low)
    for candidate in (tok, _KERAS_INDEX_RE.sub("", tok)):
        for kind, pattern in _KIND_PATTERNS:
            if pattern.search(candidate):
                return kind
    return "other"


def direction_of(kind: str, base: str) -> str:
    if kind == "loss":
        return "min"
    if kind in _MAX_KINDS:
        return "max"
    if kind == "lr":
        return "none"
    tok = _tokens(_normalise(base))
    if _BOOKKEEPING.match(tok) or _BOOKKEEPING.match(_normalise(base)):
        return "none"
    if _LOWER_IS_BETTER.search(tok):
        return "min"
    if _HIGHER_IS_BETTER.search(tok):
        return "max"
    return "none"


def understand(name: str, direction_override: str | None = None) -> MetricInfo:
    """Classify a series name. ``direction_override`` ('min'/'max'/'none') wins when given."""
    low = _normalise(name)
    if _LR_RE.match(low):
        return MetricInfo(kind="lr", split="train", direction="none", base="lr")
    split, base = split_of(name)
    base = _clean_base(base)
    kind = kind_of(base)
    if kind == "lr":
        split = "train"
    direction = direction_override or direction_of(kind, base)
    return MetricInfo(kind=kind, split=split, direction=direction, base=_tokens(base) or base)


def is_bookkeeping(name: str) -> bool:
    """Columns such as epoch/step/time that are axes or costs, not curves to diagnose."""
    tok = _tokens(_normalise(name))
    return bool(_BOOKKEEPING.match(tok)) and kind_of(name) == "other"


def is_percent(kind: str, values) -> bool:
    """Is this [0, 1]-type metric (accuracy, IoU, ...) logged in percent?

    The one definition every check, recommendation and plot uses: a bounded kind whose finite
    values go above 1.5 and stay within [0, 100]. A percent accuracy that starts below 1 (0.8%
    in the first epoch) is still percent; a loss never is.
    """
    import numpy as np

    if kind not in BOUNDED_KINDS:
        return False
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return bool(v.size) and float(v.max()) > 1.5 and float(v.min()) >= 0.0 and float(v.max()) <= 100.0


def percent_scale(kind: str, values) -> float:
    """100 for a metric logged in percent, else 1: multiply a [0, 1] threshold by it."""
    return 100.0 if is_percent(kind, values) else 1.0
