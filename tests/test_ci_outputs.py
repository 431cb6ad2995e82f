"""CI-native outputs, run as CI runs them: a subprocess with CI=true and a temporary GITHUB_STEP_SUMMARY.

Checked on a healthy, an overfitting and a NaN log: the GitHub annotations, the step summary, the
SARIF (validated against the SARIF 2.1.0 schema), the Markdown (rendered to HTML) and the exit codes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from .conftest import DATA, SAMPLES

HEALTHY = SAMPLES / "lr_sweep" / "lr_0.05.csv"
OVERFITTING = SAMPLES / "overfitting_mlp.csv"
NAN = SAMPLES / "nan_divergence.csv"
SARIF_SCHEMA = json.loads((DATA / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())


def ci(*args, summary: Path | None = None, cwd=None, encoding="utf-8", **env):
    base = {"PATH": os.environ["PATH"], "CI": "true", "GITHUB_ACTIONS": "true", "NO_COLOR": "1",
            "PYTHONIOENCODING": encoding}
    if "PYTHONPATH" in os.environ:  # lets the same tests run against another checkout
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if summary is not None:
        base["GITHUB_STEP_SUMMARY"] = str(summary)
    base.update(env)
    res = subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, cwd=cwd,
                         env=base)
    return res.returncode, res.stdout.decode(encoding), res.stderr.decode(encoding)


def annotations(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("::")]


@pytest.mark.parametrize("log, code, levels", [
    (HEALTHY, 0, set()),
    (OVERFITTING, 0, {"warning"}),
    (NAN, 1, {"error"}),
])
def test_github_format_annotates_findings_and_appends_the_step_summary(tmp_path, log, code, levels):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    rc, out, err = ci("analyze", log, "--format", "github", summary=summary)
    assert rc == code, err
    found = {line[2:].split(" ", 1)[0] for line in annotations(out)} - {"notice"}
    assert found == levels
    for line in annotations(out):
        assert f"file={log}," in line and ",title=CC" in line and "\n" not in line
    assert str(log) in out  # the text report follows the annotations for the job log
    text = summary.read_text()
    assert text.startswith("earlier step\n") and f"### curvecheck: `{log}`" in text


def test_github_annotation_carries_the_nan_finding():
    rc, out, _ = ci("analyze", NAN, "--format", "github")
    line = next(a for a in annotations(out) if a.startswith("::error"))
    assert line.startswith(f"::error file={NAN},title=CC101 non-finite::") and "NaN from epoch 12" in line


def test_fail_on_warning_makes_the_overfitting_run_fail():
    assert ci("analyze", OVERFITTING, "--format", "github", "--fail-on", "warning")[0] == 1


@pytest.mark.parametrize("log", [HEALTHY, OVERFITTING, NAN])
def test_sarif_is_valid_sarif_2_1_0_with_one_result_per_finding(tmp_path, log):
    out = tmp_path / "report.sarif"
    rc, _, err = ci("analyze", log, "--format", "sarif", "--output", out)
    assert rc in (0, 1) and f"wrote {out}" in err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SARIF_SCHEMA)
    findings = json.loads(ci("analyze", log, "--json")[1])["runs"][0]["findings"]
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [f["code"] for f in findings]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    for r in results:
        rule = rules[r["ruleIndex"]]
        assert rule["id"] == r["ruleId"] and "What it detects" in rule["help"]["text"]
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(log)


def test_markdown_report_renders_to_html_with_a_findings_table():
    rc, out, _ = ci("analyze", OVERFITTING, "--format", "markdown")
    assert rc == 0
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
    assert html.count("<table>") == 2  # findings, series
    assert "<td>⚠️ warning</td>" in html or ":warning: warning" in html
    assert "CC201 overfitting" in html and "<strong>Recommendation:</strong> keep epoch 11" in html


def test_compare_has_the_same_formats(tmp_path):
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    rc, out, _ = ci("compare", *sweep, "--format", "markdown")
    assert rc == 1 and "| 1 | `lr_0.05.csv` |" in out  # 1: lr 2.5 never learned (CC104, an error)
    rc, out, _ = ci("compare", *sweep, "--format", "sarif")
    jsonschema.validate(json.loads(out), SARIF_SCHEMA)


def test_exit_codes_are_the_same_for_every_command():
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    # 1: a finding at --fail-on, for every command that has findings
    assert ci("analyze", NAN)[0] == 1
    assert ci("recommend-stop", NAN)[0] == 1
    assert ci("compare", *sweep)[0] == 1  # lr 2.5 never learned: an error finding, as in analyze
    assert ci("compare", *sweep, "--fail-on", "never")[0] == 0
    # 2: usage or input error, one line
    for args in (("analyze", "missing.csv"), ("recommend-stop", "missing.csv"), ("compare", "missing.csv", HEALTHY),
                 ("analyze", HEALTHY, "--format", "yaml")):
        rc, _, err = ci(*args)
        assert rc == 2, args
    rc, _, err = ci("analyze", "missing.csv")
    assert err.count("\n") == 1


def test_piped_text_is_never_hard_wrapped(tmp_path):
    deep = tmp_path / ("a_rather_long_directory_name_for_experiments_" * 3) / "run"
    deep.mkdir(parents=True)
    log = deep / "history.csv"
    log.write_bytes(OVERFITTING.read_bytes())
    for cmd in ("analyze",):
        rc, out, _ = ci(cmd, log, COLUMNS="60")
        assert rc == 0
        assert any(str(log) in line for line in out.splitlines()), cmd
    rc, out, _ = ci("analyze", log)
    message = json.loads(ci("analyze", log, "--json")[1])["runs"][0]["findings"][0]["message"]
    assert message in out  # the whole message on one line


def test_non_utf8_stdout_falls_back_to_ascii(tmp_path):
    for log in (OVERFITTING, NAN):
        rc, out, err = ci("analyze", log, encoding="cp1252")
        assert rc in (0, 1) and "internal error" not in err
        assert "loss (min)" in out and "↓" not in out
    rc, out, err = ci("analyze", OVERFITTING, encoding="ascii")
    assert rc == 0 and "internal error" not in err and "(max)" in out


def test_closed_stdout_keeps_the_exit_code(tmp_path):
    """`curvecheck analyze x.csv | head` must not turn into exit 1 ("findings") or an internal error."""
    for log, expected in ((HEALTHY, 0), (NAN, 1)):
        for fmt in ("text", "json", "markdown"):
            read_end, write_end = os.pipe()
            os.close(read_end)  # the reader is gone before curvecheck writes anything
            env = {"PATH": os.environ["PATH"], "NO_COLOR": "1"}
            if "PYTHONPATH" in os.environ:
                env["PYTHONPATH"] = os.environ["PYTHONPATH"]
            res = subprocess.run([sys.executable, "-m", "curvecheck", "analyze", str(log), "--format", fmt],
                                 stdout=write_end, stderr=subprocess.PIPE, env=env)
            os.close(write_end)
            assert res.returncode == expected, (fmt, res.stderr)
            assert b"error" not in res.stderr and b"Exception" not in res.stderr


def test_version_completion_and_examples():
    rc, out, _ = ci("-V")
    assert rc == 0 and out.startswith("curvecheck ")
    rc, out, _ = ci("--help")
    assert "--install-completion" in out
    for cmd in ("analyze", "compare", "plot"):
        rc, out, _ = ci(cmd, "--help")
        assert rc == 0 and "Examples:" in out and "<list" not in out.lower() and "{LOG}..." in out


@pytest.mark.parametrize("log, code", [(HEALTHY, 0), (NAN, 1)])
def test_recommend_stop_formats_keep_its_exit_codes(tmp_path, log, code):
    summary = tmp_path / "summary.md"
    rc, out, err = ci("recommend-stop", log, "--format", "github", summary=summary)
    assert rc == code, err
    assert any(a.startswith(f"::notice file={log},title=recommend-stop::keep epoch") for a in annotations(out))
    assert f"### curvecheck recommend-stop: `{log}`" in summary.read_text()
    assert (code == 1) == any(a.startswith("::error") for a in annotations(out))
    rc, out, _ = ci("recommend-stop", log, "--format", "markdown")
    assert rc == code and "**Recommendation:** keep epoch" in out
    report = tmp_path / "rec.sarif"
    rc, _, err = ci("recommend-stop", log, "--format", "sarif", "--output", report)
    assert rc == code and f"wrote {report}" in err
    jsonschema.validate(json.loads(report.read_text()), SARIF_SCHEMA)


def test_recommend_stop_output_never_overwrites_a_log(tmp_path):
    victim = tmp_path / "other.csv"
    victim.write_bytes(OVERFITTING.read_bytes())
    rc, _, err = ci("recommend-stop", HEALTHY, "--format", "json", "--output", victim)
    assert rc == 2 and "refusing to overwrite a log" in err and victim.read_bytes() == OVERFITTING.read_bytes()
    rc, _, _ = ci("recommend-stop", HEALTHY, "--format", "json", "--output", tmp_path / "rec.json")
    assert rc == 0 and json.loads((tmp_path / "rec.json").read_text())["epoch"] is not None


@pytest.mark.parametrize("log, fail_on, code", [
    (HEALTHY, None, 0), (OVERFITTING, None, 0), (OVERFITTING, "warning", 1), (NAN, None, 1), (NAN, "never", 0),
])
def test_plot_fail_on_exits_after_writing_the_figure(tmp_path, log, fail_on, code):
    figure = tmp_path / "run.png"
    rc, out, err = ci("plot", log, "-o", figure, *(["--fail-on", fail_on] if fail_on else []))
    assert rc == code, err
    assert f"wrote {figure}" in out and figure.read_bytes().startswith(b"\x89PNG")


def test_plot_draws_the_readable_logs_and_exits_2_for_each_bad_one(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("not a log\n")
    missing = tmp_path / "missing.csv"
    figure = tmp_path / "sweep.png"
    rc, out, err = ci("plot", HEALTHY, bad, missing, OVERFITTING, "-o", figure)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2 and str(bad) in lines[0] and str(missing) in lines[1]
    assert f"wrote {figure}" in out and figure.read_bytes().startswith(b"\x89PNG")
    rc, _, err = ci("plot", bad, "-o", tmp_path / "none.png")
    assert rc == 2 and not (tmp_path / "none.png").exists() and len(err.strip().splitlines()) == 1


def test_markdown_links_the_figure_analyze_wrote(tmp_path):
    summary = tmp_path / "summary.md"
    rc, out, err = ci("analyze", OVERFITTING, "--plot", "curves fig.png", "--format", "markdown", cwd=tmp_path)
    assert rc == 0, err
    assert "](curves%20fig.png)" in out and (tmp_path / "curves fig.png").exists()
    html = MarkdownIt().render(out)
    assert '<img src="curves%20fig.png"' in html
    rc, out, _ = ci("analyze", OVERFITTING, "--plot", "g.png", "--format", "github", summary=summary, cwd=tmp_path)
    assert rc == 0 and "](g.png)" in summary.read_text()
    assert "![" not in ci("analyze", OVERFITTING, "--format", "markdown")[1]  # no figure, no link


def test_compare_ranks_the_readable_logs_and_exits_2_for_each_bad_one(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("not a log\n")
    missing = tmp_path / "missing.csv"
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    rc, out, err = ci("compare", *sweep, bad, missing, "--json")
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2 and str(bad) in lines[0] and str(missing) in lines[1]
    assert sorted(r["source"] for r in json.loads(out)["runs"]) == [str(p) for p in sweep]
    labels = ["--label", "lr=0.05", "--label", "lr=3", "--label", "lr=1e-4"]
    rc, out, _ = ci("compare", SAMPLES / "lr_sweep" / "lr_0.05.csv", bad, SAMPLES / "lr_sweep" / "lr_0.0001.csv",
                    *labels, "--json")
    assert rc == 2 and sorted(r["lr"] for r in json.loads(out)["runs"]) == [1e-4, 0.05]
    assert ci("compare", bad, missing)[0] == 2


def test_each_command_appends_its_own_section_to_the_step_summary(tmp_path):
    """Sections follow each other in one job's summary: each must render as its own heading (an open
    <details> block of the previous one would swallow it)."""
    summary = tmp_path / "summary.md"
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    ci("analyze", OVERFITTING, "--format", "github", summary=summary)
    ci("recommend-stop", OVERFITTING, "--format", "github", summary=summary)
    ci("compare", *sweep, "--format", "github", summary=summary)
    ci("compare", NAN, "--baseline", HEALTHY, "--format", "github", summary=summary)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(summary.read_text())
    assert html.count("<h3>") == 4, html


def test_compare_annotates_the_runs_that_make_it_fail():
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    rc, out, _ = ci("compare", *sweep, "--format", "github")
    found = {line.split("::")[1].split(" ")[0]: line for line in annotations(out)}
    assert rc == 1 and set(found) == {"error", "warning"}  # lr 2.5 never learned; lr 1e-4 too low
    assert "lr_2.5.csv,title=curvecheck compare::lr 2.5: too high; findings: 1 error" in found["error"]


@pytest.mark.parametrize("fail_on, code", [(None, 1), ("never", 0)])
def test_the_gate_keeps_fail_on_like_every_command(fail_on, code):
    """compare --baseline with no condition failing still exits 1 when the candidate has a finding at
    --fail-on (a NaN run is not a pass), and lists the candidate's findings."""
    args = ("compare", NAN, "--baseline", NAN, "--json") + (("--fail-on", fail_on) if fail_on else ())
    rc, out, _ = ci(*args)
    gate = json.loads(out)["gates"][0]
    assert rc == code and gate["passed"] is True and gate["findings"] == {"error": 1}
    rc, out, _ = ci("compare", HEALTHY, "--baseline", NAN, "--fail-if", "val_loss > 0")
    assert rc == 0 and "gate passed" in out and "candidate findings" not in out


def test_every_command_has_examples_and_readable_metavars():
    for cmd in ("analyze", "recommend-stop", "compare", "plot", "watch", "explain", "config"):
        rc, out, _ = ci(cmd, "--help")
        assert rc == 0 and "Examples:" in out and f"curvecheck {cmd} " in out.split("Examples:")[1], cmd
        assert "<list" not in out and "{log}" not in out and "[code]" not in out, cmd
        for option in ("--format", "--set", "--at"):
            for line in out.splitlines():
                if line.strip().startswith((f"{option} ", f"-f, {option} ")):
                    assert "<str>" not in line, (cmd, line)
    assert "--format <text|json|markdown|github|sarif>" in ci("recommend-stop", "--help")[1]


def test_closed_stdout_keeps_the_exit_code_of_every_command(tmp_path):
    """click exits 1 on a broken pipe; here 1 means "findings", so every command keeps its own code."""
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    cases = [(("explain",), 0), (("explain", "CC201"), 0), (("config", "--isolated"), 0), (("-V",), 0),
             (("recommend-stop", HEALTHY), 0), (("recommend-stop", NAN, "--json"), 1),
             (("compare", *sweep, "--fail-on", "never"), 0), (("compare", HEALTHY, "--baseline", HEALTHY), 0),
             (("plot", HEALTHY, "-o", tmp_path / "healthy.png"), 0), (("plot", NAN, "-o", tmp_path / "nan.png"), 1)]
    for args, expected in cases:
        read_end, write_end = os.pipe()
        os.close(read_end)
        res = subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], stdout=write_end,
                             stderr=subprocess.PIPE, env={"PATH": os.environ["PATH"], "NO_COLOR": "1"}, check=False)
        os.close(write_end)
        assert res.returncode == expected, (args, res.stderr)
        assert b"error" not in res.stderr, (args, res.stderr)


def test_running_out_of_memory_while_analysing_is_one_line_not_an_internal_error(monkeypatch, capsys):
    """Readers turn MemoryError into an error naming the file; one raised later (the analysis of a
    huge log under ulimit -v) must not be reported as a curvecheck bug."""
    from curvecheck import cli as cli_module

    def exhausted():
        raise MemoryError("Unable to allocate 15.3 MiB for an array")

    monkeypatch.setattr(cli_module, "app", exhausted)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("curvecheck: error: out of memory") and "internal error" not in err
