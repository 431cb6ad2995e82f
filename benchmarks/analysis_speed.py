"""Analysis speed on big inputs: one run of 5 series x N points, and one TensorBoard run with many tags.

    python benchmarks/analysis_speed.py --rows 1000000 --tags 10000 [--profile]

Writes the inputs once under /tmp/curvecheck_bench/ (the CSV as benchmarks/readers_speed.py writes it;
the tags with tensorboardX, 10 points each so every check has something to judge), then times
``curvecheck.load`` and ``curvecheck.analyze_run`` separately (analysis is what this measures).
"""

from __future__ import annotations

import argparse
import cProfile
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


def timed(label: str, path: Path, profile: bool) -> None:
    t0 = time.perf_counter()
    run = curvecheck.load(path)
    t1 = time.perf_counter()
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    report = analyze_run(run)
    if prof:
        prof.disable()
    t2 = time.perf_counter()
    print(f"{label}: load {t1 - t0:.2f} s, analyze_run {t2 - t1:.2f} s, {len(report.findings)} findings")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--tags", type=int, default=10_000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    BENCH_DIR.mkdir(exist_ok=True)
    if args.rows:
        csv = BENCH_DIR / f"analysis_{args.rows}.csv"
        if not csv.exists():
            write_big_csv(csv, args.rows)
        timed(f"{args.rows:,} rows x 5 series", csv, args.profile)
    if args.tags:
        folder = BENCH_DIR / f"tags_{args.tags}"
        if not folder.exists():
            write_many_tags(folder, args.tags)
        timed(f"{args.tags:,} tags x 10 points", folder, args.profile)


if __name__ == "__main__":
    main()
