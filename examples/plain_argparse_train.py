"""The VTM trainer contract with nothing but the standard library: a template for your train.py.

Catalog task ``plain-argparse`` (see training_catalog.yaml). It fakes training (no torch, no
data): the loss falls and the accuracy rises epoch by epoch. What it shows is the contract:

1. Parse one flag per catalog field — the base task type's fields *and* the task's extraFields.
   VTM passes them as ``--name=value`` (a true bool as a bare ``--name``). argparse exits with
   an error on a flag it does not know, so a field missing here fails every run;
   ``vtm catalog check`` catches that before anyone starts one.
2. Print progress as one line: ``VTM_PROGRESS::`` + a JSON object, with ``flush=True`` so VTM
   sees it at once (stdout to a pipe or file is block-buffered otherwise).
3. If the run is tracked in MLflow, print ``VTM_RUN_META::{"mlflow_run_id": "..."}`` once;
   this fake has no MLflow run, so it prints none.
4. Exit 0 when training succeeded; any other exit code marks the run failed.

Run it bare: ``python examples/plain_argparse_train.py --epochs=3 --sleep=0``
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fake trainer: the VTM contract, stdlib only.")
    # The classification base task type's fields...
    parser.add_argument("--epochs", type=int, default=10, help="fake epochs to run")
    parser.add_argument("--batch_size", type=int, default=32, help="accepted, unused")
    parser.add_argument("--lr", type=float, default=0.001, help="scales how fast the loss falls")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--seed", type=int, default=0, help="seeds the fake noise")
    # ...and the task's extraFields.
    parser.add_argument("--sleep", type=float, default=0.2, help="seconds per fake epoch")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.sleep < 0:
        parser.error("--sleep must not be negative")
    return args


def report(**values: object) -> None:
    # flush=True: without it the line may sit in a buffer until the process ends.
    print("VTM_PROGRESS::" + json.dumps(values), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    # Nothing here runs on a GPU, whatever --device says.
    print(f"fake training: {args.epochs} epochs, lr={args.lr}, seed={args.seed}", flush=True)
    # A bigger lr converges faster, within reason, so the field visibly changes the curves.
    rate = 0.3 + min(max(args.lr, 0.0), 1.0) * 100
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.sleep)
        decay = math.exp(-rate * epoch)
        train_loss = 2.3 * decay + 0.05 + rng.uniform(0, 0.02)
        val_loss = train_loss + 0.03 + rng.uniform(0, 0.02)
        val_accuracy = min(1.0, 0.1 + 0.85 * (1 - decay) + rng.uniform(0, 0.02))
        print(f"epoch {epoch}/{args.epochs} val_accuracy={val_accuracy:.4f}", flush=True)
        report(
            epoch=epoch,
            total_epochs=args.epochs,
            train_loss=round(train_loss, 4),
            val_loss=round(val_loss, 4),
            val_accuracy=round(val_accuracy, 4),
            device="cpu",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
