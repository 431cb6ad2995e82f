"""Many runs: a folder or glob yields every run below it, each reported, then a summary;
bad runs don't stop the rest."""

import json
import shutil
import subprocess
import sys

import curvecheck
from curvecheck.readers.discovery import find_runs, run_names

from .conftest import CORPUS, SAMPLES, WRITTEN


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "curvecheck.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def _logdir(tmp_path):
    """Real runs side by side: torch SummaryWriter runs, a Keras TensorBoard train/validation pair,
    CSV/JSON logs, a Lightning version folder and an HF output folder."""
    root = tmp_path / "logs"
    shutil.copytree(WRITTEN / "torch_simple", root / "runs" / "torch_simple")
    shutil.copytree(WRITTEN / "keras_tb", root / "fit" / "20261201-000000")
    (root / "lightning_logs" / "version_0").mkdir(parents=True)
    shutil.copy(CORPUS / "lightning_csv/10sajan10-CS6994FinalProject__air_temperature_v0_metrics.csv",
                root / "lightning_logs" / "version_0" / "metrics.csv")
    (root / "lightning_logs" / "version_1").mkdir()
    shutil.copy(CORPUS / "lightning_csv/HCDescamps-cv-image-classification__metrics.csv",
                root / "lightning_logs" / "version_1" / "metrics.csv")
    (root / "hf_out" / "checkpoint-375").mkdir(parents=True)
    shutil.copy(CORPUS / "hf_trainer_state/Tashu014-lora-imdb-distilbert__trainer_state.json",
                root / "hf_out" / "checkpoint-375" / "trainer_state.json")
    (root / "hf_out" / "config.json").write_text('{"model_type": "distilbert"}')
    shutil.copy(SAMPLES / "overfitting_mlp.csv", root / "overfitting_mlp.csv")
    shutil.copy(SAMPLES / "overfitting_mlp_history.json", root / "overfitting_mlp_history.json")
    return root


def test_find_runs_keeps_runs_apart(tmp_path):
    root = _logdir(tmp_path)
    runs, errors = find_runs(root)
    rel = sorted(str(p.relative_to(root)) for p in runs)
    assert rel == ["fit/20261201-000000", "hf_out", "lightning_logs/version_0/metrics.csv",
                   "lightning_logs/version_1/metrics.csv", "overfitting_mlp.csv", "overfitting_mlp_history.json",
                   "runs/torch_simple"]
    assert errors == []


def test_names_get_parent_folders_when_file_names_repeat(tmp_path):
    root = _logdir(tmp_path)
    runs, _ = find_runs(root)
    names = run_names(runs)
    assert "version_0/metrics.csv" in names and "version_1/metrics.csv" in names
    assert "overfitting_mlp.csv" in names and len(set(names)) == len(names)


def test_analyze_a_logdir_reports_each_run_and_a_summary(tmp_path):
    root = _logdir(tmp_path)
    (root / "broken.csv").write_text("")
    res = run_cli("analyze", root, "--jobs", "2", "--fail-on", "never")
    assert res.returncode == 2  # one unreadable run, reported at the end
    assert res.stderr.strip().splitlines() == [f"curvecheck: error: {root / 'broken.csv'}: empty file"]
    assert "8 runs" in res.stdout and "version_1/metrics.csv" in res.stdout and "lightning_csv" in res.stdout
    res = run_cli("analyze", root, "--json", "--jobs", "2", "--fail-on", "never")
    doc = json.loads(res.stdout)
    assert len(doc["runs"]) == 7 and [e["source"] for e in doc["errors"]] == [str(root / "broken.csv")]
    frameworks = {r["name"]: r["framework"] for r in doc["runs"]}
    assert frameworks["hf_out"] == "hf" and frameworks["version_0/metrics.csv"] == "lightning"
    assert frameworks["overfitting_mlp.csv"] == "keras"


def test_parallel_and_serial_give_the_same_report(tmp_path):
    root = _logdir(tmp_path)
    for i in range(6):  # enough runs to use worker processes
        shutil.copy(SAMPLES / "segmentation_unet.csv", root / f"unet_{i}.csv")
    serial = curvecheck.analyze(root, jobs=1)
    parallel = curvecheck.analyze(root, jobs=2)
    assert json.dumps(serial.to_dict()) == json.dumps(parallel.to_dict())
    assert len(serial.runs) == 13


def test_glob_and_load_many(tmp_path):
    root = _logdir(tmp_path)
    runs, errors = curvecheck.load_many(str(root / "lightning_logs" / "*" / "metrics.csv"))
    assert [r.name for r in runs] == ["version_0/metrics.csv", "version_1/metrics.csv"] and errors == []
    runs, errors = curvecheck.load_many(str(root / "nothing_*.csv"))
    assert runs == [] and "no file matches" in errors[0].message


def test_dangling_and_looping_links_in_a_logdir_are_reported_and_the_rest_is_read(tmp_path):
    root = tmp_path / "logs"
    root.mkdir()
    shutil.copy(SAMPLES / "overfitting_mlp.csv", root / "good.csv")
    (root / "dangling.csv").symlink_to(root / "gone.csv")
    (root / "loop.csv").symlink_to(root / "loop.csv")
    (root / "dir_loop").symlink_to(root)  # a link back up: not followed
    report = curvecheck.analyze(root, on_error="collect")
    assert [r.name for r in report.runs] == ["good.csv"]
    problems = {e.source.rsplit("/", 1)[-1]: e.message for e in report.errors}
    assert "no such file" in problems["dangling.csv"] and "symbolic link loop" in problems["loop.csv"]


def test_each_bad_log_on_the_command_line_gets_one_line_and_the_others_are_reported(tmp_path):
    odd = tmp_path / "bad\nname.csv"
    odd.write_text("")
    missing = tmp_path / "missing.csv"
    res = run_cli("analyze", odd, SAMPLES / "overfitting_mlp.csv", missing, "--fail-on", "never")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and "empty file" in lines[0] and "bad\\nname.csv" in lines[0]
    assert "missing.csv: no such file" in lines[1]
    assert "overfitting_mlp.csv" in res.stdout and "3 runs" in res.stdout
