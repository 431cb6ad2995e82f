"""Stop-rule quality on real learning curves: regret (share of the achievable improvement lost by
the kept checkpoint) and cost (share of the evaluations run), for each rule, plus a frontier plot.

    python benchmarks/stop_quality.py [--curves ../shared/curves] [--sample 1000] [--plot PNG]

Sources (../shared/curves/SOURCES.md): NAS-Bench-NLP (341 curves, split in two halves), TaskSet
and AlgoPerf full-budget curves (``ended_by == time_budget``). Each source's curves are shuffled
once (seed 0) and cut into a *tuning* sample (the first ``--sample``; `auto`'s settings were chosen
on it by benchmarks/tune_auto.py) and a disjoint *confirmation* sample (the next ``--sample``).
The surrogate LCBench curves (never tuned on; predicted, not measured) are reported apart.

The monitored curve is ``val_metric`` with its direction; ``train_loss`` is passed to rules that
use it (Prechelt's PQ). Regret of a curve = (best - kept) / (best - first) in "higher is better"
units over the whole curve; a kept NaN counts as regret 1. Cost = evaluations run / evaluations in
the curve. "planned" variants are told the curve's length (the planned number of epochs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from curvecheck.stopping import replay

ROOT = Path(__file__).resolve().parent.parent
CURVES = next((p / "shared" / "curves" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "curves").is_dir()),
              ROOT.parent / "shared" / "curves")
SOURCES = [("nasbench_nlp", "nasbench_nlp_wt2_curves.csv", None),
           ("taskset", "taskset_dpl_curves.csv.gz", None),
           ("algoperf_full", "algoperf_curves.csv.gz", "algoperf_curve_meta.csv")]
SURROGATE = ("lcbench_surrogate", "SURROGATE_lcbench_yahpo_curves.csv.gz", None)


def _read_source(curves_dir: Path, file: str, meta: str | None) -> pd.DataFrame:
    df = pd.read_csv(curves_dir / file)
    if meta is not None:
        m = pd.read_csv(curves_dir / meta)
        df = df[df["curve_id"].isin(set(m.loc[m["ended_by"] == "time_budget", "curve_id"]))]
    return df


def _curves(df: pd.DataFrame, ids) -> list[dict]:
    chosen = set(ids)
    out = []
    for cid, g in df[df["curve_id"].isin(chosen)].groupby("curve_id", sort=True):
        g = g.sort_values("epoch")
        if len(g) < 3:
            continue
        higher = str(g["metric_higher_is_better"].iloc[0]) == "True"
        out.append({"id": cid, "values": g["val_metric"].to_numpy(float),
                    "train": g["train_loss"].to_numpy(float), "mode": "max" if higher else "min"})
    return out


def load_samples(curves_dir: Path = CURVES, sample: int = 1000, seed: int = 0,
                 surrogate: bool = False) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """(tuning, confirmation): disjoint samples per source, each at most ``sample`` curves."""
    rng = np.random.default_rng(seed)
    tuning, confirmation = {}, {}
    for name, file, meta in SOURCES + ([SURROGATE] if surrogate else []):
        df = _read_source(curves_dir, file, meta)
        ids = np.array(sorted(df["curve_id"].unique()))
        rng.shuffle(ids)
        n = min(sample, len(ids) // 2)
        tuning[name], confirmation[name] = _curves(df, ids[:n]), _curves(df, ids[n:2 * n])
    return tuning, confirmation


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
    """Hindsight: stop at the best evaluation, or at the first within `within` of the best improvement."""
    v = curve["values"]
    g = np.where(np.isfinite(v), v if curve["mode"] == "max" else -v, -np.inf)
    best_i = int(np.argmax(g))
    if within <= 0:
        return best_i, best_i + 1
    first = g[np.argmax(np.isfinite(g))]
    ok = np.nonzero(g >= g[best_i] - within * max(g[best_i] - first, 0))[0]
    return int(ok[0]), int(ok[0]) + 1


PLANNED = object()  # marks a setting that gets the curve's length as planned_epochs

RULE_GRID = ([(f"keras patience {p}", "keras", {"patience": p}) for p in (5, 8, 10, 12, 15, 20, 25, 30)]
             + [(f"Prechelt GL{a:g}", "gl", {"alpha": a}) for a in (1, 2, 5, 10)]
             + [(f"Prechelt PQ{a:g}", "pq", {"alpha": a}) for a in (0.5, 1, 2, 4)]
             + [(f"Prechelt UP{s}", "up", {"s": s}) for s in (1, 2, 3, 4)]
             + [("curvecheck auto", "auto", {}),
                ("curvecheck auto, planned epochs", "auto", {"planned_epochs": PLANNED})])


def score_rule(curves: list[dict], rule: str, params: dict) -> tuple[float, float]:
    rs, cs = [], []
    for c in curves:
        p = {k: (len(c["values"]) if v is PLANNED else v) for k, v in params.items()}
        res = replay(c["values"], mode=c["mode"], train_values=c["train"], rule=rule, **p)
        r, cost = regret_and_cost(c, res.kept_index, res.epochs_seen)
        rs.append(r)
        cs.append(cost)
    return float(np.mean(rs)), float(np.mean(cs))


def evaluate(sets: dict[str, list[dict]], grid=RULE_GRID) -> pd.DataFrame:
    rows = []
    for set_name, curves in sets.items():
        for label, rule, params in grid:
            r, c = score_rule(curves, rule, params)
            rows.append({"set": set_name, "rule": label, "regret": r, "cost": c, "n": len(curves)})
        for label, within in (("oracle: best epoch", 0.0), ("oracle: first within 2% of best", 0.02)):
            rc = [regret_and_cost(c, *oracle(c, within)) for c in curves]
            rows.append({"set": set_name, "rule": label, "regret": np.mean([r for r, _ in rc]),
                         "cost": np.mean([c for _, c in rc]), "n": len(curves)})
    df = pd.DataFrame(rows)
    real = df[df.set != SURROGATE[0]]
    pooled = real.assign(w_regret=real.regret * real.n, w_cost=real.cost * real.n).groupby("rule", sort=False).agg(
        w_regret=("w_regret", "sum"), w_cost=("w_cost", "sum"), n=("n", "sum"))
    pooled = pooled.assign(regret=pooled.w_regret / pooled.n, cost=pooled.w_cost / pooled.n, set="pooled")
    return pd.concat([df, pooled.reset_index()[["set", "rule", "regret", "cost", "n"]]], ignore_index=True)


def dominating(df: pd.DataFrame, rule: str) -> dict[str, list[str]]:
    """Per set: the baselines with regret and cost both <= those of `rule` (one strictly lower)."""
    out = {}
    for s, part in df.groupby("set", sort=False):
        me = part[part.rule == rule].iloc[0]
        base = part[~part.rule.str.startswith(("curvecheck", "oracle"))]
        hits = base[(base.regret <= me.regret) & (base.cost <= me.cost)
                    & ((base.regret < me.regret) | (base.cost < me.cost))]
        out[s] = list(hits.rule)
    return out


def markdown_table(df: pd.DataFrame) -> str:
    sets = list(dict.fromkeys(df["set"]))
    head = "| rule | " + " | ".join(f"{s} (n={int(df[df.set == s].n.iloc[0])}) regret / cost" for s in sets) + " |"
    lines = [head, "| --- |" + " ---: |" * len(sets)]
    for rule in dict.fromkeys(df["rule"]):
        cells = []
        for s in sets:
            r = df[(df.rule == rule) & (df.set == s)].iloc[0]
            cells.append(f"{r.regret:.3f} / {r.cost:.3f}")
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def frontier_plot(df: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [s for s in dict.fromkeys(df["set"])]
    ncols = 3
    nrows = -(-(len(sets) + 1) // ncols)  # one more cell for the legend
    fig, grid = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.9 * nrows), squeeze=False)
    axes = [list(grid.flat)]
    families = [("keras patience", "o-", "tab:blue"), ("Prechelt GL", "s-", "tab:orange"),
                ("Prechelt PQ", "^-", "tab:green"), ("Prechelt UP", "v-", "tab:purple")]
    for ax, s in zip(axes[0], sets):
        part = df[df.set == s]
        for prefix, style, colour in families:
            fam = part[part.rule.str.startswith(prefix)].sort_values("cost")
            ax.plot(fam.cost, fam.regret, style, color=colour, ms=4, lw=1, label=prefix)
        for label, marker, colour in (("curvecheck auto", "*", "red"), ("curvecheck auto, planned epochs", "P", "darkred"),
                                      ("oracle: first within 2% of best", "x", "grey")):
            r = part[part.rule == label]
            ax.plot(r.cost, r.regret, marker, color=colour, ms=11 if marker == "*" else 8, label=label)
        ax.set_title(f"{s} (n={int(part.n.iloc[0])})", fontsize=10)
        ax.set_xlabel("cost (share of evaluations run)")
        ax.set_ylim(0, min(0.15, part.regret.max() * 1.05))
        ax.axhline(0.016, color="red", lw=0.5, ls=":")
        ax.axvline(0.70, color="red", lw=0.5, ls=":")
        ax.grid(alpha=0.3)
    for ax in axes[0][::ncols]:
        ax.set_ylabel("regret (share of improvement lost)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][len(sets):]:
        ax.axis("off")
    axes[0][len(sets)].legend(handles, labels, fontsize=9, loc="center")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--curves", default=str(CURVES))
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--plot", default=str(ROOT / "benchmarks" / "stop_frontier.png"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    tuning, confirmation = load_samples(Path(args.curves), args.sample, surrogate=True)
    for title, sets in (("tuning sample", tuning), ("confirmation sample", confirmation)):
        df = evaluate(sets)
        print(f"\n{title}:\n" + markdown_table(df))
        for rule in ("curvecheck auto", "curvecheck auto, planned epochs"):
            print(f"settings dominating {rule}:", dominating(df, rule))
        if title == "confirmation sample":
            frontier_plot(df, Path(args.plot), "Stop rules on the confirmation sample: regret vs cost")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
