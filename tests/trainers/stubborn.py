"""A trainer that ignores SIGTERM and has children (one in its own session) that do too."""

import argparse
import signal
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.parse_args()

signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = (
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(1)"
)
children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
print("child-pids::" + ",".join(str(c.pid) for c in children), flush=True)
print('VTM_PROGRESS::{"epoch": 0, "total_epochs": 1}', flush=True)
while True:
    time.sleep(1)
