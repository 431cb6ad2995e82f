"""The formats curvecheck reads, declared once: ``{name: Reader}``.

Every format name a report prints is a key here and is accepted by ``--log-format``; several names
can share one reader module (the per-epoch CSV reader serves ``csv``, ``keras_csv``,
``ultralytics_csv`` and ``fastai_csv`` and names the flavour it recognised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module


@dataclass(frozen=True)
class Reader:
    name: str
    framework: str  # keras, lightning, hf, ultralytics, fastai, tensorboard, generic
    module: str  # curvecheck.readers.<module>, imported only when the format is read
    description: str

    def load(self):
        """The module's ``read(source, options) -> Run`` function."""
        return import_module(f"curvecheck.readers.{self.module}").read


@dataclass(frozen=True)
class ReadOptions:
    """What the user told us about a log (all optional)."""

    segment: int | None = None  # 1-based appended run; None = the last
    directions: dict[str, str] = field(default_factory=dict)  # --direction NAME=min|max|none
    x: str | None = None  # --x COLUMN: the x-axis column
    roles: dict[str, str] = field(default_factory=dict)  # --column NAME=ROLE


_ALL = (
    Reader("keras_csv", "keras", "csv_log", "Keras CSVLogger file (epoch first, NA for gaps)"),
    Reader("ultralytics_csv", "ultralytics", "csv_log", "Ultralytics/YOLO results.csv"),
    Reader("fastai_csv", "fastai", "csv_log", "fastai CSVLogger table (epoch, train_loss, valid_loss, ..., time)"),
    Reader("csv", "generic", "csv_log", "any per-epoch or per-step CSV/TSV table (pandas dumps, W&B exports)"),
    Reader("lightning_csv", "lightning", "lightning_csv", "PyTorch Lightning CSVLogger metrics.csv (sparse rows)"),
    Reader("long_csv", "generic", "long_csv", "long-format export: one row per (metric, step, value), e.g. MLflow"),
    Reader("keras_json", "keras", "keras_json", "Keras History JSON (dict of per-epoch lists, list of dicts)"),
    Reader("hf_trainer_state", "hf", "hf_trainer_state",
           "Hugging Face trainer_state.json (also a checkpoint or output folder)"),
    Reader("jsonl", "generic", "jsonl", "JSON Lines: one JSON object per logged step or epoch"),
    Reader("tensorboard", "tensorboard", "tb", "TensorBoard event files (a file or a run folder)"),
)
READERS: dict[str, Reader] = {r.name: r for r in _ALL}
FORMATS: tuple[str, ...] = tuple(READERS)


def framework_of(fmt: str) -> str:
    reader = READERS.get(fmt)
    return reader.framework if reader else "generic"
