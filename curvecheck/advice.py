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
        return (f"a reduce-on-plateau scheduler on {monitor} (mode {mode}, factor 0.2, patience {patience}"
                f"{delta.replace('=', ' ')})")
    return (f"keras.callbacks.ReduceLROnPlateau(monitor='{monitor}', mode='{mode}', factor=0.2, "
            f"patience={patience}{delta})")


def stop_on_nan(framework: str) -> str:
    """How to stop a run at its first NaN loss (or, where the framework cannot, how to avoid one)."""
    return {
        "lightning": ("Trainer(detect_anomaly=True) finds the op that made the NaN, and EarlyStopping(check_finite=True), "
                      "its default, stops the run when the monitor turns NaN"),
        "hf": ("the Trainer does not stop on NaN: lower learning_rate, keep max_grad_norm=1.0, and a TrainerCallback "
               "can set control.should_training_stop when the logged loss is NaN"),
        "ultralytics": "model.train(..., amp=False) rules out fp16 overflow; lower lr0",
        "generic": "stop the run at the first NaN loss (check torch.isfinite(loss) every step)",
    }.get(framework, "add keras.callbacks.TerminateOnNaN() so the run stops at the first NaN")


def clip_gradients(framework: str) -> str:
    """Where the framework clips gradients."""
    return {
        "lightning": "Trainer(gradient_clip_val=1.0)",
        "hf": "TrainingArguments(max_grad_norm=1.0)",
        "ultralytics": "Ultralytics already clips gradients at norm 10",
        "generic": "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
    }.get(framework, "clipnorm=1.0 in the optimizer")


def keep_best(framework: str, monitor: str, mode: str) -> str:
    """How the framework keeps the best checkpoint by ``monitor`` (not the last one)."""
    if framework == "lightning":
        return f"ModelCheckpoint(monitor='{monitor}', mode='{mode}'), then ckpt_path='best'"
    if framework == "hf":
        return (f"TrainingArguments(load_best_model_at_end=True, metric_for_best_model='{monitor}', "
                f"greater_is_better={mode == 'max'})")
    if framework == "ultralytics":
        return "weights/best.pt: Ultralytics keeps the epoch with the best fitness score, not the last one"
    if framework == "generic":
        return f"save a checkpoint whenever {monitor} improves and keep that one"
    return "EarlyStopping(restore_best_weights=True) or ModelCheckpoint(save_best_only=True)"


def monitor_metric(framework: str, metric: str, mode: str) -> str:
    """How to stop on and keep the checkpoint by ``metric`` instead of the loss."""
    if framework == "lightning":
        return (f"EarlyStopping(monitor='{metric}', mode='{mode}') and ModelCheckpoint(monitor='{metric}', "
                f"mode='{mode}')")
    if framework == "hf":
        return (f"TrainingArguments(metric_for_best_model='{metric}', greater_is_better={mode == 'max'}, "
                f"load_best_model_at_end=True) with EarlyStoppingCallback")
    if framework == "ultralytics":
        return "weights/best.pt, which Ultralytics picks by its fitness score (a metric, not the loss)"
    if framework == "generic":
        return f"stop on and keep the checkpoint by {metric} (mode {mode}), not by the loss"
    return f"EarlyStopping(monitor='{metric}', mode='{mode}') and the same for ModelCheckpoint"


def add_validation(framework: str) -> str:
    """How to make the framework log a validation curve."""
    return {
        "lightning": "define validation_step and pass a val_dataloader to trainer.fit so val_* is logged",
        "hf": "pass eval_dataset and TrainingArguments(eval_strategy='epoch' or 'steps') so eval_* is logged",
        "ultralytics": "keep val=True (the default) and a val: split in the data YAML",
        "generic": "evaluate on a held-out set every epoch and log it as val_*",
    }.get(framework, "pass validation_data= or validation_split= so val_* is logged")


def resume(framework: str, next_epoch: float | None = None) -> str:
    """How to continue the run from its last checkpoint (`next_epoch`: Keras' initial_epoch)."""
    return {
        "keras": ("" if next_epoch is None else
                  f"fit(..., initial_epoch={next_epoch:g}) continues the epoch numbering"),
        "lightning": "trainer.fit(model, ckpt_path='last') with a larger max_epochs",
        "hf": "trainer.train(resume_from_checkpoint=True) with a larger num_train_epochs",
        "ultralytics": "train again from weights/last.pt with more epochs",
    }.get(framework, "")


def epoch_numbering(framework: str, x_axis: str, epoch_base: int) -> str:
    """How the log's framework numbers epochs, when a user could confuse it with another count ('' if not)."""
    if x_axis != "epoch":
        return ""
    if framework == "keras" and epoch_base == 0:
        return "from 0 like Keras CSVLogger: epoch 0 is Keras's 'Epoch 1'"
    if framework == "lightning" and epoch_base == 0:
        return "from 0, as Lightning's progress bar and checkpoint names count them"
    if framework == "ultralytics" and epoch_base == 0:
        return "from 0 as YOLOv5 and early YOLOv8 write results.csv; YOLOv8's console shows epoch 0 as '1/N'"
    if framework == "ultralytics" and epoch_base == 1:
        return "from 1 as Ultralytics writes and prints them"
    return ""


def checkpoint_hint(run: Run, x: float) -> str:
    """Where the log's framework keeps (or would name) the checkpoint of epoch or step ``x`` ('' if unknown)."""
    framework = callback_framework(run)
    saved = (run.meta.get("checkpoints") or {}).get(int(x)) if float(x).is_integer() else None
    if framework == "keras" and run.x_axis == "epoch" and run.epoch_base == 0:
        return f"Keras calls it 'Epoch {int(x) + 1}'; ModelCheckpoint {{epoch}} = {int(x) + 1}"
    if framework == "lightning" and run.x_axis == "epoch":
        return f"saved as {saved}" if saved else f"Lightning's ModelCheckpoint names it 'epoch={int(x)}-step=...ckpt'"
    if framework == "hf" and run.x_axis == "step":
        best = run.meta.get("best_model_checkpoint")
        where = f"saved as {saved}" if saved else (f"the Trainer names its folder checkpoint-{int(x)} (saved only "
                                                    "when save_strategy/save_steps hit this step)")
        return where + (f"; the Trainer's own best (by its metric_for_best_model): {best}" if best else "")
    if framework == "ultralytics":
        return "Ultralytics keeps its best epoch by fitness (for detection mostly mAP50-95) as weights/best.pt"
    return ""


def curvecheck_callback(framework: str, monitor: str) -> str | None:
    """curvecheck's own stopping rule as a callback: Keras and Lightning only (None for the others)."""
    if framework not in ("keras", "lightning"):
        return None
    return f"curvecheck.callbacks.{framework}.CurvecheckStopping(monitor='{monitor}')"


def callbacks(run: Run, monitor: str, mode: str, patience: int, min_delta: float,
              reduce_patience: int) -> dict[str, str]:
    """The framework and its early-stopping and reduce-on-plateau lines, for ``Recommendation.suggested``."""
    framework = callback_framework(run)
    return {"framework": framework,
            "early_stopping": early_stopping(framework, monitor, mode, patience, min_delta),
            "reduce_lr": reduce_lr_on_plateau(framework, monitor, mode, reduce_patience, min_delta)}
