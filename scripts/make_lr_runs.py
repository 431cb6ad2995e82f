"""Make real training logs for the learning-rate and never-learned checks (issue 9, "Proof").

Run by hand (not part of the tests); it needs packages the tests do not:

    pip install tensorflow-cpu scikit-learn
    pip install torch==2.13.0 lightning        # the CPU build
    python scripts/make_lr_runs.py             # every run, Keras then PyTorch: a few minutes on 2 cores
    python scripts/make_lr_runs.py --only keras/dead_relu    # one run (or --only dead_relu: both frameworks)
    python scripts/make_lr_runs.py --summary   # read the logs back and print their key numbers

Every log is written by the library's own logger during a real fit: Keras ``CSVLogger`` and
``TensorBoard``; Lightning ``CSVLogger`` (``metrics.csv``, sparse rows as Lightning writes them) and
``torch.utils.tensorboard.SummaryWriter``. Data: scikit-learn's bundled digits and breast-cancer sets
(no download), small synthetic sets. Seeds are fixed; TensorFlow's CPU kernels are not bit-reproducible,
so Keras numbers can move slightly between runs. Library versions go to ``VERSIONS.txt``. The expected
verdicts in ``MANIFEST.tsv`` were written by hand from how each run was made and from its curve
(``--summary``), never from curvecheck's output; its paths are relative to the folder it sits in.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "written" / "lr_runs"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


# ---------------------------------------------------------------- data (shared by both frameworks)

def digits(n_train: int = 1000, n_val: int = 400, seed: int = 0, raw: bool = False):
    """sklearn's 8x8 digits, 10 classes; raw=True keeps the 0..16 pixel scale (no normalisation)."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = d.data.astype("float32") if raw else (d.data / 16.0).astype("float32")
    y = d.target.astype("int64")
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:n_train], y[:n_train]), (x[n_train:n_train + n_val], y[n_train:n_train + n_val])


def breast_cancer(seed: int = 0, scaled: bool = True):
    """sklearn's breast-cancer set (569 rows, 30 features, 62.7 % benign); unscaled features reach ~4000."""
    from sklearn.datasets import load_breast_cancer
    d = load_breast_cancer()
    x = d.data.astype("float32")
    if scaled:
        x = (x - x.mean(0)) / x.std(0)
    y = d.target.astype("float32")
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:400], y[:400]), (x[400:], y[400:])


def imbalanced(seed: int = 4, n: int = 10000, share: float = 0.05):
    """5 % positives, one weakly informative feature (shift 0.6 sd): P(positive | x) never reaches 0.5,
    so the best classifier at threshold 0.5 predicts the majority while its loss still falls."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype("float32")
    x = rng.normal(size=(n, 20)).astype("float32")
    x[:, 0] += 0.6 * y
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


def regression(seed: int = 6):
    """Linear targets on an unscaled scale (mean 300, sd ~150): easy to blow up with SGD."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1000, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) * 50 + 300).astype("float32")
    return (x[:800], y[:800]), (x[800:], y[800:])


def shapes(n: int, rng, size: int = 32, noise: float = 0.6, rmin: int = 2, rmax: int = 5):
    """Images of one small random disc or square on noise; the mask is the shape (a few % foreground)."""
    xs = np.zeros((n, size, size, 1), "float32")
    ys = np.zeros((n, size, size, 1), "float32")
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        r = rng.integers(rmin, rmax + 1)
        cy, cx = rng.integers(r, size - r, 2)
        if rng.random() < 0.5:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            m = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        ys[i, ..., 0] = m
        xs[i, ..., 0] = m * 0.8 + rng.normal(0, noise, (size, size))
    return xs, ys


def segmentation_data(seed: int = 7):
    rng = np.random.default_rng(seed)
    return shapes(64, rng), shapes(64, rng)


# ---------------------------------------------------------------- Keras

class Keras:
    """Keras 3 runs; each writes <name>.csv with CSVLogger (and TensorBoard where said)."""

    def __init__(self) -> None:
        import keras
        self.keras = keras
        self.layers = keras.layers
        self.out = OUT / "keras"

    def mlp(self, inputs=64, hidden=(128,), classes=10, activation="relu", init=None):
        k, L = self.keras, self.layers
        model = k.Sequential([k.Input((inputs,))])
        for h in hidden:
            model.add(L.Dense(h, activation=activation, kernel_initializer=init or "glorot_uniform"))
        if classes == 1:
            model.add(L.Dense(1, activation="sigmoid"))
        else:
            model.add(L.Dense(classes, activation="softmax"))
        return model

    def fit(self, name, model, train, val, epochs, batch_size=32, callbacks=(), tensorboard=None):
        csv_path = self.out / f"{name}.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        csv_path.unlink(missing_ok=True)
        cbs = list(callbacks)
        if tensorboard is not None:
            tb_dir = self.out / f"{name}_tb"
            shutil.rmtree(tb_dir, ignore_errors=True)
            cbs.append(self.keras.callbacks.TensorBoard(log_dir=str(tb_dir), **tensorboard))
        # CSVLogger last: it fixes its header after epoch 0, so callbacks adding keys must run first
        cbs.append(self.keras.callbacks.CSVLogger(str(csv_path)))
        return model.fit(*train, validation_data=val, epochs=epochs, batch_size=batch_size,
                         callbacks=cbs, verbose=0)

    def classifier(self, name, lr, opt="sgd", epochs=30, hidden=(128,), data=None, seed=3, **kw):
        k = self.keras
        k.utils.set_random_seed(seed)
        train, val = data or digits()
        model = self.mlp(hidden=hidden, activation=kw.pop("activation", "relu"), init=kw.pop("init", None))
        optimizer = (k.optimizers.SGD(lr, momentum=kw.pop("momentum", 0.9)) if opt == "sgd"
                     else k.optimizers.Adam(lr))
        model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
        return self.fit(name, model, train, val, epochs, **kw)

    # --- collapse by a too-high LR
    def dead_relu(self):
        """SGD+momentum at lr 1.0 on digits: the ReLUs die in epoch 0; the loss freezes, accuracy ~0.1."""
        self.classifier("dead_relu", 1.0, epochs=25, hidden=(128, 128), tensorboard={})

    def _hard_sigmoid(self, name, lr, seed):
        k, L = self.keras, self.layers
        k.utils.set_random_seed(seed)
        train, val = breast_cancer()
        model = k.Sequential([k.Input((30,)), L.Dense(32, activation="relu"),
                              L.Dense(1, activation="hard_sigmoid")])
        model.compile(k.optimizers.SGD(lr, momentum=0.9), "binary_crossentropy", metrics=["accuracy"])
        self.fit(name, model, train, val, 25)

    def saturated_sigmoid(self):
        """Scaled breast-cancer features, hard-sigmoid output, SGD lr 3: the output saturates in epoch 1
        and predicts one class for ever (its gradient is exactly 0 there; lr 0.01 learns to 0.96)."""
        self._hard_sigmoid("saturated_sigmoid", 3.0, seed=14)

    def saturated_sigmoid_late(self):
        """The same at lr 1 (seed 11): learns for a few epochs, then saturates at the majority share."""
        self._hard_sigmoid("saturated_sigmoid_late", 1.0, seed=11)

    def explosion_then_frozen(self):
        """Raw 0..16 digit pixels, SGD lr 0.5: a huge epoch-0 loss, then frozen at chance."""
        self.classifier("explosion_then_frozen", 0.5, epochs=25, hidden=(256, 256),
                        data=digits(raw=True), momentum=0.9)

    def nan_divergence(self):
        """Linear regression (MSE, targets ~300), plain SGD at lr 0.95, past the stability limit (~0.83):
        the loss grows every epoch, overflows to inf, then NaN (lr 0.8 converges to 0)."""
        k, L = self.keras, self.layers
        k.utils.set_random_seed(6)
        train, val = regression()
        model = k.Sequential([k.Input((8,)), L.Dense(1)])
        model.compile(k.optimizers.SGD(0.95), "mse", metrics=["mae"])
        self.fit("nan_divergence", model, train, val, 20)

    # --- too low
    def crawl(self):
        """SGD+momentum at lr 1e-4 on digits: steady small gains for 40 epochs, still improving at the end."""
        self.classifier("crawl", 1e-4, epochs=40)

    def flat_start(self):
        """3 tanh layers, tiny init (sd 0.005), SGD+momentum lr 0.01: ~25 epochs flat at ln 10, then it
        learns and is still improving at epoch 60 (with sd 0.01 the plateau lasted ~13 epochs at lr 0.01, ~3 at 0.05)."""
        init = self.keras.initializers.RandomNormal(stddev=0.005, seed=5)
        self.classifier("flat_start", 0.01, epochs=60, hidden=(64, 64, 64), activation="tanh", init=init,
                        seed=5)

    # --- not the LR's fault
    def imbalanced_majority(self):
        """5 % positives, noise features: loss falls to the prior's entropy, accuracy = majority share."""
        k = self.keras
        k.utils.set_random_seed(4)
        train, val = imbalanced()
        model = self.mlp(inputs=20, hidden=(16,), classes=1)
        model.compile(k.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
        self.fit("imbalanced_majority", model, train, val, 30, batch_size=64)

    def segmentation_iou0(self):
        """Tiny conv net on small shapes (5.8 % foreground), Adam lr 2: the loss explodes in epoch 0, then
        sits at the foreground prior's entropy (0.222); all background, IoU 0 (lr 0.1 reaches IoU 0.8)."""
        k, L = self.keras, self.layers
        k.utils.set_random_seed(7)
        (xt, yt), (xv, yv) = segmentation_data()
        inp = k.Input((32, 32, 1))
        c1 = L.Conv2D(16, 3, padding="same", activation="relu")(inp)
        p1 = L.MaxPooling2D()(c1)
        c2 = L.Conv2D(32, 3, padding="same", activation="relu")(p1)
        u1 = L.UpSampling2D()(c2)
        c3 = L.Conv2D(16, 3, padding="same", activation="relu")(L.Concatenate()([u1, c1]))
        out = L.Conv2D(1, 1, activation="sigmoid")(c3)
        model = k.Model(inp, out)
        model.compile(k.optimizers.Adam(2.0), "binary_crossentropy",
                      metrics=[k.metrics.BinaryIoU(target_class_ids=[1], threshold=0.5, name="iou")])
        self.fit("segmentation_iou0", model, (xt, yt), (xv, yv), 30, batch_size=8)

    def instability(self):
        """Adam at lr 0.01, batch 16: the training loss jumps mid-run to >2x its best, then recovers."""
        self.classifier("instability", 0.01, opt="adam", epochs=40, hidden=(256, 256), batch_size=16)

    # --- healthy
    def healthy_improving(self):
        """Adam lr 1e-3, 12 epochs: fast early progress, still improving a little at the end."""
        self.classifier("healthy_improving", 1e-3, opt="adam", epochs=12, hidden=(64,))

    def healthy_converged(self):
        """Adam lr 1e-3, 60 epochs: learns fast, the training loss flattens near 0."""
        self.classifier("healthy_converged", 1e-3, opt="adam", epochs=60, hidden=(128,))

    def per_step(self):
        """Healthy Adam run, batch 16, TensorBoard update_freq=1: batch_* tags per optimizer step."""
        self.classifier("per_step", 1e-3, opt="adam", epochs=8, hidden=(64,), batch_size=16,
                        tensorboard={"update_freq": 1})

    def lr_sweep(self):
        """The same MLP and data with SGD+momentum at six learning rates."""
        for lr in SWEEP_LRS:
            self.classifier(f"lr_sweep/lr_{lr:g}", lr, epochs=30, hidden=(128, 128))


SWEEP_LRS = (1e-4, 0.01, 0.03, 0.3, 1.0, 3.0)


# ---------------------------------------------------------------- PyTorch (Lightning CSVLogger, SummaryWriter)

class Torch:
    """PyTorch runs: Lightning writes <name>/metrics.csv; plain loops write SummaryWriter event files."""

    def __init__(self) -> None:
        import lightning as Lg
        import torch
        from torch import nn
        torch.set_num_threads(1)
        self.torch, self.nn, self.L = torch, nn, Lg
        self.out = OUT / "torch"

    def mlp(self, inputs=64, hidden=(128,), classes=10, activation="relu", init_std=None):
        nn = self.nn
        act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
        layers, width = [], inputs
        for h in hidden:
            lin = nn.Linear(width, h)
            if init_std is not None:
                nn.init.normal_(lin.weight, std=init_std)
                nn.init.zeros_(lin.bias)
            layers += [lin, act()]
            width = h
        layers.append(nn.Linear(width, classes))
        return nn.Sequential(*layers)

    def module(self, net, lr, opt="sgd", task="multiclass", momentum=0.9, on_step=False, schedule=None):
        torch, L = self.torch, self.L
        F = torch.nn.functional

        class Module(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.net = net

            def _loss(self, batch):
                x, y = batch
                out = self.net(x)
                if task == "multiclass":
                    return F.cross_entropy(out, y), (out.argmax(1) == y).float().mean()
                if task == "binary_prob":  # nn.Sigmoid + nn.BCELoss, as many tutorials write it
                    prob = torch.sigmoid(out.squeeze(1))
                    return F.binary_cross_entropy(prob, y), ((prob > 0.5).float() == y).float().mean()
                if task == "binary":
                    out = out.squeeze(1)
                    return F.binary_cross_entropy_with_logits(out, y), ((out > 0).float() == y).float().mean()
                if task == "segmentation":
                    loss = F.binary_cross_entropy_with_logits(out, y)
                    pred, true = out > 0, y > 0.5
                    union = (pred | true).sum()
                    iou = (pred & true).sum() / union if union > 0 else torch.tensor(1.0)
                    return loss, iou
                return F.mse_loss(out, y), (out - y).abs().mean()

            def training_step(self, batch, _):
                loss, metric = self._loss(batch)
                self.log("train_loss", loss, on_step=on_step, on_epoch=not on_step)
                if not on_step:
                    self.log(f"train_{METRIC[task]}", metric, on_step=False, on_epoch=True)
                return loss

            def validation_step(self, batch, _):
                loss, metric = self._loss(batch)
                self.log("val_loss", loss)
                self.log(f"val_{METRIC[task]}", metric)

            def configure_optimizers(self):
                if opt == "adam":
                    optimizer = torch.optim.Adam(self.parameters(), lr=lr)
                else:
                    optimizer = torch.optim.SGD(self.parameters(), lr=lr, momentum=momentum)
                if schedule is None:
                    return optimizer
                return [optimizer], [torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)]

        return Module()

    def loaders(self, train, val, batch_size, task="multiclass"):
        torch = self.torch
        from torch.utils.data import DataLoader, TensorDataset

        def ds(x, y):
            yt = torch.tensor(y) if task == "multiclass" else torch.tensor(y, dtype=torch.float32)
            return TensorDataset(torch.tensor(x), yt)

        g = torch.Generator().manual_seed(0)
        return (DataLoader(ds(*train), batch_size=batch_size, shuffle=True, generator=g),
                DataLoader(ds(*val), batch_size=256))

    def fit_lightning(self, name, module, train, val, epochs, batch_size=32, task="multiclass", every=50):
        L = self.L
        from lightning.pytorch.callbacks import LearningRateMonitor
        from lightning.pytorch.loggers import CSVLogger
        tl, vl = self.loaders(train, val, batch_size, task)
        dest = self.out / name
        with tempfile.TemporaryDirectory() as tmp:
            logger = CSVLogger(tmp, name="run", version=0)
            trainer = L.Trainer(max_epochs=epochs, logger=logger, accelerator="cpu", devices=1,
                                enable_checkpointing=False, enable_progress_bar=False,
                                enable_model_summary=False, num_sanity_val_steps=0,
                                log_every_n_steps=every, deterministic=True,
                                callbacks=[LearningRateMonitor(logging_interval="epoch")])
            trainer.fit(module, tl, vl)
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            shutil.copy(Path(logger.log_dir) / "metrics.csv", dest / "metrics.csv")

    def classifier(self, name, lr, opt="sgd", epochs=30, hidden=(128,), data=None, seed=3, momentum=0.9,
                   activation="relu", init_std=None, batch_size=32, **kw):
        self.L.seed_everything(seed, verbose=False)
        train, val = data or digits()
        net = self.mlp(hidden=hidden, activation=activation, init_std=init_std)
        module = self.module(net, lr, opt, momentum=momentum, **kw)
        # a per-step log writes every optimizer step; epoch logs need no step rows
        self.fit_lightning(name, module, train, val, epochs, batch_size, every=1 if kw.get("on_step") else 50)

    # --- collapse by a too-high LR
    def dead_relu(self):
        self.classifier("dead_relu", 1.0, epochs=25, hidden=(128, 128))

    def saturated_sigmoid(self):
        """Scaled breast-cancer features, sigmoid output + BCELoss, SGD lr SAT_LR: saturates at one class."""
        self.L.seed_everything(SAT_SEED, verbose=False)
        train, val = breast_cancer()
        module = self.module(self.mlp(inputs=30, hidden=(32,), classes=1), SAT_LR, task="binary_prob")
        self.fit_lightning("saturated_sigmoid", module, train, val, 25, task="binary")

    def saturated_sigmoid_late(self):
        pass  # Keras only

    def explosion_then_frozen(self):
        """Plain torch loop, SummaryWriter: raw pixels, SGD lr 0.5."""
        self.plain_loop("explosion_then_frozen", 0.5, data=digits(raw=True), hidden=(256, 256), epochs=25)

    def nan_divergence(self):
        """Linear regression, plain SGD lr 0.95 (past the stability limit): grows to inf, then NaN."""
        self.L.seed_everything(6, verbose=False)
        train, val = regression()
        module = self.module(self.mlp(inputs=8, hidden=(), classes=1), 0.95, task="regression", momentum=0.0)
        self.fit_lightning("nan_divergence", module, train, val, 20, task="regression")

    # --- too low
    def crawl(self):
        self.classifier("crawl", 1e-4, epochs=40)

    def flat_start(self):
        # init sd 0.01 here (0.005 in Keras): with torch's default init of the last layer, sd 0.005
        # stayed flat for 45 of 60 epochs
        self.classifier("flat_start", 0.01, epochs=60, hidden=(64, 64, 64), activation="tanh",
                        init_std=0.01, seed=5)

    # --- not the LR's fault
    def imbalanced_majority(self):
        self.L.seed_everything(4, verbose=False)
        train, val = imbalanced()
        module = self.module(self.mlp(inputs=20, hidden=(16,), classes=1), 1e-3, opt="adam", task="binary")
        self.fit_lightning("imbalanced_majority", module, train, val, 30, batch_size=64, task="binary")

    def segmentation_iou0(self):
        torch, nn = self.torch, self.nn
        self.L.seed_everything(7, verbose=False)
        (xt, yt), (xv, yv) = segmentation_data()
        to_chw = lambda a: np.ascontiguousarray(a.transpose(0, 3, 1, 2))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU())
                self.c2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                                        nn.Upsample(scale_factor=2))
                self.c3 = nn.Sequential(nn.Conv2d(48, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 1, 1))

            def forward(self, x):
                a = self.c1(x)
                return self.c3(torch.cat([self.c2(a), a], 1))

        module = self.module(Net(), SEG_LR, opt="adam", task="segmentation")
        self.fit_lightning("segmentation_iou0", module, (to_chw(xt), to_chw(yt)), (to_chw(xv), to_chw(yv)),
                           30, batch_size=8, task="segmentation")

    def instability(self):
        # lr 0.02 (0.01 in Keras): at 0.01 torch's loss jumped only 2.1x its best
        self.classifier("instability", 0.02, opt="adam", epochs=40, hidden=(256, 256), batch_size=16)

    # --- healthy
    def healthy_improving(self):
        self.classifier("healthy_improving", 1e-3, opt="adam", epochs=12, hidden=(64,))

    def healthy_converged(self):
        self.classifier("healthy_converged", 1e-3, opt="adam", epochs=60, hidden=(128,))

    def per_step(self):
        """Healthy Adam run logged per optimizer step: Lightning CSV (every step) and a SummaryWriter loop."""
        self.classifier("per_step", 1e-3, opt="adam", epochs=8, hidden=(64,), batch_size=16, on_step=True)
        self.plain_loop("per_step_tb", 1e-3, opt="adam", data=digits(), hidden=(64,), epochs=8,
                        batch_size=16, per_step=True)

    def lr_sweep(self):
        for lr in SWEEP_LRS:
            self.classifier(f"lr_sweep/lr_{lr:g}", lr, epochs=30, hidden=(128, 128))

    def plain_loop(self, name, lr, data, hidden, epochs, opt="sgd", batch_size=32, per_step=False, seed=3):
        """A hand-written loop logging with SummaryWriter: 'train/loss' per step or per epoch, 'val/*' per epoch."""
        torch = self.torch
        from torch.utils.tensorboard import SummaryWriter
        F = torch.nn.functional
        self.L.seed_everything(seed, verbose=False)
        net = self.mlp(hidden=hidden)
        optimizer = (torch.optim.Adam(net.parameters(), lr=lr) if opt == "adam"
                     else torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9))
        tl, vl = self.loaders(*data, batch_size)
        dest = self.out / name
        shutil.rmtree(dest, ignore_errors=True)
        writer = SummaryWriter(log_dir=str(dest))
        step = 0
        for epoch in range(epochs):
            net.train()
            total, n = 0.0, 0
            for x, y in tl:
                loss = F.cross_entropy(net(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                total, n = total + loss.item() * len(y), n + len(y)
                if per_step:
                    writer.add_scalar("train/loss", loss.item(), step)
            if not per_step:
                writer.add_scalar("train/loss", total / n, epoch)
            net.eval()
            with torch.no_grad():
                x, y = next(iter(vl))
                out = net(x)
                x_axis = step if per_step else epoch
                writer.add_scalar("val/loss", F.cross_entropy(out, y).item(), x_axis)
                writer.add_scalar("val/accuracy", (out.argmax(1) == y).float().mean().item(), x_axis)
            writer.add_scalar("lr", optimizer.param_groups[0]["lr"], step if per_step else epoch)
        writer.close()


METRIC = {"multiclass": "acc", "binary": "acc", "binary_prob": "acc", "segmentation": "iou", "regression": "mae"}
SAT_LR, SAT_SEED, SEG_LR = 30.0, 14, 2.0
RUNS = ("dead_relu", "saturated_sigmoid", "saturated_sigmoid_late", "explosion_then_frozen", "nan_divergence", "crawl", "flat_start",
        "imbalanced_majority", "segmentation_iou0", "instability", "healthy_improving", "healthy_converged",
        "per_step", "lr_sweep")


# ---------------------------------------------------------------- reading the logs back (no curvecheck)

def _read_csv(path: Path) -> dict[str, list[tuple[float, float]]]:
    """{column: [(x, value)]} from a Keras CSV (x = epoch) or a Lightning metrics.csv (x = epoch or step)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    series: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        x = float(row["step"]) if row.get("step") else float(row["epoch"])
        for k, v in row.items():
            if k in ("epoch", "step") or v in ("", None):
                continue
            series.setdefault(k, []).append((x, float(v)))
    return series


def _read_tb(folder: Path) -> dict[str, list[tuple[float, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util
    series: dict[str, list[tuple[float, float]]] = {}
    for sub in sorted({p.parent for p in folder.rglob("events.out.tfevents.*")}):
        acc = EventAccumulator(str(sub), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        prefix = "" if sub == folder else sub.name + "/"
        for tag in acc.Tags()["scalars"]:
            series[prefix + tag] = [(e.step, e.value) for e in acc.Scalars(tag)]
        for tag in acc.Tags()["tensors"]:  # Keras 3 writes scalars as tensor summaries
            values = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            if values and values[0][1].size == 1 and values[0][1].dtype.kind == "f":
                series[prefix + tag] = [(step, float(v)) for step, v in values]
    return series


def describe(series: dict[str, list[tuple[float, float]]]) -> list[str]:
    lines = []
    for name, pts in sorted(series.items()):
        v = np.array([p[1] for p in pts], dtype=float)
        fin = np.isfinite(v)
        s = f"  {name:28s} n={len(v):4d}"
        if not fin.any():
            lines.append(s + " all non-finite")
            continue
        first_bad = int(np.argmax(~fin)) if (~fin).any() else None
        f = v[fin]
        s += f" first={f[0]:.4g} min={f.min():.4g}@{int(np.argmin(np.where(fin, v, np.inf)))}" \
             f" max={f.max():.4g} last={v[-1]:.4g}"
        if len(f) >= 4:
            best = np.minimum.accumulate(f)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = f[1:] / best[:-1]
            s += f" max_jump_vs_best={ratio.max():.3g}@{int(np.argmax(ratio)) + 1}"
            q = len(f) // 4
            s += f" q-means={[round(float(f[i*q:(i+1)*q].mean()), 4) for i in range(4)]}"
        if first_bad is not None:
            s += f" non-finite from index {first_bad}"
        lines.append(s)
    return lines


def summary() -> None:
    for path in sorted(OUT.rglob("*.csv")):
        print(path.relative_to(OUT))
        print("\n".join(describe(_read_csv(path))))
    event_dirs = {p.parent for p in OUT.rglob("events.out.tfevents.*")}
    # Keras writes <run>_tb/train and <run>_tb/validation: one run
    roots = sorted({d.parent if d.parent.name.endswith("_tb") else d for d in event_dirs})
    for root in roots:
        print(root.relative_to(OUT), "(TensorBoard)")
        print("\n".join(describe(_read_tb(root))))


def record_versions() -> None:
    import importlib.metadata as md
    names = ("tensorflow-cpu", "keras", "torch", "lightning", "tensorboard", "scikit-learn", "numpy")
    lines = [f"python {sys.version.split()[0]}"]
    for n in names:
        try:
            lines.append(f"{n} {md.version(n)}")
        except md.PackageNotFoundError:
            pass
    (OUT / "VERSIONS.txt").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[],
                    help="a run: NAME (both frameworks) or keras/NAME or torch/NAME; repeatable")
    ap.add_argument("--framework", choices=("keras", "torch"), action="append")
    ap.add_argument("--summary", action="store_true", help="print the key numbers of the written logs")
    args = ap.parse_args(argv)
    if args.summary:
        summary()
        return
    frameworks = args.framework or ["keras", "torch"]
    wanted = [(fw, name) for fw in frameworks for name in RUNS
              if not args.only or name in args.only or f"{fw}/{name}" in args.only]
    if args.only and not wanted:
        ap.error(f"no run named {args.only}; runs: {', '.join(RUNS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    makers: dict[str, object] = {}
    for fw, name in wanted:
        if fw not in makers:
            makers[fw] = Keras() if fw == "keras" else Torch()
        print(f"training {fw}/{name}", flush=True)
        getattr(makers[fw], name)()
    record_versions()


if __name__ == "__main__":
    main()
