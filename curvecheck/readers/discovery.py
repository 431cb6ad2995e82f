"""Finding every run below a folder or a glob, as TensorBoard does for a logdir.

- a folder that directly holds ``events.out.tfevents.*`` files is a run, except that Keras'
  ``train/`` + ``validation/`` pair under one parent is one run (the parent);
- a Hugging Face output folder (``trainer_state.json`` or ``checkpoint-N/trainer_state.json``)
  is one run; its checkpoint folders are not searched further;
- every other CSV/TSV/JSON/JSONL log file (also ``.gz``) is a run.

Symbolic links to folders are not followed (a link loop cannot trap the walk); a folder that
cannot be listed is reported by the caller as one unreadable run, the others are still found.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

_EVENT_PREFIX = "events.out.tfevents."
_KERAS_SPLITS = {"train", "validation", "eval", "val"}
_LOG_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".log")
# JSON files found beside logs that are configuration, not training histories
_NOT_LOGS = {
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json",
    "special_tokens_map.json", "adapter_config.json", "preprocessor_config.json", "training_args.json",
    "package.json", "added_tokens.json", "all_results.json", "train_results.json", "eval_results.json",
    "test_results.json", "model.safetensors.index.json", "scheduler.json", "rng_state.json",
}
_STATE = "trainer_state.json"


def is_log_file(name: str) -> bool:
    low = name.lower()
    if low.endswith(".gz"):
        low = low[:-3]
    return low.endswith(_LOG_SUFFIXES) and low not in _NOT_LOGS and not low.endswith(".schema.json")


def _is_hf_output(dirpath: str, dirnames: list[str], filenames: list[str]) -> bool:
    if _STATE in filenames:
        return True
    return any(d.startswith("checkpoint-") and os.path.isfile(os.path.join(dirpath, d, _STATE)) for d in dirnames)


def find_runs(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every run below ``root``, in a stable order, and the folders that could not be listed."""
    runs: list[Path] = []
    errors: list[tuple[Path, str]] = []

    def on_error(exc: OSError) -> None:
        errors.append((Path(exc.filename or root), exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        if _is_hf_output(dirpath, dirnames, filenames):
            runs.append(here)
            dirnames[:] = [d for d in dirnames if not d.startswith("checkpoint-")]
            filenames = [f for f in filenames if f != _STATE]
        if any(f.startswith(_EVENT_PREFIX) for f in filenames):
            parent = here.parent
            if here.name in _KERAS_SPLITS and here != root and _has_keras_pair(parent):
                if parent not in runs:
                    runs.append(parent)
            elif here != root and _is_add_scalars_folder(here):
                pass  # torch add_scalars output: read with the run folder above it
            else:
                runs.append(here)
        runs.extend(here / f for f in sorted(filenames) if is_log_file(f) and not f.startswith("."))
    return runs, errors


def _is_add_scalars_folder(folder: Path) -> bool:
    from .tensorboard import is_add_scalars_folder

    try:
        return is_add_scalars_folder(folder)
    except OSError:
        return False


def _has_keras_pair(parent: Path) -> bool:
    try:
        names = {p.name for p in parent.iterdir() if p.is_dir()}
    except OSError:
        return False
    return "train" in names and bool(names & (_KERAS_SPLITS - {"train"}))


def expand(paths: list[str | Path]) -> list[tuple[Path, str | None]]:
    """Each argument as runs, in argument order: ``(path, None)`` for a run, ``(path, problem)`` for an
    argument or folder that yields none. A file (or '-') is itself, a folder the runs below it, a glob
    its matches. A folder that is itself one run (a TensorBoard run folder, a Hugging Face output
    folder, a Keras ``logs/`` with train/ and validation/) stays one run.
    """
    out: list[tuple[Path, str | None]] = []
    for arg in paths:
        text = str(arg)
        if text != "-" and not os.path.lexists(text) and glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                out.append((Path(text), "no file matches this pattern"))
            out.extend(expand(list(matches)))
            continue
        path = Path(arg)
        if text != "-" and path.is_dir():
            runs, errs = find_runs(path)
            out.extend((p, why) for p, why in errs)
            out.extend((p, None) for p in runs)
            if not runs and not errs:
                out.append((path, "directory holds no training logs"))
        else:
            out.append((path, None))
    return list(dict.fromkeys(out))


def run_names(paths: list[Path]) -> list[str]:
    """Short unique names: the file or folder name, with parent folders added where names repeat."""
    parts = [p.parts if str(p) != "-" else ("<stdin>",) for p in paths]
    depth = [1] * len(paths)
    while True:
        names = ["/".join(pp[-d:]) for pp, d in zip(parts, depth, strict=True)]
        seen: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            seen.setdefault(n, []).append(i)
        clashes = [i for idx in seen.values() if len(idx) > 1 for i in idx if depth[i] < len(parts[i])]
        if not clashes:
            return names
        for i in clashes:
            depth[i] += 1
