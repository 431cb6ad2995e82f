"""Analysis speed on big inputs: one run of 5 series x N points, and one TensorBoard run with many tags.

    python benchmarks/analysis_speed.py --rows 1000000 --tags 10000 [--profile] [--exact] [--pandas]

Writes the inputs once under /tmp/curvecheck_bench/ (the CSV as benchmarks/readers_speed.py writes it;
the tags with tensorboardX, 10 points each so every check has something to judge), then times
``curvecheck.load`` and ``curvecheck.analyze_run`` separately (analysis is what this measures): wall
time, CPU time of this process (``time.process_time``) and the load average, since the machine is shared.
``--exact`` also times the analysis of every point (``max_points=0``; by default series longer than
``curvecheck.reduce.MAX_POINTS`` are judged on a sample); ``--pandas`` times what a user would do
instead with pandas on the same CSV (read it, 5-point rolling medians of every column, and one
exact rolling median over a fifth of the run, the longest window curvecheck's checks used).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from pathlib import Path

import numpy as np

import curvecheck
from curvecheck.api import analyze_run

BENCH_DIR = Path("/tmp/curvecheck_bench")


def write_big_csv(path: Path, rows: int) -> None:
    from readers_speed import write_big_csv as write  # the same file the reader benchmark uses

    write(path, rows)


def write_many_tags(folder: Path, tags: int, points: int = 10) -> None:
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(0)
    w = SummaryWriter(str(folder), max_queue=100_000, flush_secs=3600)
    for step in range(points):
        for k in range(tags):
            w.add_scalar(f"metric_{k}/loss", float(1.0 / (1 + step) + rng.normal(0, 0.01)), step)
    w.close()


def timed(label: str, path: Path, profile: bool, max_points: int | None = None) -> None:
    t0 = time.perf_counter()
    run = curvecheck.load(path)
    t1 = time.perf_counter()
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    c1 = time.process_time()
    report = analyze_run(run, max_points=max_points)
    c2 = time.process_time()
    if prof:
        prof.disable()
    t2 = time.perf_counter()
    mode = "" if max_points is None else f" (max_points={max_points})"
    print(f"{label}{mode}: load {t1 - t0:.2f} s, analyze_run {t2 - t1:.2f} s wall / {c2 - c1:.2f} s CPU, "
          f"{len(report.findings)} findings {sorted(f.code for f in report.findings)}, "
          f"load average {os.getloadavg()[0]:.1f}")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def pandas_baseline(csv: Path, rows: int) -> None:
    import pandas as pd

    t0, c0 = time.perf_counter(), time.process_time()
    df = pd.read_csv(csv)
    t1 = time.perf_counter()
    df.rolling(5, center=True, min_periods=1).median()
    t2, c2 = time.perf_counter(), time.process_time()
    df["val_loss"].rolling(rows // 5, min_periods=1).median()
    t3, c3 = time.perf_counter(), time.process_time()
    print(f"pandas: read_csv {t1 - t0:.2f} s, 5-point rolling medians of all columns {t2 - t1:.2f} s "
          f"({c2 - c0:.2f} s CPU with the read), one rolling median over {rows // 5:,} points {t3 - t2:.2f} s "
          f"({c3 - c2:.2f} s CPU), load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--tags", type=int, default=10_000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--exact", action="store_true", help="also judge every point (max_points=0)")
    ap.add_argument("--pandas", action="store_true", help="also time pandas on the same CSV")
    args = ap.parse_args()
    BENCH_DIR.mkdir(exist_ok=True)
    if args.rows:
        csv = BENCH_DIR / f"analysis_{args.rows}.csv"
        if not csv.exists():
            write_big_csv(csv, args.rows)
        timed(f"{args.rows:,} rows x 5 series", csv, args.profile)
        if args.exact:
            timed(f"{args.rows:,} rows x 5 series", csv, args.profile, max_points=0)
        if args.pandas:
            pandas_baseline(csv, args.rows)
    if args.tags:
        folder = BENCH_DIR / f"tags_{args.tags}"
        if not folder.exists():
            write_many_tags(folder, args.tags)
        timed(f"{args.tags:,} tags x 10 points", folder, args.profile)


if __name__ == "__main__":
    main()
