"""The regression gate on two real runs of a sweep (better / worse), and its edges on synthetic curves."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import UsageError
from curvecheck.gate import gate, parse_condition
from curvecheck.model import Run, make_series

from .conftest import SAMPLES

GOOD = SAMPLES / "lr_sweep" / "lr_0.05.csv"  # reaches val_accuracy 0.97
SLOW = SAMPLES / "lr_sweep" / "lr_0.0001.csv"  # too low an LR: val_accuracy 0.49


def cli(*args):
    env = {"PATH": os.environ["PATH"], "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          env=env)


def test_a_better_candidate_passes():
    res = cli("compare", GOOD, "--baseline", SLOW, "--fail-if", "val_accuracy < -0.01", "--fail-if", "val_loss > 5%")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "gate passed" in res.stdout and "+0.485" in res.stdout  # 0.9725 - 0.4875


def test_a_worse_candidate_fails_with_exit_1():
    res = cli("compare", SLOW, "--baseline", GOOD, "--fail-if", "val_accuracy < -0.01")
    assert res.returncode == 1
    assert "gate FAILED: val_accuracy < -0.01" in res.stdout and "-0.485" in res.stdout


def test_gate_json_and_sarif(tmp_path):
    res = cli("compare", SLOW, "--baseline", GOOD, "--fail-if", "val_accuracy<-0.01", "--json")
    doc = json.loads(res.stdout)
    g = doc["gates"][0]
    assert res.returncode == 1 and g["passed"] is False and g["failed"] == ["val_accuracy < -0.01"]
    m = {d["metric"]: d for d in g["metrics"]}["val_accuracy"]
    assert m["baseline"] == pytest.approx(0.9725) and m["candidate"] == pytest.approx(0.4875)
    assert m["verdict"] == "worse" and m["noise_band"] > 0
    sarif = json.loads(cli("compare", SLOW, "--baseline", GOOD, "--fail-if", "val_accuracy<-0.01",
                           "--format", "sarif").stdout)
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]][-1] == "gate"


def test_values_at_the_recommended_and_last_epochs():
    good, slow = curvecheck.load(GOOD), curvecheck.load(SLOW)
    at_rec = {d.metric: d for d in gate(good, slow, at="recommended").deltas}["val_loss"]
    rec = curvecheck.recommend_stop(good)
    assert at_rec.candidate_epoch == rec.epoch
    last = {d.metric: d for d in gate(good, slow, at="last").deltas}["val_loss"]
    assert last.candidate_epoch == good["val_loss"].x[-1]


def _run(name: str, values) -> Run:
    values = np.asarray(values, dtype=float)
    s = make_series(name, np.arange(values.size, dtype=float), values)
    return Run(source=f"{name}.csv", format="keras_csv", x_axis="epoch", series={name: s})


def test_threshold_edges_and_noise_band():
    rng = np.random.default_rng(0)
    base = 0.80 + 0.001 * rng.standard_normal(30)
    cand = base - 0.02
    result = gate(_run("val_iou", cand), _run("val_iou", base), ["val_iou < -0.019", "val_iou < -0.021"])
    assert result.failed == ["val_iou < -0.019"]
    d = result.deltas[0]
    assert d.delta == pytest.approx(-0.02) and d.verdict == "worse" and d.noise_band < 0.02
    tiny = gate(_run("val_iou", base - 0.0005), _run("val_iou", base), ["val_iou < -0.01"])
    assert tiny.passed and tiny.deltas[0].verdict == "within_noise"


def test_a_candidate_without_finite_values_fails_the_gate():
    base = np.linspace(1.0, 0.5, 10)
    result = gate(_run("val_loss", np.full(10, np.nan)), _run("val_loss", base), ["val_loss > 0.1"])
    assert not result.passed and "no finite val_loss" in result.failed[0]


@pytest.mark.parametrize("text", ["val_iou", "val_iou < x", "val_iou << 1", "< 0.1", "val_iou < inf"])
def test_malformed_conditions_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_condition(text)


def test_cli_usage_errors_are_one_line():
    for args in (("--fail-if", "val_accuracy <"), ("--fail-if", "val_nothing < 0")):
        res = cli("compare", SLOW, "--baseline", GOOD, *args)
        assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    res = cli("compare", SLOW, "--fail-if", "val_accuracy < 0")
    assert res.returncode == 2 and "--baseline" in res.stderr
