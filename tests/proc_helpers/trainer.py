"""A stand-in trainer for the supervisor tests: ``trainer.py MODE [ARG]``.

Every process it makes prints ``PID <role> <pid>`` once it is set up, so a test can wait
for the whole tree and then check on each member.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def say(*words: object) -> None:
    print(*words, flush=True)


def sleep_forever() -> None:
    while True:
        time.sleep(3600)


def spawn(mode: str, *, new_session: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, mode], start_new_session=new_session)


def main(mode: str, arg: str | None) -> int:
    if mode == "ok":
        say("hello from the trainer, run", os.environ.get("VTM_RUN_ID"))
        print("a line on stderr", file=sys.stderr, flush=True)
        return 0
    if mode == "exit":
        return int(arg or "0")
    if mode == "env":
        for name in (arg or "").split(","):
            say(f"{name}={os.environ.get(name, '<unset>')}")
        return 0
    if mode == "lines":
        for number in range(int(arg or "0")):
            print(f"line {number}")
        return 0
    if mode == "suicide":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "wait-file":
        say("WAITING")
        while not Path(arg or "").exists():
            time.sleep(0.01)
        return 0
    if mode in ("stubborn", "child", "escapee"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by everything it starts
    if mode == "stubborn":  # a trainer with a worker in its group and one that left it
        spawn("child")
        spawn("escapee", new_session=True)
    elif mode == "escapee":
        spawn("child")  # a grandchild in the escapee's session
    elif mode == "family":  # a trainer with a worker that does nothing special
        spawn("child")
    elif mode not in ("child", "sleep"):
        say("unknown mode", mode)
        return 2
    say("PID", mode, os.getpid())
    sleep_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
