"""A trainer written without VTM in mind: a tqdm-style bar on stderr and scalars in TensorBoard
event files (tensorboard's own writer, as a SummaryWriter writes them); no protocol line.

It writes to ``--logdir`` (relative: its working directory) and pauses with the bar at
``--pause_at`` of ``--steps`` until ``<gate_dir>/<VTM_RUN_ID>`` exists, so a test can look at
the run while it goes.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--pause_at", type=int, default=0)
parser.add_argument("--gate_dir", default="")
parser.add_argument("--logdir", default="lightning_logs/version_0")
args = parser.parse_args()

writer = EventFileWriter(args.logdir)
for step in range(1, args.steps + 1):
    loss = 1.0 / step
    value = summary_pb2.Summary.Value(tag="train/loss", simple_value=loss)
    event = event_pb2.Event(
        wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value])
    )
    writer.add_event(event)
    writer.flush()
    filled = "█" * (step * 10 // args.steps)
    percent = step * 100 // args.steps
    bar = f"{percent:3d}%|{filled:<10}| {step}/{args.steps}"
    sys.stderr.write(f"\rEpoch 0: {bar} [00:0{step}<00:01, 9.1it/s, loss={loss:.3f}]")
    sys.stderr.flush()
    if args.gate_dir and step == args.pause_at:
        gate = Path(args.gate_dir) / os.environ["VTM_RUN_ID"]
        while not gate.exists():
            time.sleep(0.02)
writer.close()
sys.stderr.write("\n")
print("done")
