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
MAX_LINE_BYTES = 1 << 20  # a line longer than this is cut: kept as log text, never parsed

_MARK = b"VTM_"  # common start of both prefixes: the only byte string worth searching for
# Only a number with an exponent or over 308 digits can overflow a float to infinity, so
# only such payloads pay for the walk that turns infinities into None. Two patterns: one
# alternation of both is 2.5 times slower on every message.
_EXPONENT = re.compile(rb"[0-9][eE]")
_LONG_NUMBER = re.compile(rb"[0-9]{309}")
_TAIL_CHARS = 2000
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
    )


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
            # A cut line may hold a protocol segment; judge it by its first MAX_LINE_BYTES
            # bytes, which every split of the file sees, so it is counted exactly once.
            window = line_start + MAX_LINE_BYTES
            malformed += _segment(data, line_start, window, window) is not None
            continue
        seg = _segment(data, line_start, line_end, hit)
        while seg is not None:
            payload_start, seg_end, kind = seg
            message = _decode(scan, kind, data[payload_start:seg_end])
            if message is None:
                malformed += 1
            else:
                out.append(message)
            seg = _segment(data, seg_end, line_end, line_end) if seg_end < line_end else None
    return malformed


def _segment(
    data: bytes, lo: int, hi: int, first_hit: int
) -> tuple[int, int, Literal["progress", "meta"]] | None:
    """The first ``\\r``-separated segment of ``data[lo:hi]`` that starts with a prefix.

    Returns (payload start, segment end, kind). ``first_hit`` is where the caller already
    found ``VTM_`` (``hi`` if it has not looked), so the search never starts over.
    """
    hit = first_hit if first_hit < hi else data.find(_MARK, lo, hi)
    while 0 <= hit < hi:
        seg_start = data.rfind(_CR, lo, hit) + 1 or lo
        seg_end = data.find(_CR, hit, hi)
        seg_end = hi if seg_end < 0 else seg_end
        # Only blanks may come before the prefix: "loss VTM_PROGRESS::{}" is prose.
        if seg_start == hit or not data[seg_start:hit].strip(b" \t"):
            if data.startswith(PROGRESS_PREFIX, hit, seg_end):
                return hit + len(PROGRESS_PREFIX), seg_end, "progress"
            if data.startswith(META_PREFIX, hit, seg_end):
                return hit + len(META_PREFIX), seg_end, "meta"
        hit = data.find(_MARK, seg_end, hi)
    return None


def _decode(
    scan: Callable[[str], tuple[Any, int]],
    kind: Literal["progress", "meta"],
    payload: bytes,
) -> ProtocolMessage | None:
    try:
        text = payload.strip().decode("utf-8")
        value, stop = scan(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: bad JSON or an integer past the int-string limit; RecursionError:
        # absurdly nested arrays.
        return None
    if stop != len(text) or type(value) is not dict:
        return None
    if _EXPONENT.search(payload) or (len(payload) > 309 and _LONG_NUMBER.search(payload)):
        value = _finite(value)
    if (b"\\ud" in payload or b"\\uD" in payload) and not _encodable(value):
        return None  # a lone surrogate escape: valid JSON, but no UTF-8 can carry it onward
    return ProtocolMessage(kind, value)


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
