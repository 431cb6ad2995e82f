"""Hugging Face ``trainer_state.json`` (Trainer / Seq2SeqTrainer), given as the file, a ``checkpoint-N``
folder or the training output folder.

``log_history`` is a list of entries: training entries every ``logging_steps`` (``loss``,
``learning_rate``, ``grad_norm``), evaluation entries every ``eval_steps`` (``eval_loss``,
``eval_<metric>``), and a final summary (``train_loss`` averaged over the run, ``train_runtime``)
that is not a point of any curve. Every entry has ``step`` (the global step) and a fractional
``epoch``. The log is step-based: x is the step (checkpoints are named by it), and the epochs
the log gives are kept as the bookkeeping series ``epoch``.

Run metadata: ``planned_epochs`` (``num_train_epochs``), ``planned_steps`` (``max_steps``),
``best_model_checkpoint``, ``best_metric``, ``summary`` (the final entry) and ``checkpoints``:
``{step: path}`` of the ``checkpoint-N`` folders on disk beside the state, so a recommendation
can name the one to keep.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import Note, Run
from .common import MAX_X, run_from_table
from .keras_json import parse_json
from .registry import ReadOptions
from .source import Source, is_stdin, read_bytes

STATE_FILE = "trainer_state.json"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def _checkpoint_dirs(folder: Path) -> dict[int, Path]:
    try:
        children = list(folder.iterdir())
    except OSError:
        return {}
    out: dict[int, Path] = {}
    for child in children:
        m = _CHECKPOINT_RE.match(child.name)
        if m and child.is_dir():
            out[int(m.group(1))] = child
    return dict(sorted(out.items()))


def find_trainer_state(folder: Path) -> Path | None:
    """The state file of an output or checkpoint folder: its own, else the latest checkpoint's."""
    own = folder / STATE_FILE
    if own.is_file():
        return own
    for _step, ckpt in reversed(_checkpoint_dirs(folder).items()):
        if (ckpt / STATE_FILE).is_file():
            return ckpt / STATE_FILE
    return None


def _output_dir(state: Path) -> Path:
    parent = state.parent
    return parent.parent if _CHECKPOINT_RE.match(parent.name) else parent


def _rows(entries: list) -> tuple[list[dict], dict]:
    """Merge the train and eval entries logged at one step into one row; split off the summary."""
    rows: list[dict] = []
    summary: dict = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if "train_runtime" in entry:
            summary = entry
            continue
        step = entry.get("step")
        if not isinstance(step, (int, float)) or isinstance(step, bool) or not abs(step) <= MAX_X:
            continue  # no step, or not a count (NaN, inf, 1e308)
        last = rows[-1] if rows else None
        if last is not None and last["step"] == step and not (set(entry) - {"step", "epoch"}) & set(last):
            last.update(entry)
        else:
            rows.append(dict(entry))
    return rows, summary


def read(source: Source, options: ReadOptions) -> Run:
    state_path = source.path
    data = source.data
    if source.is_dir:
        found = find_trainer_state(source.path)
        if found is None:
            raise InputError(source.label, f"no {STATE_FILE} in this folder or its checkpoint-N folders")
        state_path, data = found, read_bytes(found)
    label = str(state_path) if not is_stdin(state_path) else source.label
    try:
        doc = parse_json((data or b"").decode("utf-8-sig", errors="replace"))
    except ValueError as exc:
        raise InputError(label, f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("log_history"), list):
        raise InputError(label, "not a Hugging Face trainer_state.json (no log_history list)")
    rows, summary = _rows(doc["log_history"])
    if not rows:
        raise InputError(label, "trainer_state.json has an empty log_history: nothing was logged yet")

    keys = list(dict.fromkeys(k for r in rows for k in r if k != "step"))
    x = np.array([float(r["step"]) for r in rows])
    columns: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for key in keys:
        vals = [r.get(key) for r in rows]
        mask = np.array([isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals])
        if mask.any():
            columns[key] = np.array([float(v) if m and v is not None else np.nan
                                     for v, m in zip(vals, mask, strict=True)])
            present[key] = mask
    meta: dict = {"summary": {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}}
    for meta_key, doc_key in (("planned_epochs", "num_train_epochs"), ("planned_steps", "max_steps"),
                              ("best_model_checkpoint", "best_model_checkpoint"), ("best_metric", "best_metric"),
                              ("best_global_step", "best_global_step")):
        if doc.get(doc_key) is not None:
            meta[meta_key] = doc[doc_key]
    if not is_stdin(state_path):
        meta["checkpoints"] = {step: str(p) for step, p in _checkpoint_dirs(_output_dir(state_path)).items()}
    notes = [Note("step_axis", "Hugging Face logs are step-based: x is the global step; the log's fractional "
                               "epochs are kept as the series 'epoch'")]
    run = run_from_table(Path(label), "hf_trainer_state", x, columns, present=present, x_axis="step",
                         notes=notes, segment=options.segment, directions=options.directions,
                         roles=options.roles, meta=meta)
    run.framework = "hf"
    return run
