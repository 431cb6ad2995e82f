"""Dump `curvecheck analyze --json` for every sample and test log, to check an optimisation changes
no result: dump before, change, dump after, ``diff -r BEFORE AFTER`` (must be empty).

Run by hand (not a test): ``python benchmarks/dump_results.py OUT_DIR``. Each file and each folder
(every run below it) under sample_logs/, tests/data/corpus/ and tests/data/written/ is analysed in
one process; the "live" status (which reads file mtimes against the clock) is switched off.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from curvecheck.cli import app

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    for base in ("sample_logs", "tests/data/corpus", "tests/data/written"):
        for path in sorted((ROOT / base).rglob("*")):
            if path.name == "PROVENANCE.tsv":
                continue
            result = runner.invoke(app, ["analyze", "--json", "--jobs", "1", str(path)])
            name = str(path.relative_to(ROOT)).replace("/", "__") + ".txt"
            (out / name).write_text(f"exit={result.exit_code}\n" + result.output.replace(str(ROOT), "ROOT"))


if __name__ == "__main__":
    main()
