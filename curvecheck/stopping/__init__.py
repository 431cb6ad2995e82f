"""Early-stopping rules: one interface, replayable over a finished log and usable online.

Every rule is a small state machine like a Keras callback (:class:`~.base.StopRule`):
``update(value, train_value=None) -> bool`` says "stop now?", ``best_index`` / ``kept_index`` say
which evaluation's checkpoint is kept, ``reason`` why it stopped. Defaults live in each rule's
constructor (documented in its Args section). :func:`replay` feeds a rule a whole curve, one
evaluation at a time, so a replay and live use (``curvecheck watch``, the Keras and Lightning
callbacks) cannot disagree.

- ``auto``: curvecheck's rule, noise-banded relative progress (:class:`~.auto.AutoRule`).
- ``keras``: keras.callbacks.EarlyStopping (Keras 3), reproduced exactly.
- ``lightning``: lightning.pytorch.callbacks.EarlyStopping.
- ``gl``, ``pq``, ``up``: Prechelt 1998, "Early Stopping - But When?".
- ``threshold``: stop once conditions such as ``val_loss<0.1`` held for ``patience`` evaluations.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..errors import UsageError
from .auto import AutoRule
from .base import StopResult, StopRule
from .combined import CombinedScore, normalised_scores
from .keras import KerasEarlyStopping
from .lightning import LightningEarlyStopping
from .prechelt import PrecheltGL, PrecheltPQ, PrecheltUP
from .threshold import ThresholdRule, parse_conditions

RULE_CLASSES: dict[str, type[StopRule]] = {
    "auto": AutoRule, "keras": KerasEarlyStopping, "lightning": LightningEarlyStopping,
    "gl": PrecheltGL, "pq": PrecheltPQ, "up": PrecheltUP, "threshold": ThresholdRule,
}
RULES = tuple(RULE_CLASSES)

__all__ = [
    "RULES",
    "RULE_CLASSES",
    "AutoRule",
    "CombinedScore",
    "KerasEarlyStopping",
    "LightningEarlyStopping",
    "PrecheltGL",
    "PrecheltPQ",
    "PrecheltUP",
    "StopResult",
    "StopRule",
    "ThresholdRule",
    "make_rule",
    "normalised_scores",
    "parse_conditions",
    "replay",
    "rule_settings",
]


def rule_settings(rule: str) -> dict[str, Any]:
    """The settings a rule takes and their defaults (from its constructor)."""
    if rule not in RULE_CLASSES:
        raise ValueError(f"unknown rule '{rule}' (choose from {', '.join(RULES)})")
    sig = inspect.signature(RULE_CLASSES[rule].__init__)
    return {name: p.default for name, p in sig.parameters.items() if name not in ("self", "mode")}


def make_rule(rule: str, mode: str = "min", **params: Any) -> StopRule:
    """A fresh rule object by name (see :data:`RULES`); unknown settings are a UsageError."""
    known = rule_settings(rule)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise UsageError(f"strategy '{rule}' has no setting {', '.join(unknown)} "
                         f"(its settings: {', '.join(known)})")
    return RULE_CLASSES[rule](mode=mode, **params)


def replay(values, mode: str = "min", train_values=None, rule: str = "auto", epochs=None,
           **params: Any) -> StopResult:
    """Replay a stopping rule over a whole curve, as if training had run with it.

    ``values`` is the monitored curve (NaN allowed), ``mode`` 'min' or 'max', ``train_values`` the
    training curve when the rule uses it (Prechelt's PQ), ``epochs`` the log's epoch numbers
    (default 0, 1, 2...). The rule is fed one evaluation at a time and stops at the first True.
    Returns where it stopped and which checkpoint it keeps (indices into ``values``).

    >>> replay([1.0, 0.8, 0.7, 0.72, 0.71, 0.73], rule="keras", patience=2).stop_index
    4
    """
    return feed(make_rule(rule, mode=mode, **params), values, train_values, epochs)


def feed(state: StopRule, values, train_values=None, epochs=None) -> StopResult:
    """Feed a rule every evaluation of a curve (or rows of values, for :class:`CombinedScore`)."""
    values = np.asarray(values, dtype=np.float64)
    train = None if train_values is None else np.asarray(train_values, dtype=np.float64)
    for i in range(values.shape[0]):
        v = values[i] if values.ndim > 1 else float(values[i])
        tv = None if train is None else float(train[i])
        if state.update(v, tv, epoch=None if epochs is None else int(epochs[i])):
            break
    return state.result()
