"""The output parser against any mix of progress bars, ``\\r`` redraws, ANSI escapes, prose and
protocol messages, cut into reads anywhere: every well-formed message is found once and in
order, every malformed one counted once, every line counted, every byte consumed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from test_protocol import follow
from vtm.protocol import META_PREFIX, PROGRESS_PREFIX

# Text a trainer or a bar prints: letters, digits, punctuation, bar glyphs, never "VTM_".
PROSE = st.text(alphabet=st.sampled_from("abcxyz019 .,:;%|/[]<>=-_#█▏▌é✓"), min_size=0, max_size=12)
ANSI = st.sampled_from(["\x1b[2K", "\x1b[1;32m", "\x1b[0m", "\x1b[K", "\x1b[1A", "\x1b7"])
BAR = st.builds(
    lambda n, total: (
        f"\r{n * 100 // total:3d}%|{'█' * (n * 10 // total):<10}| {n}/{total} [00:01<00:02]"
    ),
    st.integers(0, 50),
    st.integers(50, 99),
)
VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)
MESSAGES = st.tuples(
    st.sampled_from(["progress", "meta"]),
    st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=6), VALUES, max_size=4),
    st.booleans(),  # ensure_ascii: multibyte payloads too
)
# What may end a message's segment: a line end, a redraw, escapes first.
AFTER = st.sampled_from(["\n", "\r", "\x1b[0m\n", "\x1b[K\r", " \t\n", "\r\n"])


@st.composite
def logs(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, dict[str, Any]]], int]:
    """(the log, the messages in it in order, how many malformed segments)."""
    out: list[str] = []
    messages: list[tuple[str, dict[str, Any]]] = []
    malformed = 0
    for _ in range(draw(st.integers(0, 25))):
        piece = draw(st.sampled_from(["prose", "ansi", "bar", "message", "bad", "newline"]))
        if piece == "prose":
            out.append(draw(PROSE))
        elif piece == "ansi":
            out.append(draw(ANSI))
        elif piece == "bar":
            out.append(draw(BAR))
        elif piece == "newline":
            out.append(draw(st.sampled_from(["\n", "\r", "\r\n"])))
        elif piece == "message":
            kind, data, ascii_only = draw(MESSAGES)
            prefix = PROGRESS_PREFIX if kind == "progress" else META_PREFIX
            out.append(prefix.decode() + json.dumps(data, ensure_ascii=ascii_only) + draw(AFTER))
            messages.append((kind, data))
        else:
            out.append(PROGRESS_PREFIX.decode() + "{broken" + draw(st.sampled_from(["\n", "\r"])))
            malformed += 1
    return "".join(out).encode(), messages, malformed


@settings(max_examples=300, deadline=None)
@given(logs(), st.lists(st.integers(0, 10_000), max_size=6), st.integers(1, 50))
def test_any_mix_in_any_chunking_finds_every_message_once(
    log: tuple[bytes, list[tuple[str, dict[str, Any]]], int], cuts: list[int], keep: int
) -> None:
    data, expected, malformed = log
    sizes = sorted({min(c, len(data)) for c in cuts})
    seen = follow(data, sizes, keep=keep)  # it also checks every byte is consumed, once
    assert [(m.kind, m.data) for m in seen.messages] == expected
    assert seen.malformed == malformed
    newlines = data.count(b"\n")
    assert seen.lines == newlines + (0 if not data or data.endswith(b"\n") else 1)
    assert seen == follow(data, [], keep=keep)  # the same as one read of the whole log
