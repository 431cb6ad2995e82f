"""The independently labelled logs (tests/data/eval_labels.tsv, a copy of ../shared/eval/labels.tsv; rules in
its LABELS.md): every kind labelled `yes` is found and no kind labelled `no` is reported, except the known
misses listed here with the numbers; `unsure` is never asserted. A regression of any check fails here."""

import importlib.util
import sys
from pathlib import Path

import pytest

import curvecheck
from curvecheck.errors import InputError
from curvecheck.findings import KINDS

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"

_spec = importlib.util.spec_from_file_location("check_accuracy", ROOT / "benchmarks" / "check_accuracy.py")
check_accuracy = importlib.util.module_from_spec(_spec)
sys.modules["check_accuracy"] = check_accuracy  # its dataclasses need the module registered
_spec.loader.exec_module(check_accuracy)

LABELS = check_accuracy.load_labels(DATA / "eval_labels.tsv")

# (file name, kind): labelled yes, not found, and why (the numbers behind the miss)
KNOWN_MISSES = {
    # val_acc zig-zags 0.66-0.775 around a flat trend: swings of ~4 % of its level (rule: >= ~30 %, or as
    # large as the whole trend; the trend reading alone also flags calm converged curves, so it is not used)
    ("Degermandal-Global_AI_Hub_Transfer_Learning__model_history.json", "oscillation"),
    # val/loss hardly moves (2.10-2.28) while top-1 halves 0.655 -> 0.349: neither best-epoch test applies
    # (top-1 at the loss's best is 0.05 below its best, under 3 noise sigmas of 0.022)
    ("JavaKhangNguyen-ACNE11-Classification__results.csv", "loss_metric_divergence"),
    # val_accuracy at the loss's best is 0.0158 below its best, under 3 noise sigmas (0.0166)
    ("BrandtKaufmann-CatClassifier__training.log", "loss_metric_divergence"),
    # val_loss is 1.5e8-7.9e8 from epoch 0 (an explosion inside epoch 0): never far above its running best
    # for long (Lightning; readable once the Lightning reader lands)
    ("ML-Ops-Burnsides-Bit-grape_vine_classification_group_51__version_7_metrics.csv", "divergence"),
}


def _fired(path: Path) -> set[str]:
    try:
        return {f.kind for f in curvecheck.analyze(path).runs[0].findings}
    except InputError as err:
        pytest.skip(f"format not readable by this version: {err}")


@pytest.mark.parametrize("row", LABELS, ids=lambda r: Path(r.name).name[:45])
def test_labelled_log(row):
    if not row.path.exists():
        pytest.skip("log not copied into tests/data yet")
    fired = _fired(row.path)
    name = Path(row.name).name
    no = {k for k in KINDS if row.labels[k] == "no"}
    yes = {k for k in KINDS if row.labels[k] == "yes" and (name, k) not in KNOWN_MISSES}
    assert not fired & no, f"reported but labelled no: {sorted(fired & no)}"
    assert not yes - fired, f"labelled yes but not found: {sorted(yes - fired)}"


def test_known_misses_are_still_misses():
    """If a check improves and catches one, remove it from KNOWN_MISSES (and update RESULTS.md)."""
    for row in LABELS:
        name = Path(row.name).name
        for kind in KINDS:
            if (name, kind) in KNOWN_MISSES and row.path.exists():
                assert row.labels[kind] == "yes"
                assert kind not in _fired(row.path), (name, kind)
