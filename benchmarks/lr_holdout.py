"""LR verdicts on held-out real runs: new tasks, new models, labels by construction.

    pip install torch==2.13.0 scikit-learn tensorboard   # CPU torch; tensorboard is in the test extra
    python benchmarks/lr_holdout.py train    # trains every run (~5 min on 1 core), writes logs + labels.tsv
    python benchmarks/lr_holdout.py score    # runs the curvecheck CLI on them, prints confusion tables

The runs curvecheck's LR verdicts were developed on (tests/data/written/lr_runs) are digits MLPs,
breast-cancer, a synthetic 5 % imbalanced set and a U-Net on shapes. These are different tasks and
models, trained with plain torch on CPU (``torch.set_num_threads(1)``), each sweep the same model and
seed at every LR:

- ``digits_cnn``: a 2-conv CNN on sklearn's 8x8 digits (1200 train / 597 val), cross-entropy; logged as
  a Keras CSVLogger CSV (``epoch,accuracy,learning_rate,loss,val_accuracy,val_loss``); metric val_accuracy.
- ``diabetes_mlp``: regression, MLP 10-64-64-1 on sklearn's diabetes set (standardised X and y,
  330 / 112), MSE; logged as a Lightning ``metrics.csv`` (sparse rows, ``lr-SGD``/``lr-Adam``); metric val_loss.
- ``imbalanced_mlp``: binary, make_classification with 8 % positives (3000 / 1000), MLP 20-32-32-1,
  BCEWithLogits; logged with ``torch.utils.tensorboard.SummaryWriter`` (train/loss, val/loss, val/auc,
  lr); metric val/auc.
- ``pixel_seg``: per-pixel segmentation of noisy 16x16 images with one or two bright rectangles
  (~15 % foreground; 256 / 96), a 3-layer fully convolutional net, BCEWithLogits; Lightning
  ``metrics.csv`` with train/val IoU of the foreground; metric val_iou.

Each task x {SGD momentum 0.9, Adam} x LR in LRS (1e-5 .. 10), 30 epochs, seeds fixed (data and init:
the task's SEED; batch order: a torch Generator seeded with SEED).

Labels (written to ``benchmarks/lr_holdout/labels.tsv`` by ``train``, before curvecheck is run), per sweep:

- score = mean of the sweep's metric over the last 5 epochs; a run is *failed* when any training or
  validation loss is NaN/inf or its score is not finite.
- chance = what a model that learned nothing scores: the val majority share (digits accuracy), the
  val MSE of predicting the training mean (regression), AUC 0.5, IoU 0. gain = improvement of the score
  over chance (signed so that larger is better); G = the largest gain among runs that did not fail;
  the best LR is that run's.
- ``ok``: gain >= 0.9 G (within 10 % of the best run's improvement over chance; the best run itself).
- ``too_high``: LR above the best LR and (failed, or gain < 0.5 G: less than half the best run's
  improvement, incl. collapsed to chance or worse).
- ``too_low``: LR below the best LR and gain < 0.5 G.
- ``unsure`` otherwise (0.5 G <= gain < 0.9 G, or failed below the best LR): not scored.
- If no run's gain is positive, every run of the sweep is ``unsure``.

``score`` calls ``curvecheck analyze --json`` (single-run verdict) and ``curvecheck compare --json
--metric M`` (verdicts in the sweep's context) and counts right / wrong / abstained (``unknown``).
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "lr_holdout"
LABELS = OUT / "labels.tsv"
LRS = (1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 1.0, 10.0)
OPTS = ("sgd", "adam")
EPOCHS = 30
TAIL = 5  # the final region: the last TAIL epochs
OK_SHARE, CLEARLY_WORSE_SHARE = 0.9, 0.5


def lr_tag(lr: float) -> str:
    return f"lr_{lr:g}"


# ---------------------------------------------------------------- data

def digits_data(seed: int):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = (x[order] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), y[order]
    return (x[:1200], y[:1200]), (x[1200:], y[1200:])


def diabetes_data(seed: int):
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    xt, yt, xv, yv = x[:330], y[:330], x[330:], y[330:]
    mx, sx, my, sy = xt.mean(0), xt.std(0), yt.mean(), yt.std()
    f = np.float32
    return ((((xt - mx) / sx).astype(f), ((yt - my) / sy).astype(f)[:, None]),
            (((xv - mx) / sx).astype(f), ((yv - my) / sy).astype(f)[:, None]))


def imbalanced_data(seed: int):
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=4000, n_features=20, n_informative=6, n_redundant=4, weights=[0.92],
                               flip_y=0.02, class_sep=0.8, random_state=seed)
    x, y = x.astype(np.float32), y.astype(np.float32)[:, None]
    return (x[:3000], y[:3000]), (x[3000:], y[3000:])


def seg_data(seed: int):
    rng = np.random.default_rng(seed)
    n, s = 352, 16
    masks = np.zeros((n, 1, s, s), np.float32)
    for i in range(n):
        for _ in range(rng.integers(1, 3)):
            h, w = rng.integers(3, 8, size=2)
            r, c = rng.integers(0, s - h), rng.integers(0, s - w)
            masks[i, 0, r:r + h, c:c + w] = 1.0
    imgs = (masks + rng.normal(0, 0.7, masks.shape)).astype(np.float32)
    return (imgs[:256], masks[:256]), (imgs[256:], masks[256:])


# ---------------------------------------------------------------- models and training

def make_model(task: str):
    from torch import nn

    if task == "digits_cnn":
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64, 10))
    if task == "diabetes_mlp":
        return nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    if task == "imbalanced_mlp":
        return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
    if task == "pixel_seg":
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(8, 1, 1))
    raise ValueError(task)


TASKS = {  # task: (data, seed, batch size, log format, label metric, metric direction)
    "digits_cnn": (digits_data, 11, 32, "keras_csv", "val_accuracy", "max"),
    "diabetes_mlp": (diabetes_data, 12, 16, "lightning", "val_loss", "min"),
    "imbalanced_mlp": (imbalanced_data, 13, 64, "tensorboard", "val/auc", "max"),
    "pixel_seg": (seg_data, 14, 16, "lightning", "val_iou", "max"),
}


def _loss_fn(task: str):
    from torch import nn

    return {"digits_cnn": nn.CrossEntropyLoss(), "diabetes_mlp": nn.MSELoss()}.get(task, nn.BCEWithLogitsLoss())


def _metric(task: str, out, y) -> dict[str, float]:
    """The task's metric on one pass (accuracy, AUC or foreground IoU); nothing for regression."""
    import torch

    if task == "digits_cnn":
        return {"accuracy": float((out.argmax(1) == y).float().mean())}
    if task == "imbalanced_mlp":
        from sklearn.metrics import roc_auc_score

        p = out.detach().numpy().ravel()
        return {"auc": float(roc_auc_score(y.numpy().ravel(), p)) if np.isfinite(p).all() else float("nan")}
    if task == "pixel_seg":
        pred, yy = out > 0, y > 0.5
        inter, union = float((pred & yy).sum()), float((pred | yy).sum())
        return {"iou": inter / union if union else 0.0}
    del torch
    return {}


def train_run(task: str, opt_name: str, lr: float) -> list[dict[str, float]]:
    """One run: the per-epoch history (train loss = mean over the epoch's batches, val on the whole set)."""
    import torch

    data, seed, batch, *_ = TASKS[task]
    (xt, yt), (xv, yv) = data(seed)
    torch.manual_seed(seed)
    model = make_model(task)
    opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if opt_name == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    loss_fn = _loss_fn(task)
    xt_t, yt_t, xv_t, yv_t = map(torch.from_numpy, (xt, yt, xv, yv))
    if task == "digits_cnn":
        yt_t, yv_t = yt_t.long(), yv_t.long()
    gen = torch.Generator().manual_seed(seed)
    hist = []
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(xt_t), generator=gen)
        losses, outs, ys = [], [], []
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            out = model(xt_t[idx])
            loss = loss_fn(out, yt_t[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            outs.append(out.detach())
            ys.append(yt_t[idx])
        model.eval()
        with torch.no_grad():
            vout = model(xv_t)
            vloss = float(loss_fn(vout, yv_t))
        row = {"epoch": epoch, "loss": float(np.mean(losses)), "val_loss": vloss, "lr": lr,
               "steps": len(losses) * (epoch + 1), "steps_per_epoch": len(losses)}
        row.update(_metric(task, torch.cat(outs), torch.cat(ys)))
        row.update({f"val_{k}": v for k, v in _metric(task, vout, yv_t).items()})
        hist.append(row)
    return hist


# ---------------------------------------------------------------- writers (the formats users have)

def _num(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))


def write_keras_csv(path: Path, hist: list[dict[str, float]]) -> None:
    """Like Keras 3 CSVLogger: epoch, then the logs' keys sorted."""
    keys = sorted(k for k in hist[0] if k not in ("epoch", "lr", "steps", "steps_per_epoch")) + ["learning_rate"]
    keys.sort()
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", *keys])
        for r in hist:
            w.writerow([r["epoch"], *[_num(r["lr"] if k == "learning_rate" else r[k]) for k in keys]])


def write_lightning_csv(path: Path, hist: list[dict[str, float]], opt_name: str) -> None:
    """Like Lightning's CSVLogger with LearningRateMonitor: sorted columns, sparse rows (lr at the epoch's
    first step, then the validation row, then the train epoch-means row at the epoch's last step)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lr_col = f"lr-{'SGD' if opt_name == 'sgd' else 'Adam'}"
    metrics = sorted({("train_" + k if not k.startswith("val_") else k) for r in hist for k in r
                      if k not in ("epoch", "lr", "steps", "steps_per_epoch")})
    cols = sorted(["epoch", lr_col, "step", *metrics])
    rows = []
    for r in hist:
        spe = int(r["steps_per_epoch"])
        rows.append({lr_col: _num(r["lr"]), "step": str(spe * int(r["epoch"]))})
        last = str(int(r["steps"]) - 1)
        rows.append({"epoch": str(r["epoch"]), "step": last,
                     **{k: _num(r[k]) for k in metrics if k.startswith("val_")}})
        rows.append({"epoch": str(r["epoch"]), "step": last,
                     **{k: _num(r[k.removeprefix("train_")]) for k in metrics if k.startswith("train_")}})
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, restval="")
        w.writeheader()
        w.writerows(rows)


def write_tensorboard(folder: Path, hist: list[dict[str, float]]) -> None:
    from torch.utils.tensorboard import SummaryWriter

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("events.out.tfevents.*"):
        old.unlink()
    w = SummaryWriter(log_dir=str(folder))
    for r in hist:
        e = int(r["epoch"])
        w.add_scalar("train/loss", r["loss"], e)
        w.add_scalar("val/loss", r["val_loss"], e)
        w.add_scalar("val/auc", r["val_auc"], e)
        w.add_scalar("lr", r["lr"], e)
    w.close()


def run_path(task: str, opt_name: str, lr: float) -> Path:
    """The log's path: a CSV file, or the folder holding metrics.csv / the event file."""
    fmt = TASKS[task][3]
    sweep = OUT / f"{task}_{opt_name}"
    if fmt == "keras_csv":
        return sweep / f"{lr_tag(lr)}.csv"
    if fmt == "lightning":
        return sweep / lr_tag(lr) / "metrics.csv"
    return sweep / lr_tag(lr)


# ---------------------------------------------------------------- labels by construction

def chance_level(task: str) -> float:
    data, seed, *_ = TASKS[task]
    (_xt, yt), (_xv, yv) = data(seed)
    if task == "digits_cnn":
        return float(np.bincount(yv).max() / len(yv))
    if task == "diabetes_mlp":
        return float(np.mean((yv - yt.mean()) ** 2))
    return 0.5 if task == "imbalanced_mlp" else 0.0


def label_sweep(task: str, runs: dict[float, list[dict[str, float]]]) -> list[dict[str, str]]:
    """The label of every run of one sweep (rule in the module docstring)."""
    key = {"diabetes_mlp": "val_loss", "digits_cnn": "val_accuracy", "imbalanced_mlp": "val_auc",
           "pixel_seg": "val_iou"}[task]
    sign = -1.0 if task == "diabetes_mlp" else 1.0
    chance = chance_level(task)
    info = {}
    for lr, hist in runs.items():
        score = float(np.mean([r[key] for r in hist[-TAIL:]]))
        failed = not math.isfinite(score) or any(not math.isfinite(r[k]) for r in hist for k in ("loss", "val_loss"))
        info[lr] = (score, failed, sign * (score - chance) if math.isfinite(score) else -math.inf)
    healthy = {lr: g for lr, (_s, f, g) in info.items() if not f}
    best_lr = max(healthy, key=lambda lr: healthy[lr]) if healthy else None
    top = healthy.get(best_lr, 0.0) if best_lr is not None else 0.0
    rows = []
    for lr, (score, failed, gain) in info.items():
        share = gain / top if top > 0 and math.isfinite(gain) else float("nan")
        if best_lr is None or top <= 0:
            label, why = "unsure", "no run learned"
        elif failed:
            label, why = ("too_high", "NaN/inf loss") if lr > best_lr else ("unsure", "failed below the best LR")
        elif gain >= OK_SHARE * top:
            label, why = "ok", f"{share:.0%} of the best run's gain"
        elif gain < CLEARLY_WORSE_SHARE * top:
            label = "too_high" if lr > best_lr else "too_low"
            why = f"{share:.0%} of the best run's gain"
        else:
            label, why = "unsure", f"{share:.0%} of the best run's gain"
        first, last = runs[lr][0]["loss"], runs[lr][-1]["loss"]
        rows.append({"sweep": f"{task}", "lr": f"{lr:g}", "metric": key, "chance": f"{chance:.4g}",
                     "score": f"{score:.4g}", "gain_share": f"{share:.3f}", "best_lr": f"{best_lr:g}" if best_lr else "-",
                     "train_loss_first_last": f"{first:.4g}->{last:.4g}", "label": label, "why": why})
    return rows


# ---------------------------------------------------------------- train

def train() -> None:
    import torch

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    labels = []
    for task, (_d, _s, _b, fmt, *_rest) in TASKS.items():
        for opt_name in OPTS:
            runs = {}
            for lr in LRS:
                t0 = time.perf_counter()
                hist = train_run(task, opt_name, lr)
                runs[lr] = hist
                p = run_path(task, opt_name, lr)
                p.parent.mkdir(parents=True, exist_ok=True)
                if fmt == "keras_csv":
                    write_keras_csv(p, hist)
                elif fmt == "lightning":
                    write_lightning_csv(p, hist, opt_name)
                else:
                    write_tensorboard(p, hist)
                print(f"{task} {opt_name} lr {lr:g}: loss {hist[0]['loss']:.4g} -> {hist[-1]['loss']:.4g} "
                      f"({time.perf_counter() - t0:.1f} s)", flush=True)
            for row in label_sweep(task, runs):
                row["sweep"] = f"{task}_{opt_name}"
                row["path"] = str(run_path(task, opt_name, float(row["lr"])).relative_to(OUT))
                labels.append(row)
    cols = ["sweep", "path", "lr", "label", "why", "metric", "chance", "score", "gain_share", "best_lr",
            "train_loss_first_last"]
    with open(LABELS, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, delimiter="\t", extrasaction="ignore")
        w.writeheader()
        w.writerows(labels)
    (OUT / "VERSIONS.txt").write_text(f"python {sys.version.split()[0]}\ntorch {torch.__version__}\n"
                                      f"scikit-learn {__import__('sklearn').__version__}\nnumpy {np.__version__}\n")


# ---------------------------------------------------------------- score

def _cli(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "curvecheck", *args, "--json", "--fail-on", "never"],
                          check=False, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"curvecheck {' '.join(args[:1])} failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def _entry(entries: list[dict], path: str) -> dict:
    """The report entry of one log (a TensorBoard folder's entry names the event file inside it)."""
    want = Path(path).resolve()
    return next(e for e in entries if want in (Path(e["source"]).resolve(), *Path(e["source"]).resolve().parents))


def _table(name: str, pairs: list[tuple[str, str]], unsure: int) -> tuple[int, int, int]:
    classes = ("too_high", "too_low", "ok")
    verdicts = ("too_high", "too_low", "ok", "unknown")
    print(f"\n{name}: rows = label, columns = verdict")
    print("| label | " + " | ".join(verdicts) + " |")
    print("| --- |" + " --- |" * len(verdicts))
    for c in classes:
        print(f"| {c} | " + " | ".join(str(sum(1 for lab, v in pairs if lab == c and v == vv)) for vv in verdicts) + " |")
    right = sum(lab == v for lab, v in pairs)
    abstained = sum(v == "unknown" for _lab, v in pairs)
    wrong = len(pairs) - right - abstained
    print(f"right {right}, wrong {wrong}, abstained {abstained} of {len(pairs)} labelled runs "
          f"({unsure} unsure not scored)")
    return right, wrong, abstained


def score() -> None:
    with open(LABELS, newline="") as fh:
        labels = list(csv.DictReader(fh, delimiter="\t"))
    sweeps: dict[str, list[dict[str, str]]] = {}
    for r in labels:
        sweeps.setdefault(r["sweep"], []).append(r)
    single, sweep_pairs, wrong_rows = [], [], []
    for name, rows in sweeps.items():
        paths = [str(OUT / r["path"]) for r in rows]
        report = _cli("analyze", *paths)
        comp = _cli("compare", *paths, "--metric", TASKS[name.rsplit("_", 1)[0]][4])
        for r, p in zip(rows, paths):
            run = _entry(report["runs"], p)
            v = run["lr_verdict"]["verdict"]
            sigs = ",".join(s["name"] for s in run["lr_verdict"]["signals"]) or "-"
            sv = _entry(comp["runs"], p)["verdict"]
            r.update(verdict=v, sweep_verdict=sv, signals=sigs)
            if r["label"] == "unsure":
                continue
            single.append((r["label"], v))
            sweep_pairs.append((r["label"], sv))
            if v not in (r["label"], "unknown") or sv not in (r["label"], "unknown"):
                wrong_rows.append(r)
    unsure = sum(r["label"] == "unsure" for r in labels)
    s = _table("single-run (analyze)", single, unsure)
    c = _table("sweep (compare)", sweep_pairs, unsure)
    print("\nwrong verdicts (single-run / in the sweep):")
    print("| sweep | lr | label | analyze | compare | signals | score (chance) | share of best gain | train loss |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in wrong_rows:
        a = r["verdict"] + ("" if r["verdict"] in (r["label"], "unknown") else " **wrong**")
        b = r["sweep_verdict"] + ("" if r["sweep_verdict"] in (r["label"], "unknown") else " **wrong**")
        print(f"| {r['sweep']} | {r['lr']} | {r['label']} | {a} | {b} | {r['signals']} | {r['score']} "
              f"({r['chance']}) | {r['gain_share']} | {r['train_loss_first_last']} |")
    print(f"\nsingle-run: {s[0]} right, {s[1]} wrong, {s[2]} abstained; sweep: {c[0]} right, {c[1]} wrong, "
          f"{c[2]} abstained")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "train":
        train()
    else:
        score()
