"""Keras History JSON and the variants people commit."""

import json

import numpy as np
import pytest

import curvecheck
from curvecheck.errors import InputError

from .conftest import CORPUS


def test_json_dump_of_history_with_nan_tokens(tmp_path):
    history = {"loss": [1.0, 0.5, float("nan")], "val_loss": [1.1, float("inf"), 0.7],
               "val_iou": [0.1, 0.2, 0.3]}
    path = tmp_path / "history.json"
    with open(path, "w") as fh:
        json.dump(history, fh)  # what users do: writes bare NaN / Infinity tokens
    assert "NaN" in path.read_text() and "Infinity" in path.read_text()
    run = curvecheck.load(path)
    assert run.format == "keras_json"
    assert run["loss"].x.tolist() == [0, 1, 2]
    assert np.isnan(run["loss"].values[2]) and np.isinf(run["val_loss"].values[1])


def test_wrapped_and_record_list_variants(tmp_path):
    a = tmp_path / "wrapped.json"
    a.write_text(json.dumps({"history": {"loss": [3, 2, 1]}, "params": {"epochs": 3}}))
    b = tmp_path / "records.json"
    b.write_text(json.dumps([{"epoch": 1, "loss": 3}, {"epoch": 2, "loss": 2}, {"epoch": 3, "loss": 1}]))
    assert curvecheck.load(a)["loss"].values.tolist() == [3, 2, 1]
    rec = curvecheck.load(b)
    assert rec["loss"].x.tolist() == [1, 2, 3]  # the log's own epoch numbers


def test_segmentation_history_in_the_wild():
    run = curvecheck.load(CORPUS / "keras_json/MarkoMilenovic01-Semantic-Segmentation__history.json")
    assert run.num_points == 150
    assert run["val_iou"].kind == "iou" and run["val_dice"].kind == "dice"
    assert run.partner("train_loss").name == "val_loss"


def test_python_repr_string_inside_json():
    run = curvecheck.load(CORPUS / "keras_json/alperclk-Video-Event-Detection-With-LSTM__model_history.json")
    assert run["val_accuracy"].values.tolist() == [1.0] * 5


def test_one_based_epoch_list_and_nested_config():
    run = curvecheck.load(CORPUS / "keras_json/AnshSareen-Deep-Learning-Based-Lip-Reading__training_history.json")
    assert run["val_wer"].x[0] == 1 and run["val_wer"].direction == "min"
    assert any(n.kind == "dropped_keys" and "config" in n.message for n in run.notes)


def test_lists_of_another_length_are_ignored():
    run = curvecheck.load(CORPUS / "keras_json/DrunkMacintosh-EFFICIENTNET_B0-for-emotion-recognition-__training_history.json")
    assert "phase_starts" not in run.series and run.num_points == 90


def test_history_suffix_names_pair_up():
    run = curvecheck.load(CORPUS / "keras_json/IbrahimEmad11-MammoDetect__training_history.json")
    assert run.partner("train_loss_history").name == "val_loss_history"
