"""Why a trainer failed, read from the end of its output.

The supervisor knows only how the trainer ended ("exited with code 1"). The output usually
says why: a Python trainer dies with a traceback whose last line is the exception
(``RuntimeError: CUDA out of memory…``), other programs print a last line before giving up.
stdout and stderr share ``output.log`` (the trainer writes it itself), so the fallback is the
last line the trainer printed that is not a protocol message.
"""

from __future__ import annotations

import re
from pathlib import Path

from vtm.protocol import META_PREFIX, PROGRESS_PREFIX

# Tracebacks are short; the end of a huge log is all that is read.
TAIL_BYTES = 64 * 1024
MAX_CAUSE_CHARS = 300

_MARKERS = (PROGRESS_PREFIX.decode(), META_PREFIX.decode())
_TRACEBACK = "Traceback (most recent call last):"
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
# The line naming the exception: ``pkg.module.Error: message`` or a bare ``KeyboardInterrupt``.
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?::\s.*|:)?$")


def _display_lines(raw: bytes) -> list[str]:
    """The tail's lines as a terminal would show them: ANSI escapes dropped, only what is
    after a line's last carriage return (a progress bar redraws itself with ``\\r``)."""
    text = raw.decode("utf-8", errors="replace")
    lines = []
    for line in text.splitlines():
        shown = _ANSI.sub("", line.rsplit("\r", 1)[-1]).rstrip()
        if shown:
            lines.append(shown)
    return lines


def _exception_line(lines: list[str]) -> str | None:
    """The exception of the last traceback in ``lines`` (chained ones end with the last)."""
    starts = [i for i, line in enumerate(lines) if line.strip() == _TRACEBACK]
    if not starts:
        return None
    after = lines[starts[-1] + 1 :]
    # Frames and source lines are indented; the exception is the first line that is not.
    for line in after:
        if not line[:1].isspace() and _EXCEPTION.match(line):
            return line
    return None


def _last_printed(lines: list[str]) -> str | None:
    for line in reversed(lines):
        if not line.lstrip().startswith(_MARKERS):
            return line.strip()
    return None


def cause_in_output(output_log: Path) -> str | None:
    """What the end of the trainer's output says went wrong, if anything."""
    try:
        with output_log.open("rb") as log:
            size = log.seek(0, 2)
            log.seek(max(0, size - TAIL_BYTES))
            raw = log.read()
    except OSError:
        return None
    lines = _display_lines(raw)
    if size > TAIL_BYTES and lines:
        lines = lines[1:]  # the first line of the window is likely cut
    cause = _exception_line(lines) or _last_printed(lines)
    if cause is None:
        return None
    return cause if len(cause) <= MAX_CAUSE_CHARS else cause[: MAX_CAUSE_CHARS - 1] + "…"


def explain(reason: str | None, output_log: Path) -> str | None:
    """``reason`` of a trainer that exited by itself, led by the cause its output shows:
    ``RuntimeError: CUDA out of memory (exited with code 1)``. Stops, timeouts and lost
    supervisors say what happened already and are kept as they are."""
    if reason is None or not reason.startswith(("exited with code", "killed by signal")):
        return reason
    cause = cause_in_output(output_log)
    return f"{cause} ({reason})" if cause else reason
