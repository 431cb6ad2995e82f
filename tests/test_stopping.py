"""Stopping rules: the Keras and Lightning replays equal the real callbacks on recorded cases,
Prechelt's criteria follow their definitions, and the auto rule behaves as documented."""

import json
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import UsageError
from curvecheck.recommend import resolve_monitors, run_stop_rule
from curvecheck.stopping import make_rule, replay, rule_settings

from .conftest import SAMPLES, WRITTEN

RECORDED = json.loads((WRITTEN / "early_stopping_cases.json").read_text())
ROOT = WRITTEN.parents[2]


@cache
def series_of(log: str, monitor: str):
    s = curvecheck.load(ROOT / log)[monitor]
    return tuple(s.values.tolist()), tuple(s.x.astype(int).tolist())


def values_and_epochs(case):
    if case["values"] is not None:
        return case["values"], case["epochs"]
    return series_of(case["log"], case["monitor"])


def test_recorded_with_real_callbacks():
    assert RECORDED["keras"].startswith("3.") and len(RECORDED["cases"]) > 3000
    assert {c["rule"] for c in RECORDED["cases"]} == {"keras", "lightning"}


def test_keras_replay_equals_the_real_callback():
    mismatches = []
    for case in (c for c in RECORDED["cases"] if c["rule"] == "keras"):
        values, epochs = values_and_epochs(case)
        res = replay(values, mode=case["mode"], rule="keras", epochs=epochs, **case["params"])
        exp = case["expected"]
        got_restored = res.kept_index if case["params"]["restore_best_weights"] else None
        if res.stop_index != exp["stop_index"] or (exp["restored_index"] is not None
                                                   and got_restored != exp["restored_index"]):
            mismatches.append((case["log"], case["monitor"], case["params"], exp, res.stop_index, res.kept_index))
    assert not mismatches, mismatches[:3]


def test_lightning_replay_equals_the_real_callback():
    mismatches = []
    for case in (c for c in RECORDED["cases"] if c["rule"] == "lightning"):
        values, _ = values_and_epochs(case)
        res = replay(values, mode=case["mode"], rule="lightning", **case["params"])
        if res.stop_index != case["expected"]["stop_index"]:
            mismatches.append((case["log"], case["params"], case["expected"], res.stop_index))
    assert not mismatches, mismatches[:3]


def test_keras_compares_in_float32():
    """0.1 - 1e-10 is not an improvement over 0.1 for Keras (float32 tensors): the replay agrees."""
    res = replay([0.3, 0.1, 0.1 - 1e-10, 0.1 - 2e-10, 0.09], rule="keras", patience=2)
    assert res.stop_index == 3 and res.kept_index == 1


def test_prechelt_gl_stops_at_the_first_epoch_above_alpha():
    path = SAMPLES / "overfitting_mlp.csv"
    val = curvecheck.load(path)["val_loss"].values
    gl = 100 * (val / np.minimum.accumulate(val) - 1)
    res = replay(val, rule="gl", alpha=5)
    assert res.stop_index == int(np.argmax(gl > 5)) and res.kept_index == int(np.argmin(val[: res.stop_index + 1]))


def test_prechelt_up_needs_successive_rising_strips():
    rising_every_strip = [1.0] * 5 + [0.5] * 5 + [0.6] * 5 + [0.7] * 5 + [0.8] * 5 + [0.9] * 5
    res = replay(rising_every_strip, rule="up", s=3, strip=5)
    assert res.stop_index == 24  # rises at the ends of strips 3, 4 and 5
    assert replay(rising_every_strip, rule="up", s=4, strip=5).stop_index == 29


def test_auto_stops_at_once_on_nan():
    loss = curvecheck.load(SAMPLES / "nan_divergence.csv")["val_loss"].values
    res = replay(loss, rule="auto")
    first_nan = int(np.argmax(~np.isfinite(loss)))
    assert res.stop_index == first_nan and "non-finite" in res.reason
    assert res.kept_index == int(np.nanargmin(loss[:first_nan]))


def test_auto_stops_when_the_window_gain_is_below_three_percent_of_progress():
    # clean saturation: 1/(1+i) for 10 evaluations, then flat with a little noise
    flat = [1 / (1 + i) for i in range(10)] + [0.09 + 0.0005 * (i % 2) for i in range(40)]
    res = replay(flat, rule="auto")
    assert res.stopped and res.kept_index == 10
    # the rule stopped at the first t where D_t + sqrt(2) s_t < 0.03 P_t (checked by hand here)
    best = np.minimum.accumulate(flat)
    for t in range(8, res.stop_index + 1):
        w = max(8, int(np.ceil(0.3 * t)))
        noise = np.median(np.abs(np.diff(flat[: t + 1]))[-20:]) / 0.954
        fires = best[t - w] - best[t] + np.sqrt(2) * noise < 0.03 * (flat[0] - best[t])
        assert fires == (t == res.stop_index)


def test_auto_keeps_going_while_noise_hides_the_trend_and_has_a_safety_net():
    rng = np.random.default_rng(0)
    slow_noisy = 1.0 - 0.002 * np.arange(60) + rng.normal(0, 0.05, 60)
    assert not replay(slow_noisy, rule="auto").stopped
    no_progress = [1.0] + [1.0 + 0.01 * (i % 3) for i in range(120)]  # the first value stays the best
    res = replay(no_progress, rule="auto")
    assert res.stop_index == 51 and "safety net" in res.reason and res.kept_index == 0


def test_auto_with_planned_epochs_stops_sooner_near_the_end_of_the_plan():
    slow = [1.0 / (1 + 0.2 * i) for i in range(60)]
    assert not replay(slow, rule="auto").stopped
    assert replay(slow, rule="auto", planned_epochs=60).stopped


def test_auto_runs_to_the_end_while_progress_continues():
    assert not replay(curvecheck.load(SAMPLES / "lr_sweep/lr_0.0001.csv")["val_loss"].values, rule="auto").stopped


def test_threshold_is_a_rule_like_the_others():
    res = replay([0.9, 0.4, 0.6, 0.4, 0.3, 0.2], rule="threshold", when=["<0.5"], patience=2)
    assert res.stop_index == 4 and res.kept_index == 4
    assert not replay([0.9, 0.4, 0.6], rule="threshold", when="<0.5", patience=2).stopped


def test_rule_defaults_live_with_the_rules_and_bad_settings_are_refused():
    assert rule_settings("keras")["patience"] == 0 and rule_settings("lightning")["patience"] == 3
    assert rule_settings("threshold")["patience"] == 1 and rule_settings("auto")["eps"] == 0.03
    with pytest.raises(UsageError, match="no setting patience"):
        make_rule("gl", patience=3)


def test_a_stopped_rule_stays_stopped():
    rule = make_rule("keras", patience=1)
    assert [rule.update(v) for v in (1.0, 0.5, 0.6, 0.1)] == [False, False, True, True]
    assert rule.stop_index == 2 and rule.kept_index == 1


def _prefix(run, k):
    """The run as it was after its first k epochs (what a growing log shows)."""
    series = {name: replace(s, x=s.x[:k], values=s.values[:k]) for name, s in run.series.items()}
    return replace(run, series=series)


STRATEGY_SETTINGS = [("auto", {}), ("keras", {"patience": 5}), ("lightning", {}), ("gl", {"alpha": 2}),
                     ("pq", {}), ("up", {"s": 2})]
SAMPLE_LOGS = sorted(p for p in SAMPLES.rglob("*.csv")) + [SAMPLES / "tensorboard_keras"]


@pytest.mark.parametrize("log", SAMPLE_LOGS, ids=lambda p: p.name)
def test_feeding_a_growing_log_gives_the_replays_stop_and_kept_epoch(log):
    """For every sample log and strategy (one monitor and two combined): the rule fed the log as it
    grows fires at the same evaluation, keeping the same one, as the replay of the whole log."""
    run = curvecheck.load(log)
    monitor_sets = [resolve_monitors(run, None)]
    vals = [s.name for s in run.signals() if s.split == "val" and s.direction in ("min", "max")]
    if len(vals) > 1:
        monitor_sets.append(resolve_monitors(run, vals[:2]))
    for mons in monitor_sets:
        n = len(mons[0][0].x)
        strategies = list(STRATEGY_SETTINGS)
        if len(mons) == 1:  # threshold: the monitor better than its median, held for 2 evaluations
            s, direction = mons[0]
            bound = float(np.nanmedian(s.values[s.finite]))
            strategies.append(("threshold", {"when": [f"{s.name}{'<' if direction == 'min' else '>'}{bound!r}"],
                                             "patience": 2}))
        for strategy, settings in strategies:
            full = run_stop_rule(run, mons, strategy, **settings)
            for k in range(2, n + 1):
                part_run = _prefix(run, k)
                part_mons = [(part_run[s.name], d) for s, d in mons]
                part = run_stop_rule(part_run, part_mons, strategy, **settings)
                if full.stop_index is not None and full.stop_index < k:
                    assert (part.stop_index, part.kept_index) == (full.stop_index, full.kept_index), (strategy, k)
                else:
                    assert not part.stopped, (strategy, k, [s.name for s, _ in mons])
    if log.name == "overfitting_mlp.csv":  # the comparison is not vacuous: every rule stops on it
        stopped = [run_stop_rule(run, mons, s, **p).stopped for mons in monitor_sets for s, p in STRATEGY_SETTINGS]
        assert sum(stopped) >= len(stopped) - 2


def test_threshold_rule_fed_as_the_log_grows():
    run = curvecheck.load(SAMPLES / "overfitting_mlp.csv")
    rows = [{"val_loss": a, "val_accuracy": b} for a, b in zip(run["val_loss"].values, run["val_accuracy"].values)]
    full = make_rule("threshold", when=["val_loss<0.32", "val_accuracy>0.9"], patience=3)
    for row in rows:
        if full.update(row):
            break
    rec = curvecheck.recommend_stop(run, strategy="threshold", conditions=["val_loss<0.32", "val_accuracy>0.9"],
                                    patience=3, live=False)
    assert full.stopped and rec.stop_epoch == run["val_loss"].x[full.stop_index]


def test_unknown_rule():
    with pytest.raises(ValueError, match="unknown rule"):
        replay([1, 2, 3], rule="patience")


def test_the_rules_docstring_examples_run():
    import doctest

    from curvecheck import stopping
    from curvecheck.stopping import auto, keras, threshold

    for module in (stopping, auto, keras, threshold):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_auto_reads_the_planned_epochs_from_the_log_when_it_records_them():
    run = curvecheck.load(SAMPLES / "lr_sweep/lr_0.0001.csv")
    assert curvecheck.recommend_stop(run, live=False).params["planned_epochs"] is None
    run.meta = {"planned_epochs": 30}  # what a reader sets from e.g. HF num_train_epochs
    rec = curvecheck.recommend_stop(run, live=False)
    assert rec.params["planned_epochs"] == 30
    assert curvecheck.recommend_stop(run, live=False, planned_epochs=100).params["planned_epochs"] == 100


def test_cli_passes_only_the_options_given_and_refuses_ones_the_rule_lacks():
    from typer.testing import CliRunner

    from curvecheck.cli import app

    log = str(SAMPLES / "overfitting_mlp.csv")
    bad = CliRunner().invoke(app, ["recommend-stop", log, "--strategy", "gl", "--patience", "3"])
    assert bad.exit_code == 2 and "no setting patience" in bad.output
    keras_default = CliRunner().invoke(app, ["recommend-stop", log, "--strategy", "keras", "--json"])
    assert json.loads(keras_default.output)["params"]["patience"] == 0  # Keras' own default
    planned = CliRunner().invoke(app, ["recommend-stop", log, "--planned-epochs", "60", "--json"])
    assert json.loads(planned.output)["params"]["planned_epochs"] == 60


def test_auto_noise_of_a_mostly_constant_stretch_is_not_zero():
    """A quantised metric repeats exact values: the median change is 0, so the mean stands in."""
    rule = make_rule("auto", mode="max")
    for v in [0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.72, 0.72, 0.72, 0.72, 0.7]:
        rule.update(v)
    changes = [0.1, 0.1, 0, 0, 0, 0.02, 0, 0, 0, 0.02]  # median 0
    assert rule.noise() == pytest.approx(np.mean(changes) / 0.954)
    flat = make_rule("auto")
    for v in [1.0] + [0.5] * 30:
        flat.update(v)
    assert flat.noise() == 0 and flat.stopped  # truly constant: nothing left to wait for
