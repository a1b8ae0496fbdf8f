"""Output-throughput trainer: --lines lines of 50 bytes each on stdout, as a chatty trainer
prints them (``print`` per line), and nothing else. Writes its own start, end and duration
to --out as JSON."""

import argparse
import json
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="")
parser.add_argument("--lines", type=int, default=1_000_000)
args = parser.parse_args()

PAD = "x" * 36  # "line 0000000 " is 13 characters: 13 + 36 + newline = 50 bytes
started, clock = time.time(), time.perf_counter()
for i in range(args.lines):
    print(f"line {i:07d} {PAD}")
sys.stdout.flush()  # a buffered run's last block belongs to its time too
duration = time.perf_counter() - clock
ended = time.time()
if args.out:
    with open(args.out, "w", encoding="utf-8") as file:
        json.dump({"started": started, "ended": ended, "duration": duration}, file)
