"""Stop-rule quality on real learning curves: regret (share of the achievable improvement lost by
the kept checkpoint) and cost (share of the epochs run), for each rule.

    python benchmarks/stop_quality.py [--curves ../shared/curves] [--sample 1000] [--seed 0]

Sources (../shared/curves/SOURCES.md): NAS-Bench-NLP (all 341 curves), TaskSet (sample), AlgoPerf
full-budget curves (ended_by == time_budget, sample). The monitored curve is ``val_metric`` with
its direction; ``train_loss`` is passed to rules that use it (Prechelt's PQ). Regret of a curve
= (best - kept) / (best - first) in "higher is better" units, over the whole curve; a kept NaN
counts as regret 1. Cost = epochs run / epochs in the curve.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from curvecheck.stopping import replay

ROOT = Path(__file__).resolve().parent.parent


def load_curves(curves_dir: Path, sample: int, seed: int, exclude: set | None = None) -> dict[str, list[dict]]:
    """A sample of `sample` curves per source (all of NAS-Bench-NLP), drawing from curves not in `exclude`."""
    rng = np.random.default_rng(seed)
    sets = {}
    specs = [("nasbench_nlp", curves_dir / "nasbench_nlp_wt2_curves.csv", None),
             ("taskset", curves_dir / "taskset_dpl_curves.csv.gz", None),
             ("algoperf_full", curves_dir / "algoperf_curves.csv.gz", curves_dir / "algoperf_curve_meta.csv")]
    for name, path, meta in specs:
        df = pd.read_csv(path)
        if meta is not None:
            m = pd.read_csv(meta)
            keep = set(m.loc[m["ended_by"] == "time_budget", "curve_id"])
            df = df[df["curve_id"].isin(keep)]
        ids = df["curve_id"].unique()
        if exclude:
            ids = np.array([i for i in ids if i not in exclude])
        if len(ids) == 0:
            continue
        if len(ids) > sample:
            ids = rng.choice(ids, size=sample, replace=False)
        chosen = set(ids)
        curves = []
        for cid, g in df[df["curve_id"].isin(chosen)].groupby("curve_id", sort=True):
            g = g.sort_values("epoch")
            if len(g) < 3:
                continue
            higher = str(g["metric_higher_is_better"].iloc[0]) == "True"
            curves.append({"id": cid, "values": g["val_metric"].to_numpy(float),
                           "train": g["train_loss"].to_numpy(float), "mode": "max" if higher else "min"})
        sets[name] = curves
    return sets


def regret_and_cost(curve: dict, kept: int | None, seen: int) -> tuple[float, float]:
    v = curve["values"]
    g = v if curve["mode"] == "max" else -v
    finite = np.isfinite(g)
    if not finite.any():
        return 0.0, seen / len(v)
    best = np.nanmax(g)
    first = g[np.argmax(finite)]
    span = best - first
    if kept is None or not np.isfinite(g[kept]):
        r = 1.0
    elif span <= 0:
        r = 0.0
    else:
        r = float(np.clip((best - g[kept]) / span, 0.0, 1.0))
    return r, seen / len(v)


def oracle(curve: dict, within: float = 0.0) -> tuple[int, int]:
    """Hindsight: stop at the best epoch, or at the first epoch within `within` of the best improvement."""
    v = curve["values"]
    g = np.where(np.isfinite(v), v if curve["mode"] == "max" else -v, -np.inf)
    best_i = int(np.argmax(g))
    if within <= 0:
        return best_i, best_i + 1
    first = g[np.argmax(np.isfinite(g))]
    span = g[best_i] - first
    ok = np.nonzero(g >= g[best_i] - within * max(span, 0))[0]
    i = int(ok[0])
    return i, i + 1


RULE_GRID = [
    ("keras patience 5", "keras", {"patience": 5}),
    ("keras patience 10", "keras", {"patience": 10}),
    ("keras patience 20", "keras", {"patience": 20}),
    ("keras patience 30", "keras", {"patience": 30}),
    ("Prechelt GL2", "gl", {"alpha": 2}),
    ("Prechelt GL5", "gl", {"alpha": 5}),
    ("Prechelt PQ0.5", "pq", {"alpha": 0.5}),
    ("Prechelt PQ2", "pq", {"alpha": 2}),
    ("Prechelt UP2", "up", {"s": 2}),
    ("Prechelt UP3", "up", {"s": 3}),
    ("keras patience 22", "keras", {"patience": 22}),
    ("curvecheck auto", "auto", {}),
]


def evaluate(sets: dict[str, list[dict]], grid=RULE_GRID) -> pd.DataFrame:
    rows = []
    for set_name, curves in sets.items():
        for label, rule, params in grid:
            rs, cs = [], []
            for c in curves:
                res = replay(c["values"], mode=c["mode"], train_values=c["train"], rule=rule, **params)
                r, cost = regret_and_cost(c, res.kept_index, res.epochs_seen)
                rs.append(r)
                cs.append(cost)
            rows.append({"set": set_name, "rule": label, "regret": np.mean(rs), "cost": np.mean(cs), "n": len(curves)})
        for label, within in (("oracle: best epoch", 0.0), ("oracle: first within 2% of best", 0.02)):
            rc = [regret_and_cost(c, *oracle(c, within)) for c in curves]
            rows.append({"set": set_name, "rule": label, "regret": np.mean([r for r, _ in rc]),
                         "cost": np.mean([c for _, c in rc]), "n": len(curves)})
    df = pd.DataFrame(rows)
    pooled = df.assign(w_regret=df.regret * df.n, w_cost=df.cost * df.n).groupby("rule", sort=False).agg(
        w_regret=("w_regret", "sum"), w_cost=("w_cost", "sum"), n=("n", "sum"))
    pooled = pooled.assign(regret=pooled.w_regret / pooled.n, cost=pooled.w_cost / pooled.n, set="all")
    return pd.concat([df, pooled.reset_index()[["set", "rule", "regret", "cost", "n"]]], ignore_index=True)


def markdown_table(df: pd.DataFrame) -> str:
    sets = list(dict.fromkeys(df["set"]))
    head = "| rule | " + " | ".join(f"{s} regret | {s} cost" for s in sets) + " |"
    lines = [head, "| --- |" + " ---: | ---: |" * len(sets)]
    for rule in dict.fromkeys(df["rule"]):
        cells = []
        for s in sets:
            r = df[(df.rule == rule) & (df.set == s)].iloc[0]
            cells += [f"{r.regret:.3f}", f"{r.cost:.3f}"]
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--curves", default=str(ROOT.parent / "shared" / "curves"))
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    sets = load_curves(Path(args.curves), args.sample, args.seed)
    print("tuning sample (seed 0):", {k: len(v) for k, v in sets.items()})
    print(markdown_table(evaluate(sets)))
    used = {c["id"] for curves in sets.values() for c in curves}
    held = load_curves(Path(args.curves), args.sample, args.seed + 1, exclude=used)
    print("\nheld-out sample (seed 1, disjoint from the tuning sample):", {k: len(v) for k, v in held.items()})
    print(markdown_table(evaluate(held)))
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
