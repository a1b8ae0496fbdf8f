"""The data and the network of task ``digits-cnn``, shared by its trainer and evaluate.py.

A module of its own so that a pickled model names its class ``digits_task.DigitsCNN`` (not
``__main__.DigitsCNN``) and MLflow can rebuild it in another process: the trainer logs this
file with the model (``code_paths``).

The data: scikit-learn's bundled 8x8 digits (1797 images, no download), or a dated snapshot of
them that examples/prepare_data.py wrote (``--snapshot``: the pipelines' prepare step). A
fixed 15% is the held-out TEST split: it never depends on ``--seed`` and is never used for
training or for validation, so examples/evaluate.py measures every model on the same unseen
images.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

TEST_FRACTION = 0.15
VAL_FRACTION = 0.2  # of what the test split leaves
TEST_SPLIT_SEED = 20240  # fixed on purpose: see the module's docstring

Split = tuple[np.ndarray, np.ndarray]


def snapshot_dir(snapshot: str, data_root: str = "") -> Path:
    """Where prepare_data.py keeps snapshot ``snapshot``: under ``data_root``, else under
    ``$VTM_HOME/datasets`` (found from the run folder VTM gives), else ``./datasets``."""
    if data_root:
        root = Path(data_root)
    elif os.environ.get("VTM_RUN_DIR"):
        root = Path(os.environ["VTM_RUN_DIR"]).parents[1] / "datasets"
    else:
        root = Path("datasets")
    return root / "digits" / snapshot


def _all(source: Path | None = None) -> Split:
    if source is not None:
        with np.load(source / "digits.npz") as saved:
            return saved["images"], saved["labels"]
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # N,1,8,8 in [0, 1]
    return images, digits.target.astype(np.int64)


def _test_and_rest(source: Path | None = None) -> tuple[Split, Split]:
    images, labels = _all(source)
    rest_x, test_x, rest_y, test_y = train_test_split(
        images, labels, test_size=TEST_FRACTION, random_state=TEST_SPLIT_SEED, stratify=labels
    )
    return (test_x, test_y), (rest_x, rest_y)


def held_out_split() -> Split:
    """The held-out test images and labels: the same on every call, whatever the seed."""
    return _test_and_rest()[0]


def train_val_split(seed: int, source: Path | None = None) -> tuple[Split, Split]:
    """Train and validation sets, drawn by ``seed`` from what the test split leaves (of the
    snapshot in folder ``source`` when given)."""
    _, (x, y) = _test_and_rest(source)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VAL_FRACTION, random_state=seed, stratify=y
    )
    return (x_train, y_train), (x_val, y_val)


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions, one 2x2 pooling, two dense layers: ~40k parameters."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            # BatchNorm makes the first epochs converge fast even at Adam's default lr.
            nn.Conv2d(1, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


def confusion_matrix(predicted: torch.Tensor, truth: torch.Tensor, classes: int = 10) -> list:
    """``matrix[true][predicted]`` counts, as nested lists (JSON-ready)."""
    matrix = torch.zeros(classes, classes, dtype=torch.int64)
    matrix.index_put_((truth.cpu(), predicted.cpu()), torch.ones_like(truth.cpu()), accumulate=True)
    return matrix.tolist()
