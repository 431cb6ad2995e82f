"""Finding every run below a folder or a glob, as TensorBoard does for a logdir.

- a folder that directly holds ``events.out.tfevents.*`` files is a run, except that Keras'
  ``train/`` + ``validation/`` pair under one parent is one run (the parent) and torch
  ``add_scalars`` sub-folders belong to the run above them (one rule:
  :func:`curvecheck.readers.tensorboard.run_folder`); an event file under another name (a renamed
  copy) is found by its first record's length and CRC and is a run of its own;
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
    from .tensorboard import event_files, run_folder, unreadable_splits

    runs: list[Path] = []
    folder_runs: set[Path] = set()
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
        logs: list[str] = []
        others: list[str] = []
        for f in filenames:
            (logs if is_log_file(f) else others).append(f)
        logs = [f for f in logs if not f.startswith(".")]
        named, renamed = event_files(dirpath, others)
        if named:
            run = run_folder(here, root)
            if run not in folder_runs:
                folder_runs.add(run)
                runs.append(run)
        runs.extend(here / f for f in sorted([*renamed, *logs]))
    if errors:  # a Keras split folder of a run found here is reported once, by that run's reader
        splits = {split for run in runs for split, _ in unreadable_splits(run)}
        errors = [(p, why) for p, why in errors if p not in splits]
    return runs, errors


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
