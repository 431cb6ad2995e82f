"""Series names users really log map to the right kind, split and direction."""

import pytest

from curvecheck.metrics import understand

CASES = [
    # name, kind, split, direction, base
    ("loss", "loss", "train", "min", "loss"),
    ("val_loss", "loss", "val", "min", "loss"),
    ("val_iou", "iou", "val", "max", "iou"),
    ("val_mean_io_u", "iou", "val", "max", "mean_io_u"),
    ("mean_io_u_5", "iou", "train", "max", "mean_io_u_5"),
    ("val_mean_io_u_5", "iou", "val", "max", "mean_io_u_5"),
    ("dice_coef", "dice", "train", "max", "dice_coef"),
    ("val_dice_coefficient", "dice", "val", "max", "dice_coefficient"),
    ("dice_score_4", "dice", "train", "max", "dice_score_4"),
    ("acc", "accuracy", "train", "max", "acc"),
    ("val_acc", "accuracy", "val", "max", "acc"),
    ("accuracy", "accuracy", "train", "max", "accuracy"),
    ("jaccard_coef", "iou", "train", "max", "jaccard_coef"),
    ("val_jaccard_coefficient_t", "iou", "val", "max", "jaccard_coefficient_t"),
    ("f1_score", "f1", "train", "max", "f1_score"),
    ("val_F1_score", "f1", "val", "max", "f1_score"),
    ("lr", "lr", "train", "none", "lr"),
    ("learning_rate", "lr", "train", "none", "lr"),
    ("lr-AdamW", "lr", "train", "none", "lr"),
    ("lr/pg0", "lr", "train", "none", "lr"),
    ("x/lr0", "lr", "train", "none", "lr"),
    ("validation/epoch_loss", "loss", "val", "min", "loss"),
    ("eval_loss", "loss", "val", "min", "loss"),
    ("train/box_loss", "loss", "train", "min", "box_loss"),
    ("val/box_loss", "loss", "val", "min", "box_loss"),
    ("metrics/mAP50-95(B)", "map", "val", "max", "map50_95_b"),
    ("metrics/mAP_0.5", "map", "val", "max", "map_0_5"),
    ("metrics/precision(B)", "precision", "val", "max", "precision_b"),
    ("metrics/accuracy_top1", "accuracy", "val", "max", "accuracy_top1"),
    ("val_auc", "auc", "val", "max", "auc"),
    ("recall", "recall", "train", "max", "recall"),
    ("train_loss_epoch", "loss", "train", "min", "loss"),
    ("val_loss_epoch", "loss", "val", "min", "loss"),
    ("train_acc_history", "accuracy", "train", "max", "acc"),
    ("val_loss_history", "loss", "val", "min", "loss"),
    ("eval_wer", "other", "val", "min", "wer"),
    ("mean_absolute_error", "other", "train", "min", "mean_absolute_error"),
    ("dice_loss", "loss", "train", "min", "dice_loss"),
    ("val_rouge1", "other", "val", "max", "rouge1"),
    ("grad_norm", "other", "train", "none", "grad_norm"),
    ("time", "other", "train", "none", "time"),
]


@pytest.mark.parametrize("name,kind,split,direction,base", CASES)
def test_understand(name, kind, split, direction, base):
    info = understand(name)
    assert (info.kind, info.split, info.direction, info.base) == (kind, split, direction, base)


def test_direction_override_wins():
    assert understand("val_wer", "max").direction == "max"
    assert understand("val_loss", "none").direction == "none"
