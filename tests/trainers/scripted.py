"""A test trainer whose behaviour the test chooses through its flags.

It prints its argv first (so tests can check values arrive verbatim), then per epoch a
numbered line and a progress line. With --gate-dir it pauses after epoch --pause-at until
the file `<gate-dir>/<VTM_RUN_ID>` exists: tests synchronise on it instead of sleeping.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--lines", type=int, default=1, help="numbered lines per epoch")
parser.add_argument("--exit_code", type=int, default=0)
parser.add_argument("--gate_dir", default="")
parser.add_argument("--pause_at", type=int, default=0)
parser.add_argument("--meta_id", default="")
parser.add_argument("--text", default="")
parser.add_argument("--loud", action="store_true")
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--mode", choices=["fast", "slow"], default="fast")
parser.add_argument("--crash", default="", help="end with a traceback: RuntimeError(CRASH)")
args = parser.parse_args()

print("argv::" + json.dumps(sys.argv[1:]), flush=True)
print(
    "env::"
    + json.dumps(
        {k: v for k, v in os.environ.items() if k.startswith(("VTM_", "PYTHONUNBUFFERED", "CUDA_"))}
    ),
    flush=True,
)
if args.meta_id:
    print("VTM_RUN_META::" + json.dumps({"mlflow_run_id": args.meta_id}), flush=True)
n = 0
for epoch in range(1, args.epochs + 1):
    for _ in range(args.lines):
        n += 1
        print(f"line {n}", flush=True)
    accuracy = epoch / args.epochs
    print(
        "VTM_PROGRESS::"
        + json.dumps(
            {"epoch": epoch, "total_epochs": args.epochs, "val_accuracy": accuracy, "device": "cpu"}
        ),
        flush=True,
    )
    if args.sleep:
        time.sleep(args.sleep)
    if args.gate_dir and epoch == args.pause_at:
        gate = Path(args.gate_dir) / os.environ["VTM_RUN_ID"]
        while not gate.exists():
            time.sleep(0.02)
if args.crash:
    # A progress bar on stderr first, as a tqdm loop leaves it, then the traceback.
    print("\r 50%|#####     | 5/10\r 60%|######    | 6/10", end="", file=sys.stderr, flush=True)

    def step() -> None:
        raise RuntimeError(args.crash)

    try:
        step()
    except RuntimeError as exc:
        raise RuntimeError(args.crash) from exc
if args.exit_code:
    print(f"giving up with code {args.exit_code}", file=sys.stderr, flush=True)
    sys.exit(args.exit_code)
print("done", flush=True)
