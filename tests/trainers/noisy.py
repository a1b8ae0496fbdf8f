"""A trainer that prints everything a careless or broken trainer might."""

import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--big_mb", type=int, default=10)
args = parser.parse_args()

out = sys.stdout.buffer
out.write(b"VTM_PROGRESS::{not json\n")
out.write(b"VTM_PROGRESS::[1, 2, 3]\n")
out.write(b'VTM_PROGRESS::{"epoch": 1, "total_epochs": 2, "bad": "\xff\xfe"}\n')
out.write(b"plain \xc3\x28 invalid utf-8\n")
out.write(
    b"\rEpoch 1:  50%\rEpoch 1: 100%\r"
    + b'VTM_PROGRESS::{"epoch": 1, "total_epochs": 2, "val_accuracy": 0.5}\n'
)
out.flush()
chunk = b"x" * (1 << 20)
for _ in range(args.big_mb):  # a huge line with no newline in sight
    out.write(chunk)
out.flush()
out.write(b"\n")
out.write(b'VTM_PROGRESS::{"epoch": 2, "total_epochs": 2, "val_accuracy": 0.75}\n')
out.write(b"the end\n")
out.flush()
os._exit(0)
