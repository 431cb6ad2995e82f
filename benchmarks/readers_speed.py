"""Reader speed: a 1,000,000-row CSV (curvecheck vs pandas' C parser) and a 1,000-run folder
(curvecheck analyze vs pandas reading the same files), each in a fresh process, with peak RSS.

Run by hand (not a test): ``python benchmarks/readers_speed.py [--runs 1000] [--rows 1000000]``.
Files are written to a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "segmentation_unet.csv"


def _measure(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON dict with 'seconds'; add peak RSS (MiB)."""
    wrapper = textwrap.dedent("""
        import json, resource, time
        t0 = time.perf_counter()
        {code}
        seconds = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps({{"seconds": seconds, "peak_rss_mib": rss, "peak_child_rss_mib": kids}}))
    """).format(code=textwrap.indent(textwrap.dedent(code), "").replace("\n", "\n"))
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_big_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    epoch = np.arange(rows)
    loss = 2.0 * np.exp(-epoch / (rows / 5)) + rng.normal(0, 0.01, rows)
    cols = {"epoch": epoch, "loss": loss, "val_loss": loss * 1.1 + 0.05, "accuracy": 1 - loss / 3,
            "val_accuracy": 1 - loss / 2.8, "lr": np.full(rows, 1e-3)}
    with open(path, "w") as fh:
        fh.write(",".join(cols) + "\n")
        block = np.column_stack(list(cols.values()))
        np.savetxt(fh, block, delimiter=",", fmt=["%d"] + ["%.9g"] * (len(cols) - 1))


def best_of(n: int, code: str) -> dict:
    return min((_measure(code) for _ in range(n)), key=lambda r: r["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        big = tmp_path / "big.csv"
        write_big_csv(big, args.rows)
        size = big.stat().st_size / 2**20
        print(f"## {args.rows:,}-row CSV ({size:.1f} MiB)")
        res = {
            "pandas.read_csv (C parser)": best_of(args.repeat, f"import pandas as pd; pd.read_csv({str(big)!r})"),
            "curvecheck.load": best_of(args.repeat, f"import curvecheck; curvecheck.load({str(big)!r})"),
            "curvecheck.load (.gz)": None,
        }
        gz = tmp_path / "big.csv.gz"
        subprocess.run(["gzip", "-k", "-1", str(big)], check=True)
        res["curvecheck.load (.gz)"] = best_of(args.repeat, f"import curvecheck; curvecheck.load({str(gz)!r})")
        for name, r in res.items():
            print(f"| {name} | {r['seconds']:.2f} s | {r['peak_rss_mib']:.0f} MiB |")

        logdir = tmp_path / "logdir"
        logdir.mkdir()
        text = SAMPLE.read_text()
        for i in range(args.runs):
            (logdir / f"run_{i:04d}").mkdir()
            (logdir / f"run_{i:04d}" / "training.csv").write_text(text)
        print(f"## {args.runs:,}-run folder (each a copy of {SAMPLE.name}, 80 epochs x 10 series)")
        glob = str(logdir / "*" / "training.csv")
        res = {
            "pandas.read_csv each file (read only)": best_of(
                args.repeat, f"import glob, pandas as pd; [pd.read_csv(p) for p in glob.glob({glob!r})]"),
            "curvecheck.load_many (read only)": best_of(
                args.repeat, f"import curvecheck; curvecheck.load_many({str(logdir)!r})"),
            "curvecheck.analyze jobs=1": best_of(
                args.repeat, f"import curvecheck; curvecheck.analyze({str(logdir)!r}, jobs=1)"),
            "curvecheck.analyze jobs=2": best_of(
                args.repeat, f"import curvecheck; curvecheck.analyze({str(logdir)!r}, jobs=2)"),
        }
        for name, r in res.items():
            per_run = r["seconds"] / args.runs * 1000
            print(f"| {name} | {r['seconds']:.2f} s | {per_run:.1f} ms | {r['peak_rss_mib']:.0f} MiB "
                  f"(workers {r['peak_child_rss_mib']:.0f} MiB) |")


if __name__ == "__main__":
    main()
