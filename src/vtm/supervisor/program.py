"""VTM's per-run supervisor program: ``python -I -S program.py RUN_DIR``.

Python never caches a script's bytecode, so this script stays tiny and the supervisor lives
in ``program_start`` and ``program_watch`` beside it, imported by plain name (from this folder,
searched after the standard library) so their cached bytecode is used. They import the
standard library only, never the ``vtm`` package: their start-up lies between "start a run"
and the trainer's first statement.
"""

import os
import sys

TYPE_CHECKING = False  # mypy takes any TYPE_CHECKING as true; importing typing costs time

if __name__ == "__main__":
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    if TYPE_CHECKING:
        from vtm.supervisor import program_start
    else:
        import program_start
    sys.exit(program_start.main(sys.argv))
