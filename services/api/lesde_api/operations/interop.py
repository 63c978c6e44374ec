"""The authors' long CSV layout, shared by import and export.

Columns: ``trial, itr, smp, y, y_logit0..y_logit{K-1}, tr_loss, val_loss, val_acc``; one
row per (trial, iteration): the sampled training point's index ``smp`` and label ``y``,
its logits from the forward pass before the update, its training loss, and the mean
validation loss and accuracy of that trial's model at ``itr`` (empty where not evaluated).
"""

from __future__ import annotations

import re

FIXED_HEAD = ("trial", "itr", "smp", "y")
FIXED_TAIL = ("tr_loss", "val_loss", "val_acc")
LOGIT = re.compile(r"^y_logit(\d+)$")


def header(classes: int) -> list[str]:
    return [*FIXED_HEAD, *(f"y_logit{k}" for k in range(classes)), *FIXED_TAIL]
