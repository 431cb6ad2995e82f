"""Do the diagnostics generalise beyond the labelled logs? False alarms on healthy curves, detection of clear cases.

    python benchmarks/check_generalisation.py            # 50 curves per cell (a few minutes)
    python benchmarks/check_generalisation.py --n 10     # quicker

The labelled set (``../shared/eval``) is what the checks were developed on; a perfect score there says
little about logs nobody has looked at. This script draws synthetic but realistic Keras-style runs
(``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch) whose correct labels are known *by
construction*, under the rules of ``../shared/eval/LABELS.md``, and counts:

* **healthy**: both losses decay exponentially towards a floor (time constant 0.2-0.35 of the run, so
  the run converges gently to its end), multiplicative validation noise of ``noise`` (training is an epoch
  average: a third of that), accuracies follow the loss with absolute noise ``noise / 5``. A careful
  engineer reports nothing here except, perhaps, a plateau or undertrained (both ``unsure``: they depend on
  where the decay ends); every other kind is a false alarm.
* **clear cases**, each on such a healthy run: an isolated 3x spike of the validation loss mid-run; a
  validation loss that swings +-40 % of its level, alternating, over the middle half of the run; a clean
  overfitting curve (val loss bottoms out at a third of the run and ends 40 % above its best while training
  keeps falling); a plateau (the decay is over within the first fifth, then only noise); a divergence
  (training loss climbs to 5x its best from 40 % of the run on and stays there). The kind itself is ``yes``;
  kinds that the construction makes clearly absent are ``no`` (false alarms); the rest ``unsure``.

Noise levels 0.5 %, 2 %, 5 %, 10 % of the level; lengths 10, 30, 100, 300 epochs. Seeds are fixed, so
the table is reproducible. Synthetic curves cannot prove that a check is right on real logs (the
labelled set and the real-log tests do that); they show whether a rule fires on noise or misses the
obvious as the noise and the run length change, which is where fitted thresholds give themselves away.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable

import numpy as np

from curvecheck.checks import run_checks
from curvecheck.findings import KINDS
from curvecheck.model import Run, make_series

NOISES = (0.005, 0.02, 0.05, 0.1)
LENGTHS = (10, 30, 100, 300)

# kinds a clean noisy curve can never show (lr_schedule: no LR is logged; data_integrity: clean epochs)
ALWAYS_ABSENT = ("non_finite", "divergence", "spike", "overfitting", "oscillation", "loss_metric_divergence",
                 "stuck_metric", "suspicious_validation", "data_integrity", "lr_schedule")


def _run(cols: dict[str, np.ndarray]) -> Run:
    n = len(next(iter(cols.values())))
    series = {name: make_series(name, np.arange(n), v) for name, v in cols.items()}
    return Run(source="synthetic.csv", format="keras_csv", x_axis="epoch", series=series)


def healthy_columns(n: int, noise: float, rng: np.random.Generator, tau_share: tuple[float, float] = (0.2, 0.35),
                    ) -> dict[str, np.ndarray]:
    """Clean columns (no noise yet on the shape parameters) plus noise: see the module docstring."""
    t = np.arange(n, dtype=float)
    tau = max(1.0, rng.uniform(*tau_share) * n)
    start, floor = rng.uniform(1.5, 2.5), rng.uniform(0.05, 0.3)
    gap = rng.uniform(0.02, 0.1)
    decay = np.exp(-t / tau)
    train_clean = floor + (start - floor) * decay
    val_clean = floor + gap + (start - floor) * decay
    acc_start, acc_end = rng.uniform(0.3, 0.5), rng.uniform(0.8, 0.95)
    acc_clean = acc_end - (acc_end - acc_start) * decay
    return {
        "loss": train_clean * (1 + noise / 3 * rng.standard_normal(n)),
        "accuracy": np.clip(acc_clean + 0.01 + noise / 15 * rng.standard_normal(n), 0, 1),
        "val_loss": val_clean * (1 + noise * rng.standard_normal(n)),
        "val_accuracy": np.clip(acc_clean + noise / 5 * rng.standard_normal(n), 0, 1),
    }


def spike(n, noise, rng):
    c = healthy_columns(n, noise, rng)
    k = n // 2
    c["val_loss"][k] = 3 * float(np.median(c["val_loss"][max(0, k - 3):k + 4]))
    return c


def oscillation(n, noise, rng):
    c = healthy_columns(n, noise, rng)
    a, b = n // 4, n - n // 4
    c["val_loss"][a:b] *= 1 + 0.4 * (-1.0) ** np.arange(b - a)
    return c


def overfitting(n, noise, rng):
    c = healthy_columns(n, noise, rng, tau_share=(0.08, 0.1))
    t = np.arange(n, dtype=float)
    t0 = n // 3
    best = float(np.median(c["val_loss"][t0 - 2:t0 + 3])) if n >= 10 else float(c["val_loss"][t0])
    rise = np.clip((t - t0) / (n - 1 - t0), 0, None) ** 1.5
    c["val_loss"] = c["val_loss"] + 0.4 * best * rise
    c["val_accuracy"] = c["val_accuracy"] - 0.05 * rise  # it gets worse too (no metric disagreement)
    c["loss"] = c["loss"] * (1 - 0.5 * rise)  # while training keeps improving (by half its level by the end)
    return c


def plateau(n, noise, rng):
    return healthy_columns(n, noise, rng, tau_share=(0.03, 0.05))


def divergence(n, noise, rng):
    c = healthy_columns(n, noise, rng)
    t0 = int(0.4 * n)
    for name in ("loss", "val_loss"):
        level = float(np.median(c[name][max(0, t0 - 3):t0 + 1]))
        ramp = np.clip((np.arange(n) - t0) / 2, 0, 1)  # reaches 5x within 2 epochs, then stays
        c[name] = c[name] * (1 + 4 * ramp * level / c[name].clip(1e-9))
    for name in ("accuracy", "val_accuracy"):
        c[name] = np.where(np.arange(n) > t0, c[name] * 0.6, c[name])
    return c


def small_validation_set(n, noise, rng, samples: int = 50):
    """Healthy, but the validation accuracy is measured on ``samples`` samples (binomial, moves by 1/samples)."""
    c = healthy_columns(n, noise, rng)
    c["val_accuracy"] = rng.binomial(samples, np.clip(c["val_accuracy"], 0, 1)) / samples
    return c


# family -> (generator, the kind it shows, kinds clearly absent by construction)
CASES: dict[str, tuple[Callable, str | None, tuple[str, ...]]] = {
    "healthy": (healthy_columns, None, ALWAYS_ABSENT),
    # swings of +-0.05 accuracy on a 50-sample set: oscillation and a loss/metric disagreement are 'unsure'
    "healthy, val acc on 50 samples": (small_validation_set, None, tuple(
        k for k in ALWAYS_ABSENT if k not in ("oscillation", "loss_metric_divergence"))),
    "spike 3x": (spike, "spike", ("non_finite", "divergence", "overfitting", "oscillation", "stuck_metric",
                                  "suspicious_validation", "data_integrity", "lr_schedule")),
    "oscillation +-40%": (oscillation, "oscillation", ("non_finite", "divergence", "overfitting", "stuck_metric",
                                                      "suspicious_validation", "data_integrity", "lr_schedule")),
    "overfitting +40%": (overfitting, "overfitting", ("non_finite", "divergence", "spike", "oscillation",
                                                     "stuck_metric", "suspicious_validation", "data_integrity",
                                                     "lr_schedule", "undertrained")),
    "plateau": (plateau, "plateau", ("non_finite", "divergence", "spike", "overfitting", "oscillation",
                                     "loss_metric_divergence", "stuck_metric", "suspicious_validation",
                                     "data_integrity", "lr_schedule", "undertrained")),
    "divergence 5x": (divergence, "divergence", ("non_finite", "overfitting", "suspicious_validation",
                                                 "data_integrity", "lr_schedule", "undertrained")),
}


def measure(family: str, n: int, noise: float, count: int, seed: int = 0) -> tuple[int, int, Counter]:
    """(runs where the family's kind was found, runs with at least one false alarm, false alarms per kind).
    Only findings of severity warning or error count as alarms (info findings are remarks)."""
    make, target, absent = CASES[family]
    rng = np.random.default_rng([seed, n, int(noise * 1000), sum(map(ord, family))])
    hits, alarmed, wrong = 0, 0, Counter()
    for _ in range(count):
        findings, _notes = run_checks(_run(make(n, noise, rng)))
        kinds = {f.kind for f in findings}
        hits += target in kinds
        bad = {f.kind for f in findings if f.kind in absent and f.severity in ("warning", "error")}
        alarmed += bool(bad)
        wrong.update(bad)
    return hits, alarmed, wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="runs per (family, length, noise) cell")
    ap.add_argument("--families", nargs="*", default=list(CASES))
    args = ap.parse_args()
    assert set(ALWAYS_ABSENT) <= set(KINDS)
    print("| family | epochs | noise | found | runs with a false alarm | false alarms by kind |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for family in args.families:
        target = CASES[family][1]
        for n in LENGTHS:
            for noise in NOISES:
                hits, alarmed, wrong = measure(family, n, noise, args.n)
                found = f"{hits / args.n:.2f}" if target else "-"
                kinds = ", ".join(f"{k} {v}" for k, v in wrong.most_common()) or "-"
                print(f"| {family} | {n} | {noise:g} | {found} | {alarmed / args.n:.2f} | {kinds} |", flush=True)


if __name__ == "__main__":
    main()
