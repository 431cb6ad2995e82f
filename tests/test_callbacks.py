"""The Keras and Lightning callbacks stop where a replay of the finished log stops.

Real Keras (3.x, torch backend) and real Lightning (2.x) train tiny models on a few hundred
points; each test is skipped when its framework is not installed (they are optional extras and
not in the ``test`` extra). The finished log is the framework's own CSVLogger file.
"""

import os

import numpy as np
import pytest

import curvecheck
from curvecheck.stopping import replay

from .conftest import SAMPLES

RULES = [("auto", {}), ("keras", {"patience": 3}), ("up", {"s": 1, "strip": 3})]


def _keras():
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = ((x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(0, 0.5, 256)) > 0).astype("float32")
    return x, y


@pytest.mark.parametrize(("rule", "settings"), RULES, ids=[r for r, _ in RULES])
def test_keras_callback_stops_where_the_replay_of_its_csv_log_stops(tmp_path, rule, settings):
    keras = _keras()
    from curvecheck.callbacks.keras import CurvecheckStopping

    x, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    stopper = CurvecheckStopping(monitor="val_loss", rule=rule, report=False, verbose=0, **settings)
    log = tmp_path / "log.csv"
    model.fit(x[:192], y[:192], validation_data=(x[192:], y[192:]), epochs=60, batch_size=64, verbose=0,
              callbacks=[stopper, keras.callbacks.CSVLogger(str(log))])
    run = curvecheck.load(log)
    res = replay(run["val_loss"].values, rule=rule, epochs=run["val_loss"].x, **settings)
    assert stopper.stopped_epoch is not None, "the tiny model must saturate within 60 epochs"
    assert res.stop_index == stopper.stopped_epoch == len(run["val_loss"].values) - 1
    assert res.kept_index == stopper.best_epoch


def test_keras_callback_restores_the_kept_epoch_and_reports(tmp_path, capsys):
    keras = _keras()
    from curvecheck.callbacks.keras import CurvecheckStopping

    x, y = _data(1)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    stopper = CurvecheckStopping(monitor="val_loss", rule="keras", patience=2)
    model.fit(x[:192], y[:192], validation_data=(x[192:], y[192:]), epochs=60, batch_size=64, verbose=0,
              callbacks=[stopper])
    best = float(model.evaluate(x[192:], y[192:], verbose=0))
    assert stopper.best_epoch < stopper.stopped_epoch
    assert best == pytest.approx(stopper.recorder.history["val_loss"][stopper.best_epoch], rel=1e-5)
    out = capsys.readouterr().out
    assert "stops training" in out and "recommendation:" in out and stopper.report is not None


@pytest.mark.parametrize(("rule", "settings"), RULES[:2], ids=[r for r, _ in RULES[:2]])
def test_lightning_callback_stops_where_the_replay_of_its_csv_log_stops(tmp_path, rule, settings):
    torch = pytest.importorskip("torch")
    L = pytest.importorskip("lightning.pytorch")
    from curvecheck.callbacks.lightning import CurvecheckStopping

    x, y = (torch.tensor(a) for a in _data(2))

    class Tiny(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))

        def _loss(self, batch):
            xb, yb = batch
            return torch.nn.functional.binary_cross_entropy_with_logits(self.net(xb).squeeze(-1), yb)

        def training_step(self, batch, _i):
            return self._loss(batch)

        def validation_step(self, batch, _i):
            self.log("val_loss", self._loss(batch), on_epoch=True)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=0.05)

    L.seed_everything(2, verbose=False)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:192], y[:192]), batch_size=64)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[192:], y[192:]), batch_size=64)
    stopper = CurvecheckStopping(monitor="val_loss", rule=rule, report=rule == "auto", verbose=False, **settings)
    logger = L.loggers.CSVLogger(str(tmp_path), name="run", version=0)
    trainer = L.Trainer(max_epochs=60, callbacks=[stopper], logger=logger, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, accelerator="cpu",
                        num_sanity_val_steps=0)
    trainer.fit(Tiny(), train, val)
    run = curvecheck.load(tmp_path / "run" / "version_0" / "metrics.csv")
    val_loss = run["val_loss"]
    res = replay(val_loss.values, rule=rule, **settings)
    assert stopper.stopped_epoch is not None
    assert res.stop_index == stopper.stopped_epoch == len(val_loss.values) - 1
    assert res.kept_index == stopper.rule.kept_index
    assert (stopper.report is not None) == (rule == "auto")


def test_keras_callback_with_a_threshold_on_two_logged_series(tmp_path):
    keras = _keras()
    from curvecheck.callbacks.keras import CurvecheckStopping

    x, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    stopper = CurvecheckStopping(rule="threshold", when=["val_loss<0.4", "val_accuracy>0.8"], patience=2,
                                 report=False, verbose=0)
    log = tmp_path / "log.csv"
    model.fit(x[:192], y[:192], validation_data=(x[192:], y[192:]), epochs=60, batch_size=64, verbose=0,
              callbacks=[stopper, keras.callbacks.CSVLogger(str(log))])
    rec = curvecheck.recommend_stop(curvecheck.load(log), strategy="threshold",
                                    conditions=["val_loss<0.4", "val_accuracy>0.8"], patience=2, live=False)
    assert stopper.stopped_epoch is not None and rec.stop_epoch == stopper.stopped_epoch


def test_recommend_stop_offers_the_callback_for_the_next_run():
    rec = curvecheck.recommend_stop(curvecheck.load(SAMPLES / "overfitting_mlp.csv"), live=False)
    line = rec.suggested["curvecheck_callback"]
    assert line == "curvecheck.callbacks.keras.CurvecheckStopping(monitor='val_loss')"
