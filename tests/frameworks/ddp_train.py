"""torch.distributed data parallel on the CPU (gloo), started by torchrun: each rank trains on
its shard; rank 0 shows a tqdm bar. --pause_at makes every rank wait at that step until the
gate file exists (a test stops the run there)."""

import argparse
import os
import signal
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=20)
parser.add_argument("--pause_at", type=int, default=0)
parser.add_argument("--gate_dir", default="")
parser.add_argument("--deaf", action="store_true", help="ignore SIGTERM, as a hung worker does")
args = parser.parse_args()
if args.deaf:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

dist.init_process_group("gloo")
rank = dist.get_rank()
model = nn.parallel.DistributedDataParallel(nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
Path(f"rank{rank}.pid").write_text(str(os.getpid()))
for step in tqdm(range(1, args.steps + 1), disable=rank != 0):
    x = torch.randn(16, 8)
    loss = model(x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if args.gate_dir and step == args.pause_at:
        gate = Path(args.gate_dir) / os.environ["VTM_RUN_ID"]
        while not gate.exists():
            time.sleep(0.05)
dist.destroy_process_group()
print(f"rank {rank} done")
