"""How often each check fires correctly and wrongly on labelled real logs.

    python benchmarks/check_accuracy.py            # table in Markdown, then the disagreements

Labels are in benchmarks/labels.tsv: for each log, the finding kinds its PROVENANCE note (or the
generator that made it) says it shows ("expect") and kinds it clearly does not show ("absent").
A kind not listed either way is not counted. Labels come from the logs' descriptions, not from
curvecheck's output.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import curvecheck
from curvecheck.checks import CHECKS

ROOT = Path(__file__).resolve().parent.parent


def load_labels(path: Path = ROOT / "benchmarks" / "labels.tsv") -> list[dict]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        r["expect"] = {k for k in r["expect"].split(",") if k}
        r["absent"] = {k for k in r["absent"].split(",") if k}
    return rows


def evaluate(rows: list[dict]) -> tuple[dict[str, Counter], list[str]]:
    stats: dict[str, Counter] = {c.kind: Counter() for c in CHECKS.values()}
    disagreements = []
    for r in rows:
        report = curvecheck.analyze(ROOT / r["path"]).runs[0]
        fired = {f.kind for f in report.findings}
        for kind in stats:
            if kind in r["expect"]:
                stats[kind]["correct" if kind in fired else "missed"] += 1
                if kind not in fired:
                    disagreements.append(f"missed {kind}: {r['path']}")
            elif kind in r["absent"]:
                stats[kind]["wrong" if kind in fired else "silent_ok"] += 1
                if kind in fired:
                    disagreements.append(f"wrong {kind}: {r['path']}")
    return stats, disagreements


def main() -> None:
    rows = load_labels()
    stats, disagreements = evaluate(rows)
    print(f"{len(rows)} labelled logs\n")
    print("| code | check | fires correctly | fires wrongly | misses | silent where it should be |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for check in CHECKS.values():
        s = stats[check.kind]
        print(f"| {check.code} | {check.name} | {s['correct']} of {s['correct'] + s['missed']} | "
              f"{s['wrong']} of {s['wrong'] + s['silent_ok']} | {s['missed']} | {s['silent_ok']} |")
    total = sum(stats.values(), Counter())
    print(f"| | all | {total['correct']} of {total['correct'] + total['missed']} | "
          f"{total['wrong']} of {total['wrong'] + total['silent_ok']} | {total['missed']} | {total['silent_ok']} |")
    print()
    for line in disagreements:
        print(line)


if __name__ == "__main__":
    main()
