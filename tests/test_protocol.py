"""The output-log chunk parser: every rule, and exactly-once counting across any split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from vtm import protocol
from vtm.protocol import MAX_LINE_BYTES, ProtocolMessage, merge_tail, parse_chunk


@dataclass
class Totals:
    lines: int = 0
    messages: list[ProtocolMessage] = field(default_factory=list)
    malformed: int = 0
    tail: list[str] = field(default_factory=list)


def follow(log: bytes, sizes: list[int], keep: int = 50) -> Totals:
    """Read ``log`` as the server does while the file grows to each of ``sizes``, then ends."""
    offset, at_start, seen = 0, True, Totals()
    for size in [*sizes, len(log)]:
        final = size == len(log)
        result = parse_chunk(log[offset:size], at_line_start=at_start, final=final, tail_lines=keep)
        assert 0 <= result.consumed <= size - offset
        offset += result.consumed
        at_start = result.at_line_start
        seen.lines += result.lines
        seen.messages += result.messages
        seen.malformed += result.malformed
        seen.tail = merge_tail(seen.tail, result.tail, keep)
    assert offset == len(log)
    return seen


def msgs(data: bytes, **kw: Any) -> list[dict[str, Any]]:
    return [m.data for m in parse_chunk(data, **kw).messages]


MIXED_LOG = (
    b"starting\n"
    b'VTM_RUN_META::{"mlflow_run_id": "abc"}\n'
    b"\rEpoch 1  10%\rEpoch 1  50%\r"
    b'VTM_PROGRESS::{"epoch": 1, "loss": 0.5}\n'
    b'  \tVTM_PROGRESS::{"epoch": 2, "loss": NaN}\r\n'
    b'note VTM_PROGRESS::{"epoch": 99}\n'
    b"VTM_PROGRESS::{broken\n"
    b"VTM_PROGRESS::[1, 2]\n"
    b'VTM_PROGRESS::{"bad": "\xff\xfe"}\n'
    b"\n"
    b"caf\xc3\xa9 \xe2\x9c\x93 done\n"
    b'VTM_PROGRESS::{"epoch": 3}\rVTM_RUN_META::{"x": 1}\r\n'
    b'trailing fragment VTM_RUN_META::{"no": 1}'
)


def test_ordinary_lines_are_counted_and_tailed() -> None:
    result = parse_chunk(b"one\ntwo\nthree\n")
    assert (result.consumed, result.lines, result.messages, result.malformed) == (14, 3, [], 0)
    assert result.tail == ["one", "two", "three"]
    assert result.at_line_start


def test_messages_come_in_order_with_their_kind() -> None:
    result = parse_chunk(MIXED_LOG)
    assert [(m.kind, m.data) for m in result.messages] == [
        ("meta", {"mlflow_run_id": "abc"}),
        ("progress", {"epoch": 1, "loss": 0.5}),
        ("progress", {"epoch": 2, "loss": None}),
        ("progress", {"epoch": 99}),
        ("progress", {"epoch": 3}),
        ("meta", {"x": 1}),
    ]
    assert result.malformed == 3
    assert result.lines == 11  # the unterminated fragment is left for the next read
    assert result.consumed == MIXED_LOG.rindex(b"\n") + 1


def test_tqdm_redraws_before_a_message_do_not_hide_it() -> None:
    assert msgs(b'\rEpoch 3 50%\rVTM_PROGRESS::{"epoch": 3}\n') == [{"epoch": 3}]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"loss VTM_PROGRESS::{}", ("progress", {})),
        (b"xVTM_RUN_META::{}", ("meta", {})),
        # Python's tqdm while its bar is drawn: the bar, then the trainer's print over it.
        (
            b'\r 40%|\xe2\x96\x88\xe2\x96\x88  | 4/10 [00:01<00:02]VTM_PROGRESS::{"e": 4}',
            ("progress", {"e": 4}),
        ),
        # A coloured bar (Lightning's Rich bar, Keras): escapes before and after the message.
        (
            b'\x1b[2K\x1b[1;32mEpoch 1\x1b[0m VTM_PROGRESS::{"e": 1}\x1b[0m\x1b[K',
            ("progress", {"e": 1}),
        ),
    ],
)
def test_a_message_after_what_a_progress_bar_drew_is_found(
    line: bytes, message: tuple[str, dict[str, Any]]
) -> None:
    result = parse_chunk(line + b"\n")
    assert [(m.kind, m.data) for m in result.messages] == [message]
    assert result.malformed == 0
    assert result.tail == [line.decode().rpartition("\r")[2]]  # the log's bytes, shown as is


@pytest.mark.parametrize(
    "line",
    [b'"VTM_PROGRESS::{}"', b"grep VTM_PROGRESS:: out.log", b'bar VTM_RUN_META::{"a": 1'],
)
def test_a_line_with_a_prefix_and_no_message_is_a_protocol_error(line: bytes) -> None:
    result = parse_chunk(line + b"\n")
    assert (result.messages, result.malformed, result.tail) == ([], 1, [line.decode()])


def test_text_without_a_whole_prefix_is_prose() -> None:
    result = parse_chunk(b"VTM_PROGRES::{}\nVTM_ only\nVTM_PROGRESS:{}\n")
    assert (result.messages, result.malformed, result.lines) == ([], 0, 3)


def test_messages_one_after_another_on_a_segment_are_all_found() -> None:
    line = (
        b'VTM_PROGRESS::{"a": 1} VTM_RUN_META::{"m": "VTM_PROGRESS::x"}\r 5/9VTM_PROGRESS::{"b": 2}'
    )
    result = parse_chunk(line + b"\n")
    assert [m.data for m in result.messages] == [{"a": 1}, {"m": "VTM_PROGRESS::x"}, {"b": 2}]
    assert result.malformed == 0
    wide = 'VTM_RUN_META::{"m": "café ✓"}VTM_PROGRESS::{"c": 3}\n'.encode()
    assert [m.data for m in parse_chunk(wide).messages] == [{"m": "café ✓"}, {"c": 3}]


def test_a_bad_segment_counts_once_and_the_next_segment_still_parses() -> None:
    result = parse_chunk(b'VTM_PROGRESS::{"a": "VTM_PROGRESS::"} prose\rVTM_PROGRESS::{"b": 2}\n')
    assert ([m.data for m in result.messages], result.malformed) == ([{"b": 2}], 1)


def test_blanks_before_the_prefix_and_after_the_payload_are_allowed() -> None:
    assert msgs(b' \t VTM_PROGRESS:: {"a": 1} \t\r\n') == [{"a": 1}]


@pytest.mark.parametrize(
    "payload",
    [
        b"{broken",
        b"[1, 2]",
        b'"text"',
        b"3",
        b"",
        b"{} {}",
        b'{"a": "\xff"}',
        b'{"a": "\\ud800"}',  # a lone surrogate cannot be stored as UTF-8 later
        b'{"a": 1' + b"1" * 5000 + b"}",  # past Python's int-string limit
        b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust the recursion limit
    ],
)
def test_malformed_payloads_are_counted_and_kept_as_log_text(payload: bytes) -> None:
    line = b"VTM_PROGRESS::" + payload
    result = parse_chunk(b"before\n" + line + b"\nafter\n")
    assert (result.messages, result.malformed, result.lines) == ([], 1, 3)
    assert result.tail[0] == "before" and result.tail[2] == "after"


def test_non_finite_numbers_become_none_at_any_depth() -> None:
    data = b'VTM_PROGRESS::{"a": NaN, "b": -Infinity, "c": 1e999, "d": [1E400, {"e": 2.5}]}\n'
    assert msgs(data) == [{"a": None, "b": None, "c": None, "d": [None, {"e": 2.5}]}]
    assert msgs(b'VTM_PROGRESS::{"big": ' + b"9" * 400 + b".0}\n") == [{"big": None}]


def test_random_bytes_never_raise() -> None:
    rng = random.Random(7)
    pieces = [b"VTM_PROGRESS::", b"VTM_RUN_META::", b"{", b"}", b'"', b"\r", b"\n", b"\xff"]
    for _ in range(300):
        data = b"".join(
            rng.choice(pieces) if rng.random() < 0.3 else bytes([rng.randrange(256)])
            for _ in range(rng.randrange(200))
        )
        for start in (True, False):
            result = parse_chunk(data, at_line_start=start, final=rng.random() < 0.5)
            assert result.consumed <= len(data)


def test_an_unterminated_line_waits_for_its_newline() -> None:
    first = parse_chunk(b'done\nVTM_PROGRESS::{"a"')
    assert (first.consumed, first.lines, first.messages, first.at_line_start) == (5, 1, [], True)
    second = parse_chunk(b'VTM_PROGRESS::{"a": 1}\n')
    assert [m.data for m in second.messages] == [{"a": 1}]


def test_final_consumes_and_counts_the_last_fragment_once() -> None:
    result = parse_chunk(b'a\nVTM_RUN_META::{"k": 1}', final=True)
    assert (result.consumed, result.lines, result.tail) == (24, 2, ["a", 'VTM_RUN_META::{"k": 1}'])
    assert [m.data for m in result.messages] == [{"k": 1}]
    assert result.at_line_start  # the end of the run closed the line: a re-read adds nothing
    again = parse_chunk(b"", at_line_start=result.at_line_start, final=True)
    assert (again.consumed, again.lines) == (0, 0)


def test_a_continuation_is_never_parsed_nor_counted_as_a_new_line() -> None:
    data = b'VTM_PROGRESS::{"a": 1}\nVTM_PROGRESS::{"b": 2}\n'
    result = parse_chunk(data, at_line_start=False)
    assert [m.data for m in result.messages] == [{"b": 2}]
    assert (result.lines, result.tail) == (2, ['VTM_PROGRESS::{"b": 2}'])
    middle = parse_chunk(b"more of the cut line", at_line_start=False)
    assert (middle.consumed, middle.lines, middle.tail, middle.at_line_start) == (20, 0, [], False)


def test_a_10_mb_line_without_newline_is_cut_across_reads() -> None:
    huge = b'VTM_PROGRESS::{"x": "' + b"y" * (10 << 20) + b'"}'
    log = huge + b'\nVTM_PROGRESS::{"ok": 1}\nnext'
    offset, at_start, lines, malformed, calls = 0, True, 0, 0, 0
    while offset < len(log) - 4:  # "next" waits for its newline
        size = min(len(log), offset + 3 * MAX_LINE_BYTES)  # the server reads 3 MB at a time
        result = parse_chunk(log[offset:size], at_line_start=at_start)
        assert result.consumed > 0, "a long line must never stall the reader"
        if offset + result.consumed < len(huge):
            assert not result.at_line_start and result.lines == 0 and not result.messages
        offset += result.consumed
        at_start, lines, malformed = (
            result.at_line_start,
            lines + result.lines,
            malformed + result.malformed,
        )
        calls += 1
    assert calls >= 4 and (lines, malformed, at_start) == (2, 1, True)
    assert [m.data for m in result.messages] == [{"ok": 1}]


def test_an_overlong_terminated_line_is_malformed_and_its_tail_entry_cut() -> None:
    line = b"VTM_PROGRESS::" + b"z" * MAX_LINE_BYTES
    result = parse_chunk(line + b"\n")
    assert (result.messages, result.malformed, result.lines) == ([], 1, 1)
    assert result.tail == ["VTM_PROGRESS::" + "z" * 1986 + f"… [{len(line)} bytes]"]


def test_the_tail_shows_what_a_terminal_would() -> None:
    data = b"a\rb\r\nepoch 1\r 50%\r100%\r\r\n\n\xff ok\n" + b"x" * 2500 + b"\n"
    assert parse_chunk(data, tail_lines=10).tail == [
        "b",
        "100%",
        "",
        "\ufffd ok",
        "x" * 2000 + "… [2500 bytes]",
    ]
    assert parse_chunk(data, tail_lines=2).tail == ["\ufffd ok", "x" * 2000 + "… [2500 bytes]"]
    assert parse_chunk(data, tail_lines=0).tail == []
    wide = "é" * 2001
    assert parse_chunk(wide.encode() + b"\n").tail == ["é" * 2000 + "… [4002 bytes]"]


def test_merge_tail_keeps_the_newest() -> None:
    assert merge_tail(["a", "b", "c"], ["d"], 3) == ["b", "c", "d"]
    assert merge_tail(["a"], ["b", "c", "d", "e"], 3) == ["c", "d", "e"]
    assert merge_tail([], ["a"], 3) == ["a"]
    assert merge_tail(["a", "b", "c"], [], 5) == ["a", "b", "c"]
    assert merge_tail(list("abcdefghij"), ["k"], 13) == list("abcdefghijk")
    assert merge_tail(["a"], [], 0) == []


def test_every_split_of_a_log_gives_the_single_pass_totals() -> None:
    whole = follow(MIXED_LOG, [])
    assert (whole.lines, whole.malformed, len(whole.messages)) == (12, 3, 7)
    for cut in range(len(MIXED_LOG) + 1):
        assert follow(MIXED_LOG, [cut], keep=4) == follow(MIXED_LOG, [], keep=4), cut
    rng = random.Random(11)
    for _ in range(200):
        sizes = sorted(rng.sample(range(len(MIXED_LOG)), rng.randrange(1, 30)))
        assert follow(MIXED_LOG, sizes) == whole


def test_every_split_counts_cut_lines_exactly_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A small limit makes "longer than MAX_LINE_BYTES" cheap to try at every position.
    monkeypatch.setattr(protocol, "MAX_LINE_BYTES", 40)
    log = (
        b'VTM_PROGRESS::{"a": 1}\n'  # 22 bytes: parsed
        b'VTM_PROGRESS::{"long": "xxxxxxxxxxxxxxx"}\n'  # 41 bytes: cut, malformed once
        b'\rredraw\rVTM_RUN_META::{"m": 1}\r\n'  # 31 bytes: parsed
        b"plain text that runs well past the limit VTM_PROGRESS::{}\n"  # cut, no message
        b'VTM_RUN_META::{"b": 2}\n'
        b'VTM_PROGRESS::{"still": "cut and never ends"'  # 44 bytes when the run ends: cut
    )
    whole = follow(log, [])
    assert (whole.lines, whole.malformed) == (6, 2)
    assert [m.data for m in whole.messages] == [{"a": 1}, {"m": 1}, {"b": 2}]
    for cut in range(len(log) + 1):
        for second in (cut, min(len(log), cut + 5), min(len(log), cut + 30)):
            split = follow(log, [cut, second])
            assert (split.lines, split.messages, split.malformed) == (
                whole.lines,
                whole.messages,
                whole.malformed,
            ), (cut, second)


@pytest.mark.parametrize(
    ("data", "bar"),
    [
        (b"\rEpoch 0:  40%|####      | 4/10 [00:01<00:02, 3.1it/s, loss=0.5]", (4, 10)),
        # Several redraws and a finished bar: the last one counts.
        (b"\r 10%|#| 1/10 [00:00<00:09]\r 20%|##| 2/10 [00:00<00:08]\n", (2, 10)),
        # Hugging Face's: no description, bar glyphs; the line not yet ended.
        ("\r 50%|█████     | 8/16 [00:02<00:02,  3.85it/s]".encode(), (8, 16)),
        (b"loss 4/10 of the data\n", None),  # a fraction in prose is no bar
        (b"\r 10%|#| 11/10 [00:00<00:09]", None),  # nonsense: past its total
    ],
)
def test_the_last_progress_bar_is_read_from_the_end_of_the_data(
    data: bytes, bar: tuple[int, int] | None
) -> None:
    assert parse_chunk(data).bar == bar


def test_a_bar_is_read_even_from_a_read_that_ends_no_line() -> None:
    result = parse_chunk(b"start\n\r 30%|###  | 3/10 [00:01<00:02]")
    assert (result.consumed, result.bar) == (6, (3, 10))
