"""Sample VTM trainer: a small encoder-decoder segmenting generated circles and rectangles.

Catalog task ``shapes-segmentation`` (see ../training_catalog.yaml). Run it bare with

    python examples/trainers/segmentation.py --epochs=2 --image_size=24

The data is drawn with numpy at start (deterministic by ``--seed``; no files, no download):
noisy grey images with one to three filled shapes, and the binary mask of those shapes. It
follows the trainer contract: one command-line flag per catalog field, ``VTM_PROGRESS::`` lines
on stdout (flushed), TensorBoard scalars in ``$VTM_TENSORBOARD_DIR``, the weights in
``$VTM_RUN_DIR/model.pt``, exit code 0 on success. With ``MLFLOW_TRACKING_URI`` set it also
logs to MLflow (mlflow_tracking.py): params, per-epoch metrics, a history CSV and the model.
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
        description="Train a small encoder-decoder on generated shapes (VTM sample trainer)."
    )
    parser.add_argument("--epochs", type=int, default=5, help="full passes over the train set")
    parser.add_argument("--batch_size", type=int, default=32, help="images per step")
    parser.add_argument("--lr", type=float, default=0.001, help="learning rate (Adam)")
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: cuda if visible"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (data and weights)")
    parser.add_argument("--image_size", type=int, default=32, help="side of the images, pixels")
    parser.add_argument(
        "--num_images", type=int, default=1024, help="images generated (80%% train)"
    )
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.batch_size < 1:
        parser.error("--batch_size must be at least 1")
    if args.lr < 0:
        parser.error("--lr must not be negative")
    if not 8 <= args.image_size <= 1024:
        parser.error("--image_size must be between 8 and 1024")
    if args.num_images < 10:
        parser.error("--num_images must be at least 10 (some are kept for validation)")
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
from mlflow_tracking import Tracking, tracked_run
from shapes_task import TinySegNet, make_shapes
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


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """Mean BCE loss and IoU of the foreground over the whole validation set."""
    model.eval()
    total_loss, intersection, union = 0.0, 0.0, 0.0
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size])
        target = y[i : i + batch_size]
        total_loss += F.binary_cross_entropy_with_logits(logits, target, reduction="sum").item()
        predicted = logits > 0
        truth = target > 0.5
        intersection += (predicted & truth).sum().item()
        union += (predicted | truth).sum().item()
    # Dataset-level IoU (not a mean of per-image IoUs): stable when an image has a tiny mask.
    iou = intersection / union if union else 1.0
    return total_loss / y.numel(), iou


def main(args: argparse.Namespace) -> int:
    # Logs to MLflow when VTM (or you) set MLFLOW_TRACKING_URI; runs standalone otherwise.
    with tracked_run("shapes-segmentation", params=vars(args)) as tracking:
        return train(args, tracking)


def train(args: argparse.Namespace, tracking: Tracking | None) -> int:
    # A second thread cuts an epoch by ~25% (measured on 2 cores); past a few threads these
    # small convolutions gain little, and a shared machine loses from many.
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    seed_everything(args.seed)
    device = pick_device(args.device)

    started = time.perf_counter()
    images, masks = make_shapes(args.num_images, args.image_size, np.random.default_rng(args.seed))
    n_val = max(2, args.num_images // 5)
    # Keep the data on the device and slice batches from it: far faster than a DataLoader
    # for a few MB of data.
    xt = torch.from_numpy(images[n_val:]).to(device)
    yt = torch.from_numpy(masks[n_val:]).to(device)
    xv = torch.from_numpy(images[:n_val]).to(device)
    yv = torch.from_numpy(masks[:n_val]).to(device)
    print(
        f"shapes-segmentation: generated {args.num_images} images of "
        f"{args.image_size}x{args.image_size} in {time.perf_counter() - started:.2f}s "
        f"({len(xt)} train / {len(xv)} val), foreground {masks.mean():.1%} of pixels, "
        f"device={device}, lr={args.lr}, batch_size={args.batch_size}, seed={args.seed}",
        flush=True,
    )

    model = TinySegNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    writer = None
    tb_dir = os.environ.get("VTM_TENSORBOARD_DIR")
    if tb_dir:
        from torch.utils.tensorboard import SummaryWriter  # only paid for when asked for

        writer = SummaryWriter(log_dir=tb_dir)

    # A generator of its own keeps the shuffling order independent of the model's init.
    shuffle = torch.Generator(device="cpu").manual_seed(args.seed)
    val_iou = 0.0
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(xt), generator=shuffle).to(device)
        total_loss = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            loss = F.binary_cross_entropy_with_logits(model(xt[idx]), yt[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
        train_loss = total_loss / len(xt)
        val_loss, val_iou = evaluate(model, xv, yv, max(args.batch_size, 64))
        seconds = time.perf_counter() - started

        print(
            f"epoch {epoch}/{args.epochs} train_loss={train_loss:.4f} val_loss={val_loss:.4f} "
            f"val_iou={val_iou:.4f} ({seconds:.2f}s)",
            flush=True,
        )
        progress(
            epoch=epoch,
            total_epochs=args.epochs,
            train_loss=train_loss,
            val_loss=val_loss,
            val_iou=val_iou,
            device=str(device),
            lr=optimizer.param_groups[0]["lr"],
        )
        if tracking is not None:
            tracking.log_epoch(epoch, train_loss=train_loss, val_loss=val_loss, val_iou=val_iou)
        if writer is not None:
            writer.add_scalar("train_loss", train_loss, epoch)
            writer.add_scalar("val_loss", val_loss, epoch)
            writer.add_scalar("val_iou", val_iou, epoch)
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
        tracking.log_history_csv()
        uri = tracking.log_model(model, code_paths=[Path(__file__).with_name("shapes_task.py")])
        print(f"logged model {uri} to MLflow run {tracking.run_id}", flush=True)
    print(f"done: val_iou={val_iou:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
