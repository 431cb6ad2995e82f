"""The command line: reports, JSON contract, and one-line errors with exit code 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS, WRITTEN

BRATS = CORPUS / "keras_csv/4hmetcakmak-BraTS2020CapstoneProject__training.log"


def run_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True,
                          text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "150"}, **kw)


def test_analyze_text_report():
    res = run_cli("analyze", BRATS)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "keras_csv" in out and "24 epochs" in out and "from 0 like Keras CSVLogger" in out
    assert "val_mean_io_u_5" in out and "iou ↑" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("val_loss "))
    assert "0.0345" in line and " 13 " in line  # best val_loss at epoch 13
    assert "\x1b[" not in out  # no colour codes when piped


def test_analyze_json_document():
    res = run_cli("analyze", BRATS, WRITTEN / "keras_nan.csv", "--format", "json")
    assert res.returncode == 1, res.stderr  # keras_nan.csv has an error-level finding (NaN loss)
    doc = json.loads(res.stdout)
    assert doc["schema_version"] == 1 and len(doc["runs"]) == 2
    run = doc["runs"][0]
    assert {"source", "format", "x_axis", "num_points", "series", "notes", "findings",
            "recommendation", "lr_verdict"} <= set(run)
    vl = next(s for s in run["series"] if s["name"] == "val_loss")
    assert vl == {**vl, "kind": "loss", "split": "val", "direction": "min", "best_epoch": 13, "points": 24,
                  "paired_with": "loss", "nan_epochs": []}
    nan_run = doc["runs"][1]
    loss = next(s for s in nan_run["series"] if s["name"] == "loss")
    assert loss["nan_epochs"] == [3, 4, 5, 6, 7, 8, 9] and loss["last"] is None


def test_direction_override_and_its_errors():
    path = CORPUS / "keras_json/AnshSareen-Deep-Learning-Based-Lip-Reading__training_history.json"
    doc = json.loads(run_cli("analyze", path, "--json", "--direction", "val_wer=max").stdout)
    wer = next(s for s in doc["runs"][0]["series"] if s["name"] == "val_wer")
    assert wer["direction"] == "max"
    bad = run_cli("analyze", path, "--direction", "val_wr=min")
    assert bad.returncode == 2 and "unknown series val_wr" in bad.stderr
    bad = run_cli("analyze", path, "--direction", "val_wer")
    assert bad.returncode == 2 and "NAME=min|max|none" in bad.stderr


def _bad_inputs(tmp_path):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "prose.txt").write_text("just some words without structure")
    (tmp_path / "strings.csv").write_text("epoch,name\n0,foo\n1,bar\n")
    (tmp_path / "notes.json").write_text('{"author": "me", "lr": 0.1}')
    (tmp_path / "broken.json").write_text('{"loss": [1, 2,')
    (tmp_path / "all_nan.csv").write_text("epoch,loss,val_loss\n0,nan,nan\n1,nan,NA\n2,inf,nan\n")
    (tmp_path / "one_epoch.csv").write_text("epoch,loss,val_loss\n0,0.9,1.0\n")
    return {
        "missing.csv": "no such file",
        "empty_dir": "no training logs",
        "empty.csv": "empty file",
        "garbage.bin": "binary file",
        "prose.txt": "unknown format",
        "strings.csv": "no numeric column",
        "notes.json": "not a training history",
        "broken.json": "invalid JSON",
        "all_nan.csv": "NaN or inf",
        "one_epoch.csv": "only one epoch",
    }


def test_bad_input_is_one_line_exit_2(tmp_path):
    cases = _bad_inputs(tmp_path)
    for name, problem in cases.items():
        res = run_cli("analyze", tmp_path / name)
        assert res.returncode == 2, (name, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, (name, res.stderr)
        assert str(tmp_path / name) in lines[0] and problem in lines[0], (name, lines[0])
        assert "Traceback" not in res.stderr


def test_empty_file_from_the_corpus_and_good_file_still_reported():
    empty = CORPUS / "keras_csv/dhairyasheelsutar-Food-11-image-classification__mobilenet_training.csv"
    res = run_cli("analyze", empty, BRATS)
    assert res.returncode == 2
    assert "empty file" in res.stderr and "val_mean_io_u_5" in res.stdout




def test_usage_errors_exit_2():
    assert run_cli("analyze").returncode == 2
    assert run_cli("analyze", BRATS, "--segment", "0").returncode == 2
    assert run_cli("analyze", BRATS, "--log-format", "xml").returncode == 2


@pytest.mark.parametrize("args", [["--help"], ["analyze", "--help"], ["--version"]])
def test_help_and_version(args):
    res = run_cli(*args)
    assert res.returncode == 0 and ("Usage" in res.stdout or "curvecheck" in res.stdout)


OVERFIT = Path(__file__).parent.parent / "sample_logs" / "overfitting_mlp.csv"
NAN = Path(__file__).parent.parent / "sample_logs" / "nan_divergence.csv"


def test_fail_on_levels_set_the_exit_code():
    assert run_cli("analyze", OVERFIT).returncode == 0  # warnings only, default --fail-on error
    assert run_cli("analyze", OVERFIT, "--fail-on", "warning").returncode == 1
    assert run_cli("analyze", NAN).returncode == 1  # NaN loss is an error
    assert run_cli("analyze", NAN, "--fail-on", "never").returncode == 0


def test_findings_in_the_report_and_quiet_mode():
    out = run_cli("analyze", OVERFIT).stdout
    assert "findings:" in out and "CC201 overfitting" in out and "-> Keep the checkpoint" in out
    quiet = run_cli("analyze", OVERFIT, "--quiet").stdout
    assert "CC201 overfitting" in quiet and "series" not in quiet and "┃" not in quiet


def test_select_and_ignore():
    doc = json.loads(run_cli("analyze", OVERFIT, "--json", "--select", "CC2", "--ignore", "plateau").stdout)
    codes = {f["code"] for f in doc["runs"][0]["findings"]}
    assert codes and all(c.startswith("CC2") and c != "CC202" for c in codes)
    bad = run_cli("analyze", OVERFIT, "--select", "CC9")
    assert bad.returncode == 2 and "matches no check" in bad.stderr


def test_findings_in_json_carry_evidence():
    doc = json.loads(run_cli("analyze", NAN, "--json", "--fail-on", "never").stdout)
    (f,) = [f for f in doc["runs"][0]["findings"] if f["code"] == "CC101"]
    assert set(f) == {"code", "name", "kind", "severity", "series", "epochs", "message", "evidence", "advice"}
    assert f["epochs"] == {"start": 12, "end": 24} and f["evidence"]["first_epoch"] == 12


def test_explain():
    listing = run_cli("explain").stdout
    assert all(code in listing for code in ("CC101", "CC201", "CC204", "CC401"))
    doc = run_cli("explain", "CC204").stdout
    assert "What it detects" in doc and "What to do" in doc and "min_effect = 0.01" in doc
    assert run_cli("explain", "overfitting").stdout.startswith("CC201 overfitting")
    bad = run_cli("explain", "CC999")
    assert bad.returncode == 2 and "unknown check" in bad.stderr


def test_readme_catalogue_is_generated_from_the_docstrings():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert run_cli("explain", "--markdown").stdout.strip() in readme
