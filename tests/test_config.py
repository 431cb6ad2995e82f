"""Settable thresholds and the config file: defaults < file < flags, errors name the key and the file."""

import json
import subprocess
import sys

import pytest

from curvecheck.config import find_config, load_config, parse_value
from curvecheck.errors import UsageError

from .conftest import SAMPLES

SEG = SAMPLES / "segmentation_unet.csv"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "150"})


def codes(res):
    return {f["code"] for f in json.loads(res.stdout)["runs"][0]["findings"]}


def test_pyproject_is_found_walking_up_and_flags_override_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.curvecheck]\nignore = ["CC204"]\nfail-on = "info"\n\n'
        '[tool.curvecheck.plateau]\nmin_epochs = 100\n\n[tool.curvecheck.severity]\nCC201 = "info"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / "pyproject.toml"
    res = cli("analyze", SEG, "--json", cwd=deep)
    # CC204 ignored, the plateau needs 100 stalled epochs, overfitting demoted to info; fail-on info
    found = json.loads(res.stdout)["runs"][0]["findings"]
    assert "CC204" not in codes(res) and "CC202" not in codes(res)
    assert next(f for f in found if f["code"] == "CC201")["severity"] == "info"
    assert res.returncode == 1  # CC201 is an info now
    # flags override the file; --isolated ignores it
    assert cli("analyze", SEG, "--json", "--fail-on", "warning", cwd=deep).returncode == 0
    assert {"CC204", "CC202"} <= codes(cli("analyze", SEG, "--json", "--isolated", cwd=deep))
    assert "CC202" in codes(cli("analyze", SEG, "--json", "--set", "plateau.min_epochs=8", cwd=deep))


def test_curvecheck_toml_wins_in_its_folder_and_config_shows_sources(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.curvecheck]\nfail-on = "info"\n')
    (tmp_path / "curvecheck.toml").write_text('fail-on = "never"\n[CC202]\nk_sigma = 3\n')
    res = cli("config", "--set", "spike.k_sigma=9", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"# config file: {tmp_path / 'curvecheck.toml'}"
    assert f'fail-on = "never"  # {tmp_path / "curvecheck.toml"}' in lines
    assert f"plateau.k_sigma = 3  # {tmp_path / 'curvecheck.toml'}" in lines
    assert "spike.k_sigma = 9  # --set" in lines
    assert "plateau.min_epochs = 8  # default" in lines
    assert cli("config", "--isolated", cwd=tmp_path).stdout.splitlines()[0] == "# config file: none (--isolated)"


@pytest.mark.parametrize("toml, message", [
    ('[tool.curvecheck]\nfail_on = "warning"\n', "fail_on: unknown key"),
    ('[tool.curvecheck]\nfail-on = "sometimes"\n', "fail-on: expected one of error, warning, info, never"),
    ('[tool.curvecheck.plateau]\nwindow = 10\n', "plateau.window: unknown setting of CC202 plateau"),
    ('[tool.curvecheck.plateau]\nmin_epochs = "ten"\n', "plateau.min_epochs: expected int, got 'ten'"),
    ('[tool.curvecheck.nonsense]\nx = 1\n', "'nonsense' is not a check"),
    ('[tool.curvecheck.severity]\nCC202 = "fatal"\n', "CC202: severity must be one of"),
    ('[tool.curvecheck]\nselect = ["CC9"]\n', "select: 'CC9' matches no check"),
    ('[tool.curvecheck]\nignore = 3\n', "ignore: expected a list of strings"),
    ('[tool.curvecheck\n', "not valid TOML"),
])
def test_bad_config_names_key_and_file(tmp_path, toml, message):
    path = tmp_path / "pyproject.toml"
    path.write_text(toml)
    with pytest.raises(UsageError) as err:
        load_config(start=tmp_path)
    assert str(path) in str(err.value) and message in str(err.value) and "\n" not in str(err.value)


def test_bad_config_on_the_command_line_is_one_line_exit_2(tmp_path):
    path = tmp_path / "curvecheck.toml"
    path.write_text('[plateau]\nmin_epochs = "ten"\n')
    res = cli("analyze", SEG, cwd=tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == f"curvecheck: error: {path}: plateau.min_epochs: expected int, got 'ten'\n"


@pytest.mark.parametrize("item, message", [
    ("plateau.min_epochs=ten", "--set: plateau.min_epochs: expected int, got 'ten'"),
    ("plateau.window=10", "--set: plateau.window: unknown setting"),
    ("plateau=10", "--set expects CHECK.SETTING=VALUE"),
])
def test_bad_set(item, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.")):
        load_config(isolated=True).apply_sets([item])
    if item == "plateau=10":
        res = cli("analyze", SEG, "--isolated", "--set", item)
        assert res.returncode == 2 and message in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_set_by_code_or_name_and_value_types(tmp_path):
    assert [parse_value(v) for v in ("10", "0.5", "true", "False", "x")] == [10, 0.5, True, False, "x"]
    config = load_config(isolated=True)
    config.apply_sets(["CC202.min_epochs=10", "spike.k_sigma=7", "CC203.severity=info"])
    assert config.settings == {"CC202": {"min_epochs": 10}, "CC103": {"k_sigma": 7}}
    assert config.severities == {"CC203": "info"}
    with pytest.raises(UsageError, match="no such config file"):
        load_config(tmp_path / "missing.toml")


def test_recommend_stop_reads_monitor_and_strategy_from_config(tmp_path):
    (tmp_path / "curvecheck.toml").write_text('monitor = ["val_dice_coef"]\nstrategy = "keras"\n')
    rec = json.loads(cli("recommend-stop", SEG, "--json", cwd=tmp_path).stdout)
    assert rec["monitor"] == ["val_dice_coef"] and rec["strategy"] == "keras"
    rec = json.loads(cli("recommend-stop", SEG, "--json", "--strategy", "auto", cwd=tmp_path).stdout)
    assert rec["strategy"] == "auto"


GOOD_LR = SAMPLES / "lr_sweep" / "lr_0.05.csv"  # val_accuracy 0.97
SLOW_LR = SAMPLES / "lr_sweep" / "lr_0.0001.csv"  # val_accuracy 0.49


def test_fail_if_from_the_config_gates_compare_baseline_unless_a_flag_is_given(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.curvecheck]\nfail-if = ["val_accuracy < -0.01", "val_loss > 50%"]\n')
    worse = cli("compare", SLOW_LR, "--baseline", GOOD_LR, "--json", cwd=tmp_path)
    assert worse.returncode == 1, worse.stderr
    assert json.loads(worse.stdout)["gates"][0]["failed"] == ["val_accuracy < -0.01", "val_loss > 50%"]
    assert cli("compare", GOOD_LR, "--baseline", SLOW_LR, cwd=tmp_path).returncode == 0
    # the flag replaces the file's conditions; --isolated drops them
    flag = cli("compare", SLOW_LR, "--baseline", GOOD_LR, "--fail-if", "val_accuracy < -0.9", cwd=tmp_path)
    assert flag.returncode == 0 and "gate passed: none of val_accuracy < -0.9 holds" in flag.stdout
    assert cli("compare", SLOW_LR, "--baseline", GOOD_LR, "--isolated", cwd=tmp_path).returncode == 0
    # shown with its source; analyze does not use it
    shown = cli("config", cwd=tmp_path).stdout.splitlines()
    assert f'fail-if = ["val_accuracy < -0.01", "val_loss > 50%"]  # {path}' in shown
    assert "fail-if = []  # default" in cli("config", "--isolated").stdout.splitlines()
    assert cli("analyze", GOOD_LR, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("value, message", [
    ('["val_accuracy <"]', "fail-if: expected 'METRIC < NUMBER'"),
    ('["val_loss > 5%%"]', "fail-if: expected 'METRIC < NUMBER'"),
    ('["val_loss > 1e999"]', "fail-if: the threshold must be finite"),
    ("3", "fail-if: expected a list of conditions"),
])
def test_a_bad_fail_if_in_the_config_is_one_line_naming_key_and_file(tmp_path, value, message):
    path = tmp_path / "curvecheck.toml"
    path.write_text(f"fail-if = {value}\n")
    commands = [("config",)] + ([("analyze", SEG), ("compare", SLOW_LR, "--baseline", GOOD_LR)]
                                if value.startswith('["val_accuracy') else [])
    for args in commands:
        res = cli(*args, cwd=tmp_path)  # even commands that never gate refuse a broken file
        assert res.returncode == 2 and res.stdout == "" and res.stderr.count("\n") == 1, res.stderr
        assert res.stderr.startswith(f"curvecheck: error: {path}: ") and message in res.stderr


def test_a_fail_if_metric_neither_run_has_names_where_it_came_from(tmp_path):
    (tmp_path / "curvecheck.toml").write_text('fail-if = ["val_iou < -0.01"]\n')
    res = cli("compare", SLOW_LR, "--baseline", GOOD_LR, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert f"{tmp_path / 'curvecheck.toml'}: fail-if 'val_iou < -0.01': val_iou is not a series of both runs" \
        in res.stderr
