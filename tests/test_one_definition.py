"""One definition per concept: the report table, the recommendation, the checks and the plot agree."""

import numpy as np
import pytest

import curvecheck
from curvecheck.checks.base import RunContext
from curvecheck.context import default_monitor, granularity
from curvecheck.findings import evidence_dict
from curvecheck.marks import build_marks
from curvecheck.metrics import is_percent, percent_scale
from curvecheck.schedule import describe_schedule
from curvecheck.signal import best_index, noise_level

from .conftest import CORPUS, SAMPLES

SEG = SAMPLES / "segmentation_unet.csv"


def test_best_index_raw_nan_skipped_first_on_ties_smoothed_only_when_asked():
    v = np.array([np.nan, 0.5, 0.2, 0.2, np.inf, 0.3])
    assert best_index(v, "min") == 2  # NaN/inf skipped, first of the tie
    assert best_index(-v, "max") == 2
    assert best_index(v, "none") is None and best_index(np.array([np.nan]), "min") is None
    noisy = np.array([1.0, 0.5, 0.9, 0.45, 0.46, 0.44, 0.45, 0.44])
    assert best_index(noisy, "min") == 5 and best_index(noisy, "min", smooth=0.6) != 1


@pytest.mark.parametrize("name", ["val_loss", "val_dice_coef", "val_iou", "loss"])
def test_best_epoch_is_the_same_in_table_recommendation_and_plot(name):
    run = curvecheck.load(SEG)
    report = curvecheck.analyze(run).runs[0]
    table = next(s.best_epoch for s in report.series if s.name == name)
    series = run[name]
    assert table == series.x[best_index(series.values, series.direction)]
    assert build_marks(report).best[name] == table
    rec = curvecheck.recommend_stop(run, [name])
    assert rec.best_epochs[name] == table
    c = RunContext(run).curve(series)
    assert c.x[c.best_index(smoothed=False)] == table
    if name == "val_loss":
        assert table == 11 and rec.epoch == 11 and report.recommendation.epoch == 11


def test_monitored_curve_is_one_choice_for_recommendation_context_and_plot():
    run = curvecheck.load(SEG)
    report = curvecheck.analyze(run).runs[0]
    assert default_monitor(run).name == "val_loss" == RunContext(run).monitor.name
    assert report.recommendation.monitor == ["val_loss"]
    assert build_marks(report).keep == report.recommendation.epoch


def test_lr_schedule_is_classified_once():
    run = curvecheck.load(SAMPLES / "reduce_lr_on_plateau.csv")
    schedule = describe_schedule(run.lr_series())
    assert schedule.has_lr and not schedule.smooth and len(schedule.drops) >= 3
    assert schedule.at_floor and schedule.last == schedule.min < schedule.first and not schedule.warm_up
    assert RunContext(run).schedule == schedule
    report = curvecheck.analyze(run).runs[0]
    cc301 = [f for f in report.findings if f.code == "CC301" and "drops" in evidence_dict(f.evidence)]
    assert [d["epoch"] for d in evidence_dict(cc301[0].evidence)["drops"]] == schedule.drops
    assert build_marks(report).lr_drops == schedule.drops
    floor = [f for f in report.findings if f.code == "CC301" and "floor_since" in evidence_dict(f.evidence)]
    assert not floor or evidence_dict(floor[0].evidence)["floor_since"] == schedule.floor_since


def test_percent_scale_one_rule():
    rising = np.array([0.8, 12.0, 45.0, 78.0])  # percent accuracy whose first epoch is below 1
    assert is_percent("accuracy", rising) and percent_scale("accuracy", rising) == 100.0
    assert not is_percent("accuracy", np.array([0.1, 0.5, 0.97]))
    assert not is_percent("loss", rising) and not is_percent("accuracy", np.array([0.5, 250.0]))


def test_noise_level_is_the_same_for_checks_and_recommendation():
    run = curvecheck.load(SEG)
    sigma = noise_level(run["val_loss"].values)
    assert RunContext(run).curve(run["val_loss"]).sigma == sigma
    assert curvecheck.recommend_stop(run).suggested["noise_sigma"] == sigma


def test_granularity_epoch_or_step():
    assert granularity(curvecheck.load(SEG)) == "epoch"
    tb = CORPUS / ("tensorboard/Abonia1-YOLOv8-Fire-and-Smoke-Detection__"
                   "events.out.tfevents.1675348815.43529bab29be.37247.0")
    run = curvecheck.load(tb)
    assert granularity(run) == "step"
    report = curvecheck.analyze(run).runs[0]
    assert report.x_axis == "step" and (report.recommendation is None or "step" in report.recommendation.reason)


def test_vocabulary_matches_the_registries():
    from curvecheck import vocab
    from curvecheck.checks import CHECKS
    from curvecheck.stopping import RULES

    assert tuple(vocab.STRATEGIES) == tuple(RULES)  # the CLI's cheap list and the rule registry
    assert {c.kind for c in CHECKS.values()} == set(vocab.FINDING_KINDS)
    assert {c.severity for c in CHECKS.values()} <= set(vocab.SEVERITIES)
