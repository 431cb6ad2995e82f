"""Plot speed: a 100k-point series (issue 4: under 3 s), drawn from a real tensorboardX event file.

    python benchmarks/plot_speed.py

Writes a 100,000-step run (train loss, val loss every 100 steps, learning rate) with tensorboardX,
then times `curvecheck plot` end to end (process start, reading, analysis, drawing, PNG) and the
plotting call alone. Drawing decimates to ~4,000 points per line (min/max per bucket, so spikes
stay); analysis uses every point.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_log(folder: Path, steps: int = 100_000) -> Path:
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(folder), max_queue=10_000, flush_secs=3600)
    rng = np.random.default_rng(0)
    for step in range(steps):
        w.add_scalar("train/loss", 2.0 * np.exp(-step / 20_000) + 0.1 + 0.05 * rng.standard_normal(), step)
        if step % 100 == 0:
            w.add_scalar("val/loss", 2.0 * np.exp(-step / 20_000) + 0.15 + 0.01 * rng.standard_normal(), step)
            w.add_scalar("lr", 1e-3 * (0.1 if step > 60_000 else 1.0), step)
    w.close()
    return folder


def main() -> None:
    import curvecheck
    from curvecheck.api import analyze_run
    from curvecheck.render.plot import plot_runs

    with tempfile.TemporaryDirectory() as tmp:
        log = make_log(Path(tmp) / "run")
        run = curvecheck.load(log)
        print("points in train/loss:", len(run["train/loss"]))
        report = analyze_run(run)
        times = []
        for i in range(3):
            t0 = time.perf_counter()
            plot_runs([run], [report], Path(tmp) / f"p{i}.png")
            times.append(time.perf_counter() - t0)
        print(f"plot_runs (draw + save PNG): median {statistics.median(times):.2f} s")
        cli = []
        for i in range(3):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "curvecheck", "plot", str(log), "-o", str(Path(tmp) / f"c{i}.png")],
                           check=True, capture_output=True)
            cli.append(time.perf_counter() - t0)
        print(f"curvecheck plot end to end (load + analyse + draw): median {statistics.median(cli):.2f} s")


if __name__ == "__main__":
    main()
