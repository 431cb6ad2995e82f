"""LR verdicts and never-learned findings against the known class of every run we have.

    python benchmarks/lr_verdicts.py           # Markdown table, then the score

Known classes: tests/data/written/lr_runs/MANIFEST.tsv for the runs made by scripts/make_lr_runs.py
(expected verdict and status written from how each run was made and its curve), and
benchmarks/lr_labels.tsv for sample and corpus logs (the generator or the log's PROVENANCE/LABELS
note); never curvecheck's output.
``-`` means the class is not known (the row still scores never-learned). The sweep in
``tests/data/written/lr_runs/keras/lr_sweep`` is also scored with ``compare`` (verdicts in context).
A log no reader can open yet is listed as unreadable and not scored.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import curvecheck
from curvecheck.errors import CurvecheckError

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "tests/data/written/lr_runs/keras/lr_sweep"


MANIFEST = ROOT / "tests/data/written/lr_runs/MANIFEST.tsv"


def load_labels(path: Path = ROOT / "benchmarks" / "lr_labels.tsv") -> list[dict[str, str]]:
    """The runs made for this (MANIFEST.tsv of scripts/make_lr_runs.py), then the other labelled logs."""
    rows = []
    with open(MANIFEST, newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            rows.append({"path": str(MANIFEST.parent.relative_to(ROOT) / r["path"]), "lr_class": r["expected_lr_verdict"],
                         "never_learned": "yes" if r["expected_status"] == "never_learned" else "no", "why": r["why"]})
    with open(path, newline="") as fh:
        return rows + list(csv.DictReader(fh, delimiter="\t"))


def evaluate(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for r in rows:
        try:
            report = curvecheck.analyze(ROOT / r["path"]).runs[0]
        except CurvecheckError as exc:
            out.append({**r, "verdict": "unreadable", "nl": "-", "signals": str(exc).split(": ")[-1][:60]})
            continue
        nl = [f for f in report.findings if f.kind == "never_learned"]
        names = sorted({s.name for s in report.lr_verdict.signals if s.points_to == report.lr_verdict.verdict})
        out.append({**r, "verdict": report.lr_verdict.verdict, "nl": "yes" if nl else "no",
                    "signals": ", ".join(names) or "-"})
    return out


def sweep_rows() -> list[tuple[str, str, str]]:
    """(run, verdict in the sweep's context, the label's class) for the real Keras sweep."""
    labels = {Path(r["path"]).name: r["lr_class"] for r in load_labels() if "lr_runs/keras/lr_sweep/" in r["path"]}
    rep = curvecheck.compare(sorted(SWEEP.glob("*.csv")))
    return [(e.name, e.verdict, labels.get(e.name, "-")) for e in rep.entries]


def main() -> None:
    start = time.perf_counter()
    rows = evaluate(load_labels())
    print("| log | known | verdict | never-learned (known) | signals |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        mark = ("" if r["lr_class"] in ("-", r["verdict"]) or r["verdict"] == "unreadable"
                else " (abstained)" if r["verdict"] == "unknown" else " **wrong**")
        nl_mark = "" if r["nl"] in ("-", r["never_learned"]) else " **wrong**"
        print(f"| {r['path'].removeprefix('tests/data/')} | {r['lr_class']} | {r['verdict']}{mark} | "
              f"{r['nl']} ({r['never_learned']}){nl_mark} | {r['signals']} |")
    scored = [r for r in rows if r["lr_class"] != "-" and r["verdict"] != "unreadable"]
    right = sum(r["verdict"] == r["lr_class"] for r in scored)
    abstained = sum(r["verdict"] == "unknown" != r["lr_class"] for r in scored)
    collapsed = [r for r in scored if r["never_learned"] == "yes" and r["lr_class"] == "too_high"]
    nl_scored = [r for r in rows if r["nl"] != "-"]
    nl_right = sum(r["nl"] == r["never_learned"] for r in nl_scored)
    sweep = sweep_rows()
    print(f"\nsingle-run verdicts: {right} of {len(scored)} right ({right / len(scored):.0%}), "
          f"{len(scored) - right - abstained} wrong, {abstained} abstained (unknown); collapsed runs too_high: "
          f"{sum(r['verdict'] == 'too_high' for r in collapsed)} of {len(collapsed)}")
    print(f"never-learned finding: {nl_right} of {len(nl_scored)} right "
          f"({sum(r['nl'] == 'yes' and r['never_learned'] == 'yes' for r in nl_scored)} of "
          f"{sum(r['never_learned'] == 'yes' for r in nl_scored)} never-learned runs found, "
          f"{sum(r['nl'] == 'yes' and r['never_learned'] == 'no' for r in nl_scored)} false alarms)")
    print("compare on the Keras sweep: " + ", ".join(f"{n} {v}" + ("" if k in ("-", v) else f" (known {k})")
                                                   for n, v, k in sweep))
    unreadable = [r["path"] for r in rows if r["verdict"] == "unreadable"]
    if unreadable:
        print(f"unreadable (not scored): {', '.join(unreadable)}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
