"""Lightning metrics.csv, Hugging Face trainer_state.json, JSON Lines, generic and long CSV tables, on
the corpus copies: series, epochs/steps and values checked against the files themselves."""

import csv
import json
import math
import shutil

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError
from curvecheck.readers import READERS

from .conftest import CORPUS

LIGHTNING = sorted((CORPUS / "lightning_csv").glob("*.csv"))
HF = sorted((CORPUS / "hf_trainer_state").glob("*.json"))
YOLO = sorted((CORPUS / "yolo_csv").glob("*.csv"))


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("path", LIGHTNING, ids=lambda p: p.name[:40])
def test_every_lightning_file_is_read_per_epoch_with_values_from_the_file(path):
    run = curvecheck.load(path)
    assert run.format == "lightning_csv" and run.framework == "lightning" and run.x_axis == "epoch"
    rows = _rows(path)
    for name, series in run.series.items():
        if series.step_level:
            raw = name if name in rows[0] else name[: -len("_step")]
            logged = [float(r[raw]) for r in rows if r[raw].strip()]
            assert series.values.tolist() == logged  # every logged value, in file order
            assert np.all(np.diff(series.x) >= 0) and not series.is_signal
            continue
        if name not in rows[0]:  # the per-epoch mean of a step-level column
            per_epoch: dict[float, list[float]] = {}
            for r in rows:
                if r[name].strip() and r["epoch"].strip():
                    per_epoch.setdefault(float(r["epoch"]), []).append(float(r[name]))
            assert series.x.tolist() == sorted(per_epoch)
            assert series.values == pytest.approx([np.mean(per_epoch[e]) for e in sorted(per_epoch)])
            continue
        logged = [(float(r["epoch"]), float(r[name])) for r in rows if r[name].strip() and r["epoch"].strip()]
        if len(logged) == len(series):
            assert list(zip(series.x.tolist(), series.values.tolist(), strict=True)) == logged
    # missing is not NaN: sparse rows never turn into NaN values
    assert not any(np.isnan(s.values).any() for s in run.series.values())


def test_lightning_val_and_train_rows_at_one_step_merge_into_one_epoch():
    run = curvecheck.load(LIGHTNING[0])  # 10sajan10 air_temperature: val row then train row per epoch
    assert run.x_axis == "epoch" and run.num_points == 14
    assert run["val_loss"].x.tolist() == list(range(14)) and run["train_loss"].x.tolist() == list(range(14))
    assert run["val_loss"].values[0] == 0.21016594767570496 and run["train_loss"].values[0] == 0.2661575973033905
    assert run.partner("train_loss").name == "val_loss"


def test_lightning_step_level_train_loss_is_kept_and_averaged_per_epoch():
    run = curvecheck.load(CORPUS / "lightning_csv/HCDescamps-cv-image-classification__metrics.csv")
    assert run["train_loss_step"].step_level and len(run["train_loss_step"]) == 171
    assert run["train_loss"].x.tolist() == [0, 1, 2, 3, 4] and run["val_loss"].x.tolist() == list(range(6))
    assert run.num_points == 6  # step-level points do not count as epochs
    assert any(n.kind == "epoch_means" for n in run.notes)


def test_lightning_lr_monitor_rows_without_epoch_get_the_epoch_of_their_step():
    run = curvecheck.load(CORPUS / "lightning_csv/Eve-ning-opal-v2__metrics.csv")
    assert run.lr_series() is not None and run.lr_series().name == "lr-Adam"
    assert run["lr-Adam"].x.tolist() == run["val/rmse_loss"].x.tolist()
    assert run.partner("val/rmse_loss") is None or run.partner("val/rmse_loss").name == "train/nll_loss"


@pytest.mark.parametrize("path", HF, ids=lambda p: p.name[:40])
def test_every_hf_trainer_state_is_read_by_step_with_values_from_the_file(path):
    run = curvecheck.load(path)
    doc = json.loads(path.read_text())
    assert run.format == "hf_trainer_state" and run.framework == "hf" and run.x_axis == "step"
    entries = [e for e in doc["log_history"] if "train_runtime" not in e]
    train = [(e["step"], e["loss"]) for e in entries if "loss" in e]
    assert list(zip(run["loss"].x.tolist(), run["loss"].values.tolist(), strict=True)) == train
    evals = [(e["step"], e["eval_loss"]) for e in entries if "eval_loss" in e]
    if evals:
        assert list(zip(run["eval_loss"].x.tolist(), run["eval_loss"].values.tolist(), strict=True)) == evals
        assert run.partner("loss").name == "eval_loss"
    else:
        assert "eval_loss" not in run
    # fractional epochs kept (bookkeeping), the summary entry is not a curve point
    assert not run["epoch"].is_signal and "train_loss" not in run
    assert run.meta["planned_epochs"] == doc["num_train_epochs"]
    assert run.meta["summary"].get("train_loss") == next(
        (e["train_loss"] for e in doc["log_history"] if "train_runtime" in e), None)


def test_hf_best_checkpoint_and_checkpoint_folders_on_disk(tmp_path):
    src = CORPUS / "hf_trainer_state/P4P4N1CK-whisper-large-v2-japanese-5k-steps__trainer_state.json"
    out = tmp_path / "whisper-out"
    for step in (4000, 5000):
        (out / f"checkpoint-{step}").mkdir(parents=True)
        shutil.copy(src, out / f"checkpoint-{step}" / "trainer_state.json")
    (out / "checkpoint-3000").mkdir()  # a checkpoint folder without a state file is still a checkpoint
    for given in (out, out / "checkpoint-5000", out / "checkpoint-5000" / "trainer_state.json"):
        run = curvecheck.load(given)
        assert run.format == "hf_trainer_state"
        assert run.meta["checkpoints"] == {s: str(out / f"checkpoint-{s}") for s in (3000, 4000, 5000)}
        assert run.meta["best_model_checkpoint"].endswith("checkpoint-3000")
        assert run.meta["planned_epochs"] == 39
    assert curvecheck.load(out).source == str(out / "checkpoint-5000" / "trainer_state.json")


def test_json_lines_with_repeated_steps_are_restarts():
    path = CORPUS / "generic_jsonl/akawslearn-ai-slm_training__metrics.jsonl"
    run = curvecheck.load(path)
    assert run.format == "jsonl" and run.x_axis == "step"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(run.segments) > 1  # steps 20, 40 logged again: appended runs
    assert run["loss"].values[-1] == records[-1]["loss"] and run["loss"].x[-1] == records[-1]["step"]
    assert not run["tokens"].is_signal


def test_json_lines_absent_keys_are_gaps_not_nan(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"epoch": 0, "loss": 1.0}\n{"epoch": 0.5, "loss": 0.9}\n'
                    '{"epoch": 1, "loss": 0.8, "val_loss": 0.95}\n'
                    '{"epoch": 2, "loss": 0.7, "val_loss": NaN}\n')
    run = curvecheck.load(path)
    assert run["val_loss"].x.tolist() == [1, 2] and math.isnan(run["val_loss"].values[1])
    assert not np.isnan(run["loss"].values).any()


def test_generic_csv_step_based_log():
    path = CORPUS / "generic_csv/mlcommons-submissions_algorithms__genadam_conformer_eval_measurements.csv"
    run = curvecheck.load(path)
    assert run.format == "csv" and run.x_axis == "step" and run.framework == "generic"
    rows = _rows(path)
    logged = [(float(r["global_step"]), float(r["train/ctc_loss"])) for r in rows if r["train/ctc_loss"].strip()]
    assert run["train/ctc_loss"].x.tolist() == [x for x, _ in logged]
    np.testing.assert_array_equal(run["train/ctc_loss"].values, [v for _, v in logged])  # a written nan stays NaN
    assert np.isnan(run["train/ctc_loss"].values).sum() == 1
    assert run.partner("train/ctc_loss").name == "validation/ctc_loss"


def test_stacked_experiment_ledger_reads_each_version_as_a_segment():
    path = CORPUS / ("generic_csv/IsomorphicAlgo-Histopathologic-Cancer-Detection-Deep-Mo__"
                     "model_training_performance.csv")
    run = curvecheck.load(path)
    assert len(run.segments) == 6 and run["val_loss"].x[0] == 1
    assert "version" not in run and any(n.kind == "dropped_columns" for n in run.notes)


@pytest.mark.parametrize("path", YOLO, ids=lambda p: p.name[:40])
def test_every_ultralytics_results_csv(path):
    run = curvecheck.load(path)
    assert run.format == "ultralytics_csv" and run.framework == "ultralytics"
    rows = [{k.strip(): v for k, v in r.items()} for r in _rows(path)]
    epochs = [float(r["epoch"]) for r in rows]
    key = next(k for k in rows[0] if k.startswith("val/"))
    assert run[key].x.tolist() == epochs
    assert run[key].values.tolist() == [float(r[key]) for r in rows]


def test_long_format_export_gives_one_series_per_metric(tmp_path):
    path = tmp_path / "mlflow_metrics.csv"
    lines = ["key,value,timestamp,step"]
    for step in range(6):
        lines += [f"loss,{1 - step / 10},{1700000000 + step},{step}",
                  f"val_loss,{1.1 - step / 20},{1700000000 + step},{step}"]
    path.write_text("\n".join(lines) + "\n")
    run = curvecheck.load(path)
    assert run.format == "long_csv" and set(run.series) == {"loss", "val_loss"} and run.x_axis == "step"
    assert run["val_loss"].values.tolist() == [1.1 - s / 20 for s in range(6)]
    assert run.partner("loss").name == "val_loss"


def test_x_and_column_roles(tmp_path):
    path = tmp_path / "custom.csv"
    path.write_text("it,a,b,comment\n" + "".join(f"{i * 100},{1 / (i + 1)},{0.5 + i / 20},x{i}\n" for i in range(8)))
    run = curvecheck.load(path, x="it", columns={"a": "train_loss", "b": "val_accuracy"})
    assert run.x_axis == "step" and run["a"].x.tolist() == [i * 100 for i in range(8)]
    assert run["a"].kind == "loss" and run["b"].kind == "accuracy" and run["b"].split == "val"
    run = curvecheck.load(path, columns={"it": "epoch", "b": "ignore"})
    assert run.x_axis == "epoch" and "b" not in run
    with pytest.raises(InputError, match="nope"):
        curvecheck.load(path, x="nope")
    with pytest.raises(InputError, match="--column names unknown column.s. acc"):
        curvecheck.load(path, columns={"acc": "val_accuracy"})


def test_every_format_name_a_report_prints_is_a_reader():
    for path in [*LIGHTNING[:1], *HF[:1], *YOLO[:1], CORPUS / "generic_csv/Friday-1202-U-net__training_history.csv",
                 CORPUS / "generic_jsonl/akawslearn-ai-slm_training__metrics.jsonl"]:
        fmt = curvecheck.load(path).format
        assert fmt in READERS
        assert curvecheck.load(path, fmt).format == fmt  # and --log-format accepts it
    with pytest.raises(InputError, match="choose from keras_csv, ultralytics_csv"):
        curvecheck.load(HF[0], "xml")


def test_ultralytics_planned_epochs_from_args_yaml(tmp_path):
    src = CORPUS / "yolo_csv/01-Zhangsaisai-Wheat-Weed-Detection-YOLOv8__results.csv"
    shutil.copy(src, tmp_path / "results.csv")
    (tmp_path / "args.yaml").write_text("task: detect\nmode: train\nepochs: 100\npatience: 50\n")
    run = curvecheck.load(tmp_path / "results.csv")
    assert run.meta["planned_epochs"] == 100 and run.num_points == 102
    assert "planned_epochs" not in curvecheck.load(src).meta


def test_remote_logs_through_fsspec_memory_filesystem():
    fsspec = pytest.importorskip("fsspec")
    mem = fsspec.filesystem("memory")
    src = CORPUS / "keras_csv/4hmetcakmak-BraTS2020CapstoneProject__training.log"
    mem.pipe("/cc_test/training.log", src.read_bytes())
    mem.pipe("/cc_test/state.json", HF[0].read_bytes())
    try:
        run = curvecheck.load("memory://cc_test/training.log")
        assert run.source == "memory://cc_test/training.log" and run.num_points == 24
        assert run["val_loss"].values.tolist() == curvecheck.load(src)["val_loss"].values.tolist()
        assert curvecheck.load("memory://cc_test/state.json").format == "hf_trainer_state"
        with pytest.raises(InputError, match="memory://cc_test/missing.csv: no such file"):
            curvecheck.load("memory://cc_test/missing.csv")
    finally:
        mem.rm("/cc_test", recursive=True)


def test_the_cli_and_the_registry_import_no_numpy_or_pandas():
    import subprocess
    import sys

    code = "import sys, curvecheck.cli; print(sorted({'numpy', 'pandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lightning_checkpoint_files_beside_metrics_csv(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    shutil.copy(LIGHTNING[0], tmp_path / "metrics.csv")
    (tmp_path / "checkpoints" / "epoch=12-step=3237.ckpt").write_bytes(b"")
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"")
    run = curvecheck.load(tmp_path / "metrics.csv")
    assert run.meta["checkpoints"] == {12: str(tmp_path / "checkpoints" / "epoch=12-step=3237.ckpt")}


def test_fastai_csvlogger_table(tmp_path):
    """fastai's CSVLogger: epoch, the recorder's metric names, and a 'time' column of mm:ss text."""
    path = tmp_path / "history.csv"
    path.write_text("epoch,train_loss,valid_loss,accuracy,time\n0,1.2,1.0,0.6,00:12\n1,0.9,0.8,0.7,00:11\n"
                    "2,0.7,0.75,0.74,00:11\n")
    run = curvecheck.load(path)
    assert run.format == "fastai_csv" and run.framework == "fastai" and "time" not in run
    assert run.partner("train_loss").name == "valid_loss" and run["accuracy"].values.tolist() == [0.6, 0.7, 0.74]


def test_json_lines_nested_metrics_are_flattened(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("".join(f'{{"epoch": {e}, "train": {{"loss": {1 - e / 10}}}, "val": {{"loss": {1.1 - e / 20}}}}}\n'
                            for e in range(5)))
    run = curvecheck.load(path)
    assert set(run.series) == {"train/loss", "val/loss"} and run.partner("train/loss").name == "val/loss"
