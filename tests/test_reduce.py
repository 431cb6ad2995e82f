"""Long series judged on a sample of their points (curvecheck.reduce): the same findings as the full
analysis on long diverging, overfitting, plateaued and spiking curves, the NaN step and the best epoch
exact. Synthetic curves (threshold edges of a setting, kept small: the limit is set low here)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import curvecheck
from curvecheck.api import analyze_run
from curvecheck.checks import EVERY_POINT
from curvecheck.cli import app
from curvecheck.reduce import level_view, peak_view

N = 6000
LIMIT = 1000  # 1 point in 6 judged


def _write(tmp_path, name: str, **cols: np.ndarray):
    path = tmp_path / f"{name}.csv"
    header = ["epoch", *cols]
    rows = np.column_stack([np.arange(N), *cols.values()])
    with open(path, "w") as fh:
        fh.write(",".join(header) + "\n")
        np.savetxt(fh, rows, delimiter=",", fmt=["%d"] + ["%.9g"] * len(cols))
    return curvecheck.load(path)


def _curves(kind: str):
    rng = np.random.default_rng(1)
    t = np.arange(N) / N
    def noise(s: float) -> np.ndarray:
        return rng.normal(0, s, N)

    train = 2.0 * np.exp(-6 * t) + 0.1 + noise(0.01)
    if kind == "overfitting":
        val = 0.5 + 2.0 * np.exp(-8 * t) + 1.2 * np.clip(t - 0.35, 0, None) + noise(0.01)
    elif kind == "plateau":
        val = np.where(t < 0.3, 2.0 - 5.0 * t, 0.5) + noise(0.01)
        train = np.where(t < 0.3, 1.9 - 5.0 * t, 0.4) + noise(0.01)
    elif kind == "diverging":
        val = 2.0 * np.exp(-6 * t) + 0.2 + noise(0.01)
        train = train.copy()
        train[int(0.6 * N):] += np.exp(np.linspace(0, 12, N - int(0.6 * N))) * 0.01
        val[int(0.6 * N):] += np.exp(np.linspace(0, 12, N - int(0.6 * N))) * 0.01
        train[int(0.9 * N) + 7:] = np.nan  # the loss blows up to NaN at one exact step
    elif kind == "iou_zero":  # the loss falls, the IoU stays 0: never learned the foreground
        train = 0.7 * np.exp(-6 * t) + 0.3 + noise(0.005)
        val = 0.7 * np.exp(-6 * t) + 0.32 + noise(0.005)
    else:  # spiking: a few single-point spikes on a calm decaying loss
        val = 2.0 * np.exp(-6 * t) + 0.2 + noise(0.005)
        train = 2.0 * np.exp(-6 * t) + 0.2 + noise(0.005)
        for i in (2503, 3911, 5207):
            train[i] *= 6.0
    return train, val


def _run(tmp_path, kind: str):
    train, val = _curves(kind)
    extra = {"val_iou": np.zeros(N)} if kind == "iou_zero" else {}
    return _write(tmp_path, kind, loss=train, val_loss=val, **extra)


def _findings(report):
    return {(f.code, tuple(f.series)) for f in report.findings}


@pytest.mark.parametrize("kind,expected", [("overfitting", "CC201"), ("plateau", "CC202"),
                                           ("diverging", "CC102"), ("spiking", "CC103"), ("iou_zero", "CC104")])
def test_reduced_analysis_finds_what_the_full_one_finds(tmp_path, kind, expected):
    run = _run(tmp_path, kind)
    full = analyze_run(run, max_points=0)
    reduced = analyze_run(run, max_points=LIMIT)
    assert expected in {code for code, _ in _findings(full)}
    assert _findings(reduced) == _findings(full)
    # NaN/inf, divergence and integrity are judged on every point: the very same findings
    assert ([f.to_dict() for f in reduced.findings if f.code in EVERY_POINT]
            == [f.to_dict() for f in full.findings if f.code in EVERY_POINT])
    # the summary and the recommendation read every point: identical
    assert [s.to_dict() for s in reduced.series] == [s.to_dict() for s in full.series]
    assert reduced.recommendation.to_dict() == full.recommendation.to_dict()
    assert full.reduced is None and reduced.reduced is not None
    assert reduced.lr_verdict.verdict == full.lr_verdict.verdict
    assert {s.name: s.every for s in reduced.reduced.series} == {name: 6 for name in run.series if name != "epoch"}


def test_nan_step_and_spike_steps_are_the_logged_ones(tmp_path):
    train, val = _curves("diverging")
    run = _write(tmp_path, "diverging", loss=train, val_loss=val)
    reduced = analyze_run(run, max_points=LIMIT)
    nan = next(f for f in reduced.findings if f.code == "CC101")
    assert nan.evidence.first_epoch == int(0.9 * N) + 7
    train, val = _curves("spiking")
    run = _write(tmp_path, "spiking", loss=train, val_loss=val)
    spike = next(f for f in analyze_run(run, max_points=LIMIT).findings if f.code == "CC103")
    assert spike.evidence.spike_epochs == [2503.0, 3911.0, 5207.0]
    assert spike.evidence.values == [float(run["loss"].values[i]) for i in (2503, 3911, 5207)]


def test_plateau_counts_logged_epochs_not_sampled_points(tmp_path):
    train, val = _curves("plateau")
    run = _write(tmp_path, "plateau", loss=train, val_loss=val)
    full, reduced = (next(f for f in analyze_run(run, max_points=m).findings if f.code == "CC202")
                     for m in (0, LIMIT))
    assert abs(reduced.evidence.stalled_epochs - full.evidence.stalled_epochs) < 0.05 * N
    assert f"of {N} epochs" in reduced.message


def test_views_keep_real_points_first_last_best_and_peaks():
    rng = np.random.default_rng(3)
    x = np.arange(10_001, dtype=float) * 10
    v = rng.normal(1.0, 0.1, x.shape[0])
    v[4321] = -5.0  # the best of a loss
    v[777] = 9.0
    lx, lv = level_view(x, v, -1.0, 1000)
    assert lx[0] == x[0] and lx[-1] == x[-1] and 43210.0 in lx and np.all(np.diff(lx) > 0)
    assert set(lv.tolist()) <= set(v.tolist()) and lv.shape[0] <= 1003
    px, pv = peak_view(x, v, 1000)
    assert 7770.0 in px and 9.0 in pv and pv.shape[0] == 910
    assert np.all(np.isin(px, x))


def test_note_json_field_and_setting(tmp_path):
    train, val = _curves("overfitting")
    _write(tmp_path, "long", loss=train, val_loss=val)
    log = str(tmp_path / "long.csv")
    runner = CliRunner()
    out = runner.invoke(app, ["analyze", "--json", "--isolated", "--max-points", str(LIMIT), log])
    doc = json.loads(out.output)["runs"][0]
    assert doc["reduced"] == {"max_points": LIMIT, "series": [
        {"name": "loss", "points": N, "analysed": doc["reduced"]["series"][0]["analysed"], "every": 6},
        {"name": "val_loss", "points": N, "analysed": doc["reduced"]["series"][1]["analysed"], "every": 6}]}
    assert any(n["kind"] == "reduced" for n in doc["notes"])
    # under the limit (the default is far above any real log here): no field, no note
    doc = json.loads(runner.invoke(app, ["analyze", "--json", "--isolated", log]).output)["runs"][0]
    assert "reduced" not in doc and not any(n["kind"] == "reduced" for n in doc["notes"])
    text = runner.invoke(app, ["analyze", "--isolated", "--max-points", str(LIMIT), log]).output
    assert "sample of their points" in text
    (tmp_path / "curvecheck.toml").write_text("max-points = -1\n")
    bad = runner.invoke(app, ["analyze", "--config", str(tmp_path / "curvecheck.toml"), log])
    assert bad.exit_code == 2 and "max-points" in bad.output
