"""curvecheck's own online stopping rule (``--strategy auto``).

Decides at each epoch from the epochs so far only:

1. **Only significant improvements reset the wait.** An epoch counts as progress when it beats the
   last *significant* best by more than ``eps`` (3%) of the improvement achieved so far. That is
   scale-free (it works the same for a loss of 5.0 and an accuracy of 0.9), it stops noise wiggles
   on a plateau from restarting the patience (the main waste of Keras' EarlyStopping with
   min_delta=0), and slow steady progress still adds up, because each step is compared with the
   last significant best, not with the last best.
2. **Wait** ``patience`` (22) epochs after the last significant improvement. Stalls that are later
   followed by real progress are long in real runs (initial plateaus, LR decays), so a short
   patience loses a lot; see benchmarks/RESULTS.md.
3. **Give up on broken runs:** ``nan_patience`` non-finite values in a row stop the run.

The kept checkpoint is the best epoch seen (what ``restore_best_weights=True`` restores).
Chosen on a 1000-curve sample per source of ../shared/curves (NAS-Bench-NLP, TaskSet, AlgoPerf),
checked on a disjoint held-out sample (benchmarks/tune_auto.py, benchmarks/stop_quality.py).
"""

from __future__ import annotations

import math


class AutoRule:
    name = "auto"

    def __init__(self, mode: str = "min", eps: float = 0.03, patience: int = 22, nan_patience: int = 3):
        if mode not in ("min", "max"):
            raise ValueError("mode must be 'min' or 'max'")
        self.sign = 1.0 if mode == "max" else -1.0
        self.eps, self.patience, self.nan_patience = eps, int(patience), int(nan_patience)
        self.params = {"mode": mode, "eps": eps, "patience": self.patience, "nan_patience": self.nan_patience}
        self.first = math.nan
        self.best, self.best_index = -math.inf, None
        self.sig_best, self.sig_index, self.sig_rank = -math.inf, None, 0
        self.nan_run = 0
        self.count = 0
        self.reason = ""
        self.extra: dict = {}

    def update(self, index: int, epoch: int, value: float, train_value: float | None = None) -> bool:
        self.count += 1
        g = self.sign * value
        if not math.isfinite(g):
            self.nan_run += 1
            if self.nan_run >= self.nan_patience:
                self.reason = f"{self.nan_run} non-finite values in a row"
                return True
            return False
        self.nan_run = 0
        if math.isnan(self.first):
            self.first = g
        if g > self.best:
            self.best, self.best_index = g, index
        threshold = self.eps * max(self.best - self.first, 0.0)
        if self.sig_index is None or g > self.sig_best + threshold:
            self.sig_best, self.sig_index, self.sig_rank = g, index, self.count - 1
        waited = self.count - 1 - self.sig_rank
        if waited >= self.patience:
            self.reason = (f"no improvement beyond {self.eps:.0%} of the progress so far for {waited} epochs "
                           f"(patience {self.patience})")
            self.extra = {"last_significant_index": self.sig_index}
            return True
        return False

    @property
    def kept_index(self) -> int | None:
        return self.best_index
