"""The `vtm` command's entry point: `vtm exec` goes to a spare on this machine when one waits
(VTM_EXEC_SPARE), before the CLI's imports, which are what the spare saves; anything else,
or no spare, runs the CLI here."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["exec"]:
        from vtm.exec.handover import SPARE_ENV, hand_over

        spare = os.environ.get(SPARE_ENV)
        code = hand_over(spare, sys.argv) if spare else None
        if code is not None:
            raise SystemExit(code)
    from vtm.cli.app import main as cli_main

    cli_main()
