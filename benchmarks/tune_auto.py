"""How the defaults of the `auto` stopping rule were chosen (kept for reproducibility).

    python benchmarks/tune_auto.py

Grid search on the *tuning* sample of benchmarks/stop_quality.py only (the confirmation sample is
never looked at here). A setting qualifies when its pooled regret is <= 0.016 and every real
source's regret is <= 0.025; among those the cheapest wins. The chosen setting is then measured on
the confirmation sample by stop_quality.py.
"""

from __future__ import annotations

import itertools

import numpy as np
from stop_quality import SURROGATE, load_samples, score_rule


def pooled(tuning: dict, params: dict) -> tuple[float, float, dict[str, float]]:
    per_source, rs, cs, ns = {}, [], [], []
    for name, curves in tuning.items():
        if name == SURROGATE[0]:
            continue
        r, c = score_rule(curves, "auto", params)
        per_source[name] = r
        rs.append(r * len(curves))
        cs.append(c * len(curves))
        ns.append(len(curves))
    return float(np.sum(rs) / np.sum(ns)), float(np.sum(cs) / np.sum(ns)), per_source


def main() -> None:
    tuning, _confirmation = load_samples()
    grid = {"eps": [0.02, 0.03, 0.04], "z": [0.5, 1.0, 1.5], "window_frac": [0.25, 0.3, 0.35]}
    results = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values))
        r, c, per = pooled(tuning, params)
        results.append((r, c, per, params))
        print(f"{r:.4f} {c:.4f} {' '.join(f'{k}={v:.3f}' for k, v in per.items())} {params}", flush=True)
    ok = [x for x in results if x[0] <= 0.016 and max(x[2].values()) <= 0.025]
    print("\nqualifying settings, cheapest first:")
    for r, c, per, p in sorted(ok, key=lambda x: x[1])[:10]:
        print(f"  regret {r:.4f} cost {c:.4f} worst source {max(per.values()):.3f} {p}")


if __name__ == "__main__":
    main()
