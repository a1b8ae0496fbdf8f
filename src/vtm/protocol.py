"""Parse the trainer's output log in chunks: protocol messages, line counts and the log tail.

The server tails ``runs/<id>/output.log`` from a stored byte offset and hands each read to
:func:`parse_chunk`, which is stateless: everything the next call needs is the offset
(advanced by ``consumed``) and ``at_line_start``. Only whole lines are consumed, so a line
is parsed and counted exactly once however the file is cut into reads.

Speed: a trainer may print millions of lines. Lines are never iterated in Python; the
parser jumps between ``VTM_`` occurrences with ``bytes.find`` and builds the tail from the
end of the chunk, so ordinary output costs a few C-level scans per chunk.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

PROGRESS_PREFIX = b"VTM_PROGRESS::"
META_PREFIX = b"VTM_RUN_META::"
# Progress keys that locate a point in training rather than measure it: never a metric.
POSITION_KEYS = frozenset({"epoch", "total_epochs", "step"})
MAX_LINE_BYTES = 1 << 20  # a line longer than this is cut: kept as log text, never parsed

_MARK = b"VTM_"  # common start of both prefixes: the only byte string worth searching for
# Only a number with an exponent or over 308 digits can overflow a float to infinity, so
# only such payloads pay for the walk that turns infinities into None. Two patterns: one
# alternation of both is 2.5 times slower on every message.
_EXPONENT = re.compile(rb"[0-9][eE]")
_LONG_NUMBER = re.compile(rb"[0-9]{309}")
_PREFIX_BYTES = len(PROGRESS_PREFIX)  # both prefixes are 14 bytes
_PREFIXES = (PROGRESS_PREFIX.decode(), META_PREFIX.decode())
# What may follow a message's object on its segment: blanks and ANSI escapes (a colour reset,
# tqdm's erase-to-end-of-line), ECMA-48 CSI sequences and two-byte escapes.
_AFTER_PAYLOAD = re.compile(r"(?:[ \t]+|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_])*")
_TAIL_CHARS = 2000
_BAR = re.compile(rb"\| ?([0-9]{1,12})/([0-9]{1,12}) \[[0-9]")
_BAR_WINDOW = 4096  # a bar's latest redraw is in the last few hundred bytes
_NL, _CR = b"\n", b"\r"


@dataclass(frozen=True)
class ProtocolMessage:
    kind: Literal["progress", "meta"]
    data: dict[str, Any]


@dataclass(frozen=True)
class ChunkResult:
    consumed: int  # bytes of `data` fully handled; the caller advances its offset by this
    lines: int  # newline-terminated lines consumed (+1 for a final unterminated fragment)
    messages: list[ProtocolMessage]
    malformed: int  # protocol lines that could not be used
    tail: list[str]  # the last `tail_lines` consumed lines, decoded for display
    at_line_start: bool  # whether offset+consumed is the start of a line (True after final)
    bar: tuple[int, int] | None = None  # the last progress bar's (n, total) in the data


def parse_chunk(
    data: bytes, *, at_line_start: bool = True, final: bool = False, tail_lines: int = 50
) -> ChunkResult:
    """Handle the whole lines of ``data``; never raises, whatever the bytes.

    The unterminated rest is left for the next read, unless ``final`` (the run is over) or
    it is longer than MAX_LINE_BYTES: then it is taken as plain text and the result says
    ``at_line_start=False``, so the rest of that line is neither parsed nor counted again
    (and adds no tail entry) when it comes.
    """
    size = len(data)
    end = data.rfind(_NL) + 1
    if final or size - end > MAX_LINE_BYTES:
        end = size  # the run is over, or the unterminated line is too long to ever parse
    elif not at_line_start and end == 0:
        end = size  # more of a line already cut as too long: plain text, never parsed
    # A continuation of a cut line is not a line of its own: scanning starts after its \n.
    start = 0 if at_line_start else data.find(_NL, 0, end) + 1 or end
    lines = data.count(_NL, 0, end)
    line_open = data[end - 1] != 0x0A if end else not at_line_start
    if final and line_open:
        lines += 1  # the end of the run ends the last line, a cut one included
        line_open = False
    messages: list[ProtocolMessage] = []
    malformed = _scan(data, start, end, messages)
    return ChunkResult(
        consumed=end,
        lines=lines,
        messages=messages,
        malformed=malformed,
        tail=_tail(data, start, end, tail_lines),
        at_line_start=not line_open,
        bar=last_bar(data),
    )


def last_bar(data: bytes) -> tuple[int, int] | None:
    """Where the last tqdm-style bar in ``data`` stands: ``(n, total)``.

    Read from the end of everything read, the unfinished line included: a bar redraws itself
    with ``\\r`` and ends its line only when it closes. tqdm's format (Lightning's and Hugging
    Face's bars too) is ``desc: 40%|████      | 4/10 [00:01<00:02, 3.1it/s]``.
    """
    matches = list(_BAR.finditer(data, max(0, len(data) - _BAR_WINDOW)))
    if not matches:
        return None
    n, total = int(matches[-1][1]), int(matches[-1][2])
    return (n, total) if 0 <= n <= total and total > 0 else None


def merge_tail(old: list[str], new: list[str], keep: int) -> list[str]:
    """The last ``keep`` lines of ``old`` followed by ``new``."""
    if keep <= 0:
        return []
    if len(new) >= keep:
        return new[-keep:]
    return old[max(0, len(old) + len(new) - keep) :] + new


def _scan(data: bytes, pos: int, end: int, out: list[ProtocolMessage]) -> int:
    """Append the messages of the lines in ``data[pos:end]``; return the malformed count."""
    malformed = 0
    # One decoder per chunk: json.loads would build one for every line. Not module-wide,
    # because its C scanner keeps a per-call memo that threads would share.
    scan = json.JSONDecoder(parse_constant=_non_finite).raw_decode
    while (hit := data.find(_MARK, pos, end)) >= 0:
        line_start = data.rfind(_NL, pos, hit) + 1 or pos
        line_end = data.find(_NL, hit, end)
        line_end = end if line_end < 0 else line_end
        pos = line_end + 1
        if line_end - line_start > MAX_LINE_BYTES:
            # A cut line may hold a message; judge it by its first MAX_LINE_BYTES bytes,
            # which every split of the file sees, so it is counted exactly once.
            window = line_start + MAX_LINE_BYTES
            malformed += _next_prefix(data, hit, window) is not None
            continue
        malformed += _line(scan, data, hit, line_end, out)
    return malformed


def _next_prefix(data: bytes, hit: int, hi: int) -> tuple[int, Literal["progress", "meta"]] | None:
    """(position, kind) of the first prefix in ``data[hit:hi]``, ``hit`` being a ``VTM_``."""
    while 0 <= hit < hi:
        if data.startswith(PROGRESS_PREFIX, hit, hi):
            return hit, "progress"
        if data.startswith(META_PREFIX, hit, hi):
            return hit, "meta"
        hit = data.find(_MARK, hit + len(_MARK), hi)
    return None


def _line(
    scan: Callable[[str, int], tuple[Any, int]],
    data: bytes,
    hit: int,
    line_end: int,
    out: list[ProtocolMessage],
) -> int:
    """Append the messages of one line, whose first ``VTM_`` is at ``hit``; return the
    malformed count.

    A message starts wherever its prefix stands: at the start of the line or of a ``\\r``
    segment, or after what a progress bar drew there (tqdm's ``\\r 40%|████ | 4/10``, ANSI
    colours and cursor moves) when the trainer printed over it. Its JSON object runs to the
    end of its segment; only blanks, ANSI escapes or another message may follow it.
    """
    malformed = 0
    while (found := _next_prefix(data, hit, line_end)) is not None:
        at, kind = found
        start = at + _PREFIX_BYTES
        seg_end = data.find(_CR, start, line_end)
        seg_end = line_end if seg_end < 0 else seg_end
        decoded = _decode(scan, kind, data, start, seg_end)
        if decoded is None:
            malformed += 1  # once for the segment, whatever else it holds
            hit = data.find(_MARK, seg_end, line_end)
            continue
        message, stop = decoded
        out.append(message)
        hit = data.find(_MARK, stop, line_end)
    return malformed


def _decode(
    scan: Callable[[str, int], tuple[Any, int]],
    kind: Literal["progress", "meta"],
    data: bytes,
    start: int,
    seg_end: int,
) -> tuple[ProtocolMessage, int] | None:
    """The message whose payload starts at ``start``, and where in ``data`` it ends."""
    payload = data[start:seg_end]
    try:
        text = payload.decode("utf-8")
        lead = len(text) - len(text.lstrip())
        value, stop = scan(text, lead)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: bad JSON or an integer past the int-string limit; RecursionError:
        # absurdly nested arrays.
        return None
    if type(value) is not dict:
        return None
    rest = _AFTER_PAYLOAD.match(text, stop)
    assert rest is not None  # the pattern matches the empty string
    if rest.end() != len(text) and not text.startswith(_PREFIXES, rest.end()):
        return None  # text after the object: "{} {}", or prose
    if _EXPONENT.search(payload) or (len(payload) > 309 and _LONG_NUMBER.search(payload)):
        value = _finite(value)
    if (b"\\ud" in payload or b"\\uD" in payload) and not _encodable(value):
        return None  # a lone surrogate escape: valid JSON, but no UTF-8 can carry it onward
    # Bytes, not characters, for the caller's next search; ASCII payloads need no encoding.
    end = start + (stop if payload.isascii() else len(text[:stop].encode("utf-8")))
    return ProtocolMessage(kind, value), end


def _non_finite(_token: str) -> None:
    return None  # NaN, Infinity, -Infinity: JSON has no such numbers, the server stores null


def _finite(value: Any) -> Any:
    """``value`` with floats that overflowed to infinity (``1e999``) replaced by None."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is dict:
        return {key: _finite(item) for key, item in value.items()}
    if type(value) is list:
        return [_finite(item) for item in value]
    return value


def _encodable(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _tail(data: bytes, start: int, end: int, count: int) -> list[str]:
    """Display text of the last ``count`` lines of ``data[start:end]``, walking backwards."""
    if end <= start or count <= 0:
        return []
    out: list[str] = []
    hi = end - 1 if data[end - 1] == 0x0A else end  # where the last line's text ends
    while len(out) < count:
        lo = data.rfind(_NL, start, hi) + 1 or start
        out.append(_display(data, lo, hi))
        if lo == start:
            break
        hi = lo - 1
    out.reverse()
    return out


def _display(data: bytes, lo: int, hi: int) -> str:
    """What a terminal shows for a line: its last non-empty ``\\r`` segment, cut short."""
    while hi > lo and data[hi - 1] == 0x0D:
        hi -= 1  # "\r\n" endings and redraws that end in "\r"
    lo = data.rfind(_CR, lo, hi) + 1 or lo
    size = hi - lo
    # Decode at most what can hold the shown characters (a character is at most 4 bytes),
    # so a 1 MB line costs no more than a short one.
    text = data[lo : min(hi, lo + 4 * _TAIL_CHARS + 4)].decode("utf-8", errors="replace")
    if len(text) > _TAIL_CHARS or size > 4 * _TAIL_CHARS + 4:
        return f"{text[:_TAIL_CHARS]}… [{size} bytes]"
    return text
