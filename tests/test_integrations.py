"""The GitHub Action's shell steps and the pre-commit hook, run here as far as they can be.

The action's `run:` steps are taken from action.yml, their `${{ ... }}` expressions replaced the way
the runner would, and run with bash, CI=true and temporary GITHUB_STEP_SUMMARY / GITHUB_OUTPUT files.
The `uses:` steps (setup-python, upload-artifact) need GitHub and are only checked for their inputs.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def _expand(text: str, inputs: dict[str, str]) -> str:
    def value(m: re.Match) -> str:
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs."):]]
        if expr == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"unexpected expression {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_action(tmp_path: Path, **given: str) -> tuple[int, str, Path, Path]:
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs["version"] = "curvecheck"  # already installed here: pip has nothing to fetch
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.touch()
    env = {"PATH": os.environ["PATH"], "CI": "true", "GITHUB_ACTIONS": "true", "NO_COLOR": "1",
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), "GITHUB_WORKSPACE": str(tmp_path)}
    stdout, code = "", 0
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            continue
        assert step["shell"] == "bash"
        step_env = {**env, **{k: _expand(str(v), inputs) for k, v in step.get("env", {}).items()}}
        res = subprocess.run(["bash", "-e", "-c", _expand(step["run"], inputs)], capture_output=True, text=True,
                             cwd=tmp_path, env=step_env)
        stdout += res.stdout
        code = res.returncode
        if code:
            break
    return code, stdout, summary, output


@pytest.fixture
def workspace(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("overfitting_mlp.csv", "nan_divergence.csv"):
        shutil.copy(SAMPLES / name, logs / name)
    return tmp_path


def test_action_annotates_summarises_and_writes_the_figure(workspace):
    code, out, summary, output = run_action(workspace, logs="logs/overfitting_mlp.csv", fail_on="warning",
                                            sarif="curvecheck.sarif")
    assert code == 1
    assert "::warning file=logs/overfitting_mlp.csv,title=CC201 overfitting::" in out
    assert "### curvecheck: `logs/overfitting_mlp.csv`" in summary.read_text()
    assert (workspace / "curvecheck.png").read_bytes().startswith(b"\x89PNG")
    assert "exit-code=1" in output.read_text()
    sarif = json.loads((workspace / "curvecheck.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_action_passes_on_default_fail_on_and_expands_globs(workspace):
    code, out, summary, output = run_action(workspace, logs="logs/overfitting_*.csv")
    assert code == 0 and "exit-code=0" in output.read_text()
    (workspace / "curvecheck.png").unlink()
    code, out, summary, output = run_action(workspace, logs="logs/*.csv", plot="")
    assert code == 1 and "::error file=logs/nan_divergence.csv,title=CC101 non-finite::" in out
    assert not (workspace / "curvecheck.png").exists()


def test_action_reports_an_unreadable_log_as_exit_2(workspace):
    code, out, summary, output = run_action(workspace, logs="logs/missing.csv")
    assert code == 2 and "exit-code=2" in output.read_text()


def test_action_uploads_the_figure_it_wrote():
    upload = next(s for s in ACTION["runs"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "${{ inputs.plot }}" and "always()" in upload["if"]


def test_pre_commit_hook_runs_on_changed_logs(tmp_path):
    hook = HOOKS[0]
    assert hook["id"] == "curvecheck" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("logs/history.csv") and pattern.search("runs/a/events.out.tfevents.1.host")
    assert not pattern.search("src/model.py") and not pattern.search("data/train_images.npy")
    log = tmp_path / "history.csv"
    shutil.copy(SAMPLES / "nan_divergence.csv", log)
    res = subprocess.run([*hook["entry"].split(), str(log)], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "NO_COLOR": "1"})
    assert res.returncode == 1 and "CC101" in res.stdout
