"""Progress-visibility trainer: --count progress lines, --interval seconds apart, each
carrying the time it was printed (``sent_at``). With --gate it waits for that file first,
so a client can subscribe to the run's events before the first line is printed."""

import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="")
parser.add_argument("--count", type=int, default=200)
parser.add_argument("--interval", type=float, default=0.02)
parser.add_argument("--gate", default="")
args = parser.parse_args()

if args.gate:
    deadline = time.monotonic() + 60
    while not os.path.exists(args.gate):
        if time.monotonic() > deadline:
            raise SystemExit("the gate never opened")
        time.sleep(0.002)

start = time.monotonic()
for i in range(1, args.count + 1):
    message = {"epoch": i, "total_epochs": args.count, "loss": 1.0 / i, "sent_at": time.time()}
    print("VTM_PROGRESS::" + json.dumps(message), flush=True)
    pause = start + i * args.interval - time.monotonic()
    if pause > 0:
        time.sleep(pause)
