"""Discovery of runs in a big log tree: curvecheck's walk (event files by name, renamed ones by a
12-byte sniff) against a name-only glob, as a user would list event files.

    python benchmarks/discovery_sniff.py [--runs 500] [--files 20]

Each run folder holds one real event file (tests/data/written/torch_simple), ``--files`` images
(.png, never sniffed) and ``--files`` files without a suffix (sniffed: the worst case), and a yaml.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import tempfile
import time
from pathlib import Path

from curvecheck.readers.discovery import find_runs

SRC = next((Path(__file__).resolve().parent.parent / "tests/data/written/torch_simple").iterdir())


def build(root: Path, runs: int, files: int, suffix: str) -> int:
    for r in range(runs):
        d = root / "runs" / f"run{r:04d}"
        d.mkdir(parents=True)
        shutil.copy(SRC, d / SRC.name)
        for k in range(files):
            (d / f"img{k}.png").write_bytes(b"x" * 100)
            (d / f"ckpt_{k}{suffix}").write_bytes(b"\0" * 100)
        (d / "hparams.yaml").write_text("lr: 0.1\n")
    return runs * (2 * files + 2)


def best_of(fn, n: int = 5) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--files", type=int, default=20)
    args = ap.parse_args()
    for suffix, label in (("", "no suffix (sniffed)"), (".pt", ".pt (not sniffed)")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            total = build(root, args.runs, args.files, suffix)
            walk = best_of(lambda root=root: find_runs(root))
            glob_s = best_of(lambda root=root: glob.glob(str(root / "**" / "*tfevents*"), recursive=True))
            found = len(find_runs(root)[0])
            print(f"{total} files, checkpoints {label}: find_runs {walk * 1000:.0f} ms ({found} runs), "
                  f"glob('**/*tfevents*') {glob_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
