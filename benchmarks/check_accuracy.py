"""How often each check fires correctly and wrongly on labelled real logs, per kind and per format.

    python benchmarks/check_accuracy.py                      # the independent set (../shared/eval)
    python benchmarks/check_accuracy.py --labels benchmarks/labels.tsv   # our own set
    python benchmarks/check_accuracy.py --labels tests/data/eval_labels.tsv  # the copy the tests use

Two label formats are read:

* the independent set (``../shared/eval/labels.tsv``, rules in its ``LABELS.md``): one column per
  finding kind holding ``yes`` / ``no`` / ``unsure``; paths are relative to the labels file's
  parent's parent (``corpus/...`` under ``../shared``) or to the labels file's folder;
* our own set (``benchmarks/labels.tsv``): ``expect`` (kinds present) and ``absent`` (kinds clearly
  absent) lists; paths relative to the project root; its rows are grouped by folder instead of format.

Scoring follows LABELS.md: a finding of a kind on a ``yes`` log is a true positive, on a ``no`` log a
false positive, none on a ``yes`` log a false negative; ``unsure`` is not scored. A log curvecheck
cannot read counts every ``yes`` as a miss (and is listed).
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import curvecheck
from curvecheck.errors import CurvecheckError
from curvecheck.findings import KINDS

ROOT = Path(__file__).resolve().parent.parent


def default_eval_labels() -> Path:
    """../shared/eval/labels.tsv seen from the project root (a worktree may sit one level deeper)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "eval" / "labels.tsv"
        if candidate.exists():
            return candidate
    return ROOT.parent / "shared" / "eval" / "labels.tsv"


@dataclass
class Labelled:
    """One labelled log: where it is, its format and the label of each kind (yes/no/unsure)."""

    path: Path
    name: str
    format: str
    labels: dict[str, str]


def _resolve(labels_file: Path, rel: str) -> Path:
    for base in (labels_file.parent, labels_file.parent.parent, ROOT):
        if (base / rel).exists():
            return base / rel
    return labels_file.parent.parent / rel


def load_labels(path: Path) -> list[Labelled]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for r in rows:
        if "expect" in r:  # our own format: expect / absent lists
            expect = {k for k in r["expect"].split(",") if k}
            absent = {k for k in r["absent"].split(",") if k}
            labels = {k: "yes" if k in expect else "no" if k in absent else "unsure" for k in KINDS}
            fmt = r.get("format") or Path(r["path"]).parent.name
        else:
            labels = {k: (r.get(k) or "unsure").strip() for k in KINDS}  # a kind newer than the labels: unscored
            fmt = r["format"]
        out.append(Labelled(_resolve(path, r["path"]), r["path"], fmt, labels))
    return out


def fired_kinds(path: Path) -> set[str] | None:
    """The finding kinds curvecheck reports for a log; None when it cannot read the log."""
    try:
        return {f.kind for f in curvecheck.analyze(path).runs[0].findings}
    except CurvecheckError:
        return None


@dataclass
class Score:
    counts: dict[tuple[str, str], Counter] = field(default_factory=dict)  # (format, kind) -> tp/fp/fn/tn
    unreadable: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)

    def add(self, fmt: str, kind: str, outcome: str) -> None:
        self.counts.setdefault((fmt, kind), Counter())[outcome] += 1

    def total(self, fmt: str | None = None, kind: str | None = None) -> Counter:
        out: Counter = Counter()
        for (f, k), c in self.counts.items():
            if (fmt is None or f == fmt) and (kind is None or k == kind):
                out.update(c)
        return out


def evaluate(rows: list[Labelled]) -> Score:
    score = Score()
    for r in rows:
        fired = fired_kinds(r.path)
        if fired is None:
            score.unreadable.append(r.name)
        for kind in KINDS:
            label = r.labels[kind]
            hit = fired is not None and kind in fired
            if label == "yes":
                score.add(r.format, kind, "tp" if hit else "fn")
                if not hit:
                    score.disagreements.append(f"missed {kind}: {r.name}")
            elif label == "no":
                score.add(r.format, kind, "fp" if hit else "tn")
                if hit:
                    score.disagreements.append(f"false alarm {kind}: {r.name}")
    return score


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def _row(name: str, c: Counter) -> str:
    p = _ratio(c["tp"], c["tp"] + c["fp"])
    r = _ratio(c["tp"], c["tp"] + c["fn"])
    return f"| {name} | {p} | {r} | {c['tp']} | {c['fp']} | {c['fn']} | {c['tn']} |"


def report(score: Score, n_logs: int) -> str:
    head = "| {} | precision | recall | TP | FP | FN | TN |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    lines = [f"{n_logs} labelled logs, {len(score.unreadable)} not readable (their `yes` count as misses)\n",
             head.format("kind")]
    lines += [_row(k, score.total(kind=k)) for k in KINDS]
    lines.append(_row("**micro**", score.total()))
    lines += ["", head.format("format")]
    formats = sorted({f for f, _k in score.counts})
    lines += [_row(f, score.total(fmt=f)) for f in formats]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=None, help="labels.tsv (default: ../shared/eval/labels.tsv)")
    args = parser.parse_args()
    path = args.labels or default_eval_labels()
    rows = load_labels(path)
    score = evaluate(rows)
    print(report(score, len(rows)))
    print()
    for name in score.unreadable:
        print(f"not readable: {name}")
    for line in score.disagreements:
        print(line)


if __name__ == "__main__":
    main()
