"""Regenerate sample_logs/ by training small models with the real Keras callbacks.

Run by hand (not part of the tests); it needs packages the tests do not:

    pip install tensorflow-cpu scikit-learn   # Keras 3 comes with TensorFlow
    python scripts/make_sample_logs.py        # about 3 minutes on 2 CPU cores

Every log is written by keras.callbacks.CSVLogger / TensorBoard during a real fit; History JSON
is ``json.dump(history.history)``. Data: scikit-learn's bundled 8x8 digits (real images, no
download) and synthetic shapes for segmentation. Seeds are fixed, but TensorFlow's CPU kernels
are not bit-reproducible, so numbers can move slightly between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "sample_logs"


def digits(n_train: int, n_val: int, seed: int = 0):
    d = load_digits()
    x = (d.data / 16.0).astype("float32")
    y = d.target.astype("int64")
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:n_train], y[:n_train]), (x[n_train:n_train + n_val], y[n_train:n_train + n_val])


def mlp(hidden=(256, 256), dropout=0.0, classes=10):
    model = keras.Sequential([keras.Input((64,))])
    for h in hidden:
        model.add(layers.Dense(h, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(classes, activation="softmax"))
    return model


def fit(model, data, val, epochs, csv_name, batch_size=32, callbacks=(), verbose=0):
    csv_path = OUT / csv_name
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    if csv_path.exists():
        csv_path.unlink()
    # Callbacks that add keys to the logs (ReduceLROnPlateau adds learning_rate) must run before
    # CSVLogger: it fixes its header at the end of the first epoch and drops keys added later.
    cbs = [*callbacks, keras.callbacks.CSVLogger(str(csv_path))]
    return model.fit(*data, validation_data=val, epochs=epochs, batch_size=batch_size,
                     callbacks=cbs, verbose=verbose)


def overfitting():
    """Big MLP on 100 digits: train loss goes to ~0 while val loss turns up after a few epochs."""
    keras.utils.set_random_seed(1)
    train, val = digits(100, 600)
    model = mlp((512, 512))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = fit(model, train, val, 60, "overfitting_mlp.csv", batch_size=16)
    with open(OUT / "overfitting_mlp_history.json", "w") as fh:
        json.dump(hist.history, fh)


def reduce_lr_on_plateau():
    """SGD with ReduceLROnPlateau: the learning_rate column drops when val_loss stalls."""
    keras.utils.set_random_seed(2)
    train, val = digits(1000, 400)
    model = mlp((128,), dropout=0.2)
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    rlr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=3, min_lr=1e-4)
    fit(model, train, val, 50, "reduce_lr_on_plateau.csv", callbacks=[rlr])


def lr_sweep():
    """The same model with three learning rates: too low, good, too high."""
    for lr in (1e-4, 0.05, 2.5):
        keras.utils.set_random_seed(3)
        train, val = digits(1000, 400)
        model = mlp((128,))
        model.compile(keras.optimizers.SGD(lr, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
        fit(model, train, val, 30, f"lr_sweep/lr_{lr:g}.csv")


def imbalanced():
    """3% positives, weak features: accuracy sits at the majority rate while the loss falls."""
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    n = 3000
    y = (rng.random(n) < 0.03).astype("float32")
    x = rng.normal(size=(n, 20)).astype("float32")
    x[:, 0] += 0.6 * y  # a weak signal only
    model = keras.Sequential([keras.Input((20,)), layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.SGD(0.01), "binary_crossentropy",
                  metrics=["accuracy", keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")])
    fit(model, (x[:2000], y[:2000]), (x[2000:], y[2000:]), 30, "imbalanced_classifier.csv", batch_size=64)


def fluctuating_validation():
    """A 40-sample validation set, a high LR and batch 8: val curves jump from epoch to epoch."""
    keras.utils.set_random_seed(5)
    train, val = digits(800, 40)
    model = mlp((128,))
    model.compile(keras.optimizers.Adam(5e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    fit(model, train, val, 40, "fluctuating_validation.csv", batch_size=8)


def nan_divergence():
    """Regression on unscaled targets while the LR doubles every epoch: trains, then explodes to NaN."""
    keras.utils.set_random_seed(6)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1000, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) * 50 + 300).astype("float32")
    model = keras.Sequential([keras.Input((8,)), layers.Dense(64, activation="relu"), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(1e-6, momentum=0.9), "mse", metrics=["mae"])
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 1e-6 * 2.0 ** epoch)
    fit(model, (x[:800], y[:800]), (x[800:], y[800:]), 25, "nan_divergence.csv", callbacks=[schedule])


def _shapes(n: int, rng, size: int = 32, noise: float = 0.6):
    """Images of one random disc or square on noise; the mask is the shape."""
    xs = np.zeros((n, size, size, 1), "float32")
    ys = np.zeros((n, size, size, 1), "float32")
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        r = rng.integers(4, 10)
        cy, cx = rng.integers(r, size - r, 2)
        if rng.random() < 0.5:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            m = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        ys[i, ..., 0] = m
        xs[i, ..., 0] = m * 0.8 + rng.normal(0, noise, (size, size))
    return xs, ys


def dice_coef(y_true, y_pred, smooth=1.0):
    y_true = keras.ops.reshape(y_true, (-1,))
    y_pred = keras.ops.reshape(y_pred, (-1,))
    inter = keras.ops.sum(y_true * y_pred)
    return (2.0 * inter + smooth) / (keras.ops.sum(y_true) + keras.ops.sum(y_pred) + smooth)


def segmentation():
    """Tiny U-Net-like model on 16 noisy shape images, IoU and Dice metrics, BCE loss.

    With so little data the model becomes over-confident: val_loss turns up while val IoU and
    Dice keep improving, so loss and metric disagree on the best epoch.
    """
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    x_train, y_train = _shapes(16, rng, noise=0.9)
    x_val, y_val = _shapes(64, rng, noise=0.9)
    inp = keras.Input((32, 32, 1))
    c1 = layers.Conv2D(32, 3, padding="same", activation="relu")(inp)
    p1 = layers.MaxPooling2D()(c1)
    c2 = layers.Conv2D(64, 3, padding="same", activation="relu")(p1)
    u1 = layers.UpSampling2D()(c2)
    m = layers.Concatenate()([u1, c1])
    c3 = layers.Conv2D(32, 3, padding="same", activation="relu")(m)
    out = layers.Conv2D(1, 1, activation="sigmoid")(c3)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy",
                  metrics=[keras.metrics.BinaryIoU(target_class_ids=[1], threshold=0.5, name="iou"), dice_coef])
    fit(model, (x_train, y_train), (x_val, y_val), 80, "segmentation_unet.csv", batch_size=4)


def tensorboard_run():
    """The Keras TensorBoard callback's layout: train/ and validation/ folders, epoch_* tags."""
    keras.utils.set_random_seed(8)
    train, val = digits(300, 400)
    model = mlp((256,))
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    log_dir = OUT / "tensorboard_keras"
    shutil.rmtree(log_dir, ignore_errors=True)
    tb = keras.callbacks.TensorBoard(log_dir=str(log_dir), histogram_freq=1)
    rlr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3)
    model.fit(*train, validation_data=val, epochs=30, batch_size=32, callbacks=[tb, rlr], verbose=0)


JOBS = {f.__name__: f for f in (overfitting, reduce_lr_on_plateau, lr_sweep, imbalanced,
                                fluctuating_validation, nan_divergence, segmentation, tensorboard_run)}

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name in sys.argv[1:] or JOBS:
        print("training", name, flush=True)
        JOBS[name]()
