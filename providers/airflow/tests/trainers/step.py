"""A pipeline step for the provider's tests; its flags choose how it behaves.

--fail_first_key K   the first run with key K fails (exit 3) and leaves a marker, the next one
                     with the same key succeeds: a flaky step that Airflow's retry fixes.
--wait_release       after epoch 1, wait until the file ``release`` exists in the run's folder
                     ($VTM_RUN_DIR): the test decides when the run may end.
--exit_code N        end with this exit code.
--snapshot DATE      echoed in the run's meta, as a data-preparation step would.
--score X            the last epoch reports this score (an evaluation step's measure).
"""

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--exit_code", type=int, default=0)
parser.add_argument("--fail_first_key", default="")
parser.add_argument("--wait_release", action="store_true")
parser.add_argument("--snapshot", default="")
parser.add_argument("--score", type=float, default=-1.0)
args = parser.parse_args()

run_dir = Path(os.environ["VTM_RUN_DIR"])
if args.fail_first_key:
    markers = run_dir.parents[1] / "markers"
    markers.mkdir(exist_ok=True)
    marker = markers / hashlib.sha256(args.fail_first_key.encode()).hexdigest()
    if not marker.exists():
        marker.touch()
        print(f"first attempt for {args.fail_first_key!r}: failing on purpose", flush=True)
        sys.exit(3)
if args.snapshot:
    print("VTM_RUN_META::" + json.dumps({"snapshot": args.snapshot}), flush=True)
for epoch in range(1, args.epochs + 1):
    score = args.score if args.score >= 0 and epoch == args.epochs else epoch / args.epochs
    progress = {"epoch": epoch, "total_epochs": args.epochs, "score": score}
    print("VTM_PROGRESS::" + json.dumps(progress), flush=True)
    if args.sleep:
        time.sleep(args.sleep)
    if args.wait_release and epoch == 1:
        release = run_dir / "release"
        while not release.exists():
            time.sleep(0.05)
print("done", flush=True)
sys.exit(args.exit_code)
