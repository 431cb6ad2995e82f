"""Callback advice in the log's own framework: the line a user pastes into their training script.

Keras, PyTorch Lightning, Hugging Face Trainer and Ultralytics spell early stopping, LR reduction and
NaN handling differently; a Keras line is no help in a Lightning script. The framework comes from the
run (``run.framework`` when its reader knows it, else the log's format, layout and series names).
"""

from __future__ import annotations

from pathlib import Path

from .model import Run

FRAMEWORKS = ("keras", "lightning", "hf", "ultralytics", "generic")
_FORMAT_FRAMEWORK = {"keras_csv": "keras", "keras_json": "keras", "lightning_csv": "lightning",
                     "hf_trainer_state": "hf", "yolo_csv": "ultralytics", "ultralytics_csv": "ultralytics"}


def callback_framework(run: Run) -> str:
    """Whose callbacks to advise: keras, lightning, hf, ultralytics, or generic (no framework's API)."""
    framework = getattr(run, "framework", "generic")
    if framework in FRAMEWORKS and framework != "generic":
        return framework
    names = [s.name for s in run.series.values()]
    if any(n.startswith(("metrics/mAP", "train/box_loss", "lr/pg", "x/lr")) for n in names):
        return "ultralytics"
    if run.format in _FORMAT_FRAMEWORK:
        return _FORMAT_FRAMEWORK[run.format]
    if run.format == "tensorboard" and _keras_tensorboard_layout(run):
        return "keras"
    if "lightning_logs" in Path(run.source).parts:  # Lightning's default save_dir
        return "lightning"
    return "generic"


def _keras_tensorboard_layout(run: Run) -> bool:
    """The Keras TensorBoard callback writes train/ and validation/ folders (tags epoch_*)."""
    path = Path(run.source)
    return path.is_dir() and (path / "train").is_dir() and (path / "validation").is_dir()


def early_stopping(framework: str, monitor: str, mode: str, patience: int, min_delta: float) -> str:
    """The early-stopping setup to paste, restoring/keeping the best weights where the framework can."""
    if framework == "lightning":
        return (f"lightning.pytorch.callbacks.EarlyStopping(monitor='{monitor}', mode='{mode}', patience={patience}, "
                f"min_delta={min_delta:g}) with ModelCheckpoint(monitor='{monitor}', mode='{mode}')")
    if framework == "hf":
        return (f"transformers.EarlyStoppingCallback(early_stopping_patience={patience}, "
                f"early_stopping_threshold={min_delta:g}) with TrainingArguments(load_best_model_at_end=True, "
                f"metric_for_best_model='{monitor}', greater_is_better={mode == 'max'}) (patience counts evaluations)")
    if framework == "ultralytics":
        return f"model.train(..., patience={patience}) (Ultralytics stops on its fitness score, without min_delta)"
    if framework == "generic":
        return (f"early stopping on {monitor} (mode {mode}, patience {patience}, min_delta {min_delta:g}), keeping "
                f"the best {monitor} checkpoint")
    return (f"keras.callbacks.EarlyStopping(monitor='{monitor}', mode='{mode}', patience={patience}, "
            f"min_delta={min_delta:g}, restore_best_weights=True)")


def reduce_lr_on_plateau(framework: str, monitor: str, mode: str, patience: int, min_delta: float | None = None) -> str:
    """The reduce-on-plateau setup to paste (``min_delta`` None: the framework's default)."""
    delta = "" if min_delta is None else f", min_delta={min_delta:g}"
    if framework == "lightning":
        threshold = "" if min_delta is None else f", threshold={min_delta:g}, threshold_mode='abs'"
        return (f"torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='{mode}', factor=0.2, patience={patience}"
                f"{threshold}), returned from configure_optimizers with 'monitor': '{monitor}'")
    if framework == "hf":
        return (f"TrainingArguments(lr_scheduler_type='reduce_lr_on_plateau', "
                f"lr_scheduler_kwargs={{'factor': 0.2, 'patience': {patience}}}, metric_for_best_model='{monitor}')")
    if framework == "ultralytics":
        return "Ultralytics has no plateau scheduler: lower lr0 or set cos_lr=True, lrf=0.01"
    if framework == "generic":
        return f"a reduce-on-plateau scheduler on {monitor} (mode {mode}, factor 0.2, patience {patience}{delta})"
    return (f"keras.callbacks.ReduceLROnPlateau(monitor='{monitor}', mode='{mode}', factor=0.2, "
            f"patience={patience}{delta})")


def stop_on_nan(framework: str) -> str:
    """How to stop a run at its first NaN loss."""
    return {
        "lightning": "Trainer(detect_anomaly=True) to find the op; EarlyStopping(check_finite=True) stops at NaN",
        "hf": "TrainingArguments(max_grad_norm=1.0) and a lower learning_rate; the Trainer does not stop on NaN",
        "ultralytics": "model.train(..., amp=False) and a lower lr0",
        "generic": "stop the run at the first NaN loss (check the loss every step) and clip gradients",
    }.get(framework, "keras.callbacks.TerminateOnNaN()")


def callbacks(run: Run, monitor: str, mode: str, patience: int, min_delta: float,
              reduce_patience: int) -> dict[str, str]:
    """The framework and its early-stopping and reduce-on-plateau lines, for ``Recommendation.suggested``."""
    framework = callback_framework(run)
    return {"framework": framework,
            "early_stopping": early_stopping(framework, monitor, mode, patience, min_delta),
            "reduce_lr": reduce_lr_on_plateau(framework, monitor, mode, reduce_patience, min_delta)}
