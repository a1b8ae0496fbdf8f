"""Sample VTM trainer: a small CNN on scikit-learn's bundled 8x8 handwritten digits.

Catalog task ``digits-cnn`` (see ../training_catalog.yaml). Run it bare with

    python examples/trainers/classification.py --epochs=2

It follows the trainer contract: one command-line flag per catalog field, ``VTM_PROGRESS::``
lines on stdout (flushed), TensorBoard scalars in ``$VTM_TENSORBOARD_DIR``, the weights in
``$VTM_RUN_DIR/model.pt``, exit code 0 on success. With ``MLFLOW_TRACKING_URI`` set it also
logs to MLflow (mlflow_tracking.py): params, per-epoch metrics, a history CSV, the validation
confusion matrix and the model. A fixed held-out test split (digits_task.py) is never used
here; examples/evaluate.py measures the logged model on it.
"""

# The heavy imports (torch, ...) sit below the argument parsing on purpose, see parse_args.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    # Every field of the catalog task must be declared here: argparse exits on an unknown flag,
    # and `vtm catalog check` compares this parser's --help with the catalog.
    parser = argparse.ArgumentParser(
        description="Train a small CNN on scikit-learn's 8x8 digits (VTM sample trainer)."
    )
    parser.add_argument("--epochs", type=int, default=5, help="full passes over the train set")
    parser.add_argument("--batch_size", type=int, default=32, help="images per step")
    parser.add_argument("--lr", type=float, default=0.001, help="learning rate")
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: cuda if visible"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (split and weights)")
    parser.add_argument(
        "--augment", action="store_true", help="random one-pixel shifts of training images"
    )
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam", help="optimiser")
    parser.add_argument(
        "--snapshot", default="", help="train on this dated snapshot (prepare_data.py); '': live"
    )
    parser.add_argument("--data_root", default="", help="where snapshots are; '': VTM's datasets")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.batch_size < 1:
        parser.error("--batch_size must be at least 1")
    if args.lr < 0:
        parser.error("--lr must not be negative")
    return args


# Parse before the heavy imports below so that `--help` (which `vtm catalog check` runs for
# every task) and argument errors answer in milliseconds instead of after torch's ~2 s import.
if __name__ == "__main__":
    ARGS = parse_args()

try:
    from vtm.reporting import progress
except ImportError:  # run outside VTM's environment: print the protocol line by hand

    def progress(epoch: int | None = None, total_epochs: int | None = None, **values: Any) -> None:
        data: dict[str, Any] = {"epoch": epoch, "total_epochs": total_epochs, **values}
        print("VTM_PROGRESS::" + json.dumps(data), flush=True)


import random

import numpy as np
import torch
from digits_task import DigitsCNN, confusion_matrix, snapshot_dir, train_val_split
from mlflow_tracking import Tracking, tracked_run
from torch import nn
from torch.nn import functional as F


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too


def pick_device(name: str) -> torch.device:
    """The device to train on; a GPU by its index (``cuda:0``: the first of the GPUs the run
    was given, which is what its progress then shows)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    elif name == "cuda" and not torch.cuda.is_available():
        # A clear reason in the log beats a CUDA stack trace; exit != 0 marks the run failed.
        sys.exit("error: --device=cuda was asked for but no CUDA device is visible")
    return torch.device("cuda:0" if name == "cuda" else name)


def random_shift(x: torch.Tensor) -> torch.Tensor:
    """Shift each image by up to one pixel in each direction (zero fill): cheap augmentation."""
    n = x.shape[0]
    padded = F.pad(x, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (n,), device=x.device)
    dx = torch.randint(0, 3, (n,), device=x.device)
    ramp = torch.arange(8, device=x.device)
    rows = (dy[:, None] + ramp)[:, :, None]  # n,8,1
    cols = (dx[:, None] + ramp)[:, None, :]  # n,1,8
    batch = torch.arange(n, device=x.device)[:, None, None]  # n,1,1
    return padded[:, 0][batch, rows, cols].unsqueeze(1)  # n,1,8,8


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    logits = model(x)  # the whole validation set (~300 images) is one small batch
    loss = F.cross_entropy(logits, y).item()
    accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy


def main(args: argparse.Namespace) -> int:
    # Logs to MLflow when VTM (or you) set MLFLOW_TRACKING_URI; runs standalone otherwise.
    with tracked_run("digits-cnn", params=vars(args)) as tracking:
        return train(args, tracking)


def train(args: argparse.Namespace, tracking: Tracking | None) -> int:
    # 8x8 convolutions gain nothing from many threads, and a shared machine loses from them.
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    seed_everything(args.seed)
    device = pick_device(args.device)

    # A fixed held-out test split is kept apart (digits_task.py); evaluate.py measures on it.
    source = snapshot_dir(args.snapshot, args.data_root) if args.snapshot else None
    if source is not None and not (source / "manifest.json").is_file():
        sys.exit(f"snapshot {args.snapshot!r} not found in {source.parent} (run prepare_data.py)")
    (x_train, y_train), (x_val, y_val) = train_val_split(args.seed, source)
    # The whole data set is ~0.5 MB: keep it on the device and slice batches from it, which is
    # much faster than a DataLoader for data this small.
    xt, yt = torch.from_numpy(x_train).to(device), torch.from_numpy(y_train).to(device)
    xv, yv = torch.from_numpy(x_val).to(device), torch.from_numpy(y_val).to(device)

    model = DigitsCNN().to(device)
    optimizer: torch.optim.Optimizer
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    writer = None
    tb_dir = os.environ.get("VTM_TENSORBOARD_DIR")
    if tb_dir:
        from torch.utils.tensorboard import SummaryWriter  # only paid for when asked for

        writer = SummaryWriter(log_dir=tb_dir)

    print(
        f"digits-cnn: {len(xt)} train / {len(xv)} val images, device={device}, "
        f"optimizer={args.optimizer}, lr={args.lr}, batch_size={args.batch_size}, "
        f"augment={args.augment}, seed={args.seed}",
        flush=True,
    )
    # A generator of its own keeps the shuffling order independent of the model's init.
    shuffle = torch.Generator(device="cpu").manual_seed(args.seed)
    val_accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(xt), generator=shuffle).to(device)
        total_loss = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            xb, yb = xt[idx], yt[idx]
            if args.augment:
                xb = random_shift(xb)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
        train_loss = total_loss / len(xt)
        val_loss, val_accuracy = evaluate(model, xv, yv)
        seconds = time.perf_counter() - started

        print(
            f"epoch {epoch}/{args.epochs} train_loss={train_loss:.4f} val_loss={val_loss:.4f} "
            f"val_accuracy={val_accuracy:.4f} ({seconds:.2f}s)",
            flush=True,
        )
        progress(
            epoch=epoch,
            total_epochs=args.epochs,
            train_loss=train_loss,
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            device=str(device),
            lr=optimizer.param_groups[0]["lr"],
        )
        if tracking is not None:
            tracking.log_epoch(
                epoch, train_loss=train_loss, val_loss=val_loss, val_accuracy=val_accuracy
            )
        if writer is not None:
            writer.add_scalar("train_loss", train_loss, epoch)
            writer.add_scalar("val_loss", val_loss, epoch)
            writer.add_scalar("val_accuracy", val_accuracy, epoch)
            writer.flush()  # so TensorBoard shows the run live, not only at the end

    if writer is not None:
        writer.close()
    run_dir = os.environ.get("VTM_RUN_DIR")
    if run_dir:
        path = Path(run_dir) / "model.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
        print(f"saved model to {path}", flush=True)
    if tracking is not None:
        model.eval()
        with torch.no_grad():
            predicted = model(xv).argmax(dim=1)
        tracking.log_history_csv()
        tracking.log_json(
            {"labels": list(range(10)), "matrix": confusion_matrix(predicted, yv)},
            "confusion_matrix.json",
        )
        uri = tracking.log_model(model, code_paths=[Path(__file__).with_name("digits_task.py")])
        print(f"logged model {uri} to MLflow run {tracking.run_id}", flush=True)
    print(f"done: val_accuracy={val_accuracy:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
