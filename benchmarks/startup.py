"""Start-up cost: `curvecheck --help` and `curvecheck analyze` on a small CSV vs `import pandas`.

    pip install -e .
    python benchmarks/startup.py

Goals (issue 2): --help <= 0.25 s; analyze on a small CSV within 1.3x of `python -c "import pandas"`.
Median of N cold-ish runs (the OS file cache is warm after the first).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "overfitting_mlp.csv"


def timed(cmd: list[str], n: int = 15) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    exe = shutil.which("curvecheck") or str(Path(sys.executable).with_name("curvecheck"))
    py = sys.executable
    rows = {
        "python -c pass": timed([py, "-c", "pass"]),
        'python -c "import pandas"': timed([py, "-c", "import pandas"]),
        "curvecheck --help": timed([exe, "--help"]),
        f"curvecheck analyze {SAMPLE.name}": timed([exe, "analyze", str(SAMPLE)]),
        f"curvecheck analyze {SAMPLE.name} --json": timed([exe, "analyze", str(SAMPLE), "--json"]),
    }
    for name, t in rows.items():
        print(f"{name:45s} {t * 1000:7.0f} ms")
    pandas = rows['python -c "import pandas"']
    analyze = rows[f"curvecheck analyze {SAMPLE.name}"]
    print(f"analyze / import pandas = {analyze / pandas:.2f} (goal <= 1.3)")


if __name__ == "__main__":
    main()
