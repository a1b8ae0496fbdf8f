"""What `vtm run --follow` and `vtm runs` keep at a fixed terminal width."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console, RenderableType

from vtm.cli.follow import Follower, progress_line
from vtm.cli.runs_table import cut_metric, runs_table

# A trainer that reports plenty: wider than 80 columns once it is on the line.
RUNNING: dict[str, Any] = {
    "id": "20261202-015825-a1b2c3",
    "status": "running",
    "progress": {
        "epoch": 3,
        "total_epochs": 10,
        "val_accuracy": 0.912345,
        "val_loss": 0.234567,
        "train_loss": 0.345678,
        "lr": 0.001,
        "device": "cuda:0",
    },
}


def render(renderable: RenderableType, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    lines: list[str] = out.rstrip("\n").split("\n")
    return lines


def follow_line(width: int, run: dict[str, Any] = RUNNING, status: str | None = None) -> str:
    [line] = render(progress_line(run, width, 75.0, status), width)  # one line, never two
    assert len(line) <= width, line
    return line


def test_the_follow_line_shows_everything_when_there_is_room() -> None:
    line = follow_line(200)
    assert line.startswith("running ")
    assert "━" in line
    assert "epoch 3/10 0:01:15 val_accuracy=0.9123 val_loss=0.2346" in line
    assert line.endswith("lr=0.001 device=cuda:0")


def test_at_80_columns_the_metrics_are_cut_first() -> None:
    line = follow_line(80)
    assert line.startswith("running ")
    assert "━" in line
    assert "epoch 3/10 0:01:15 val_accuracy=0.9123" in line
    assert line.endswith(" …")  # whole items only: the rest is "…"
    assert "device=" not in line


@pytest.mark.parametrize("width", [60, 44, 40])
def test_narrower_the_metrics_then_the_time_go_before_the_bar_and_epoch(width: int) -> None:
    line = follow_line(width)
    assert line.startswith("running ")
    assert "━" * 3 in line  # 3 of 10 epochs done: the bar's filled part is still there
    assert "epoch 3/10" in line
    assert ("val_accuracy" in line) == (width >= 60)


def test_in_the_narrowest_terminals_the_status_bar_and_epoch_remain() -> None:
    line = follow_line(26)
    assert line.startswith("running ")
    assert "━" in line
    assert line.rstrip().endswith("3/10")


def test_without_epochs_the_trainer_s_own_progress_bar_is_followed() -> None:
    run = {
        "id": "x",
        "status": "running",
        "progress": {"bar": {"n": 4, "total": 10}, "step": 40, "train/loss": 0.5},
    }
    line = follow_line(80, run)
    assert "step 4/10 0:01:15 train/loss=0.5" in line  # the position keys are no metrics
    assert "step=" not in line


def test_the_line_before_any_progress_and_while_reconnecting() -> None:
    queued = follow_line(80, {"id": "x", "status": "queued", "progress": {}})
    assert queued.startswith("queued ")
    assert "epoch" not in queued
    assert follow_line(80, status="reconnecting…").startswith("reconnecting… ")


def test_the_follower_renders_at_the_consoles_width() -> None:
    follower = Follower(Console(width=80, file=io.StringIO()))
    follower.show(RUNNING)
    [line] = render(follower, 80)
    assert line.startswith("running ") and "epoch 3/10" in line


RUNS: list[dict[str, Any]] = [
    {
        "id": "20261202-015825-a1b2c3",
        "taskId": "shapes-segmentation",
        "status": "completed",
        "progress": {"epoch": 10, "total_epochs": 10, "val_iou": 0.81234},
        "createdAt": "2026-12-02T01:58:25Z",
    },
    {
        "id": "20261202-015826-ffffff",
        "taskId": "digits-evaluate",
        "status": "running",
        "progress": {"epoch": 3, "total_epochs": 100, "test_accuracy": 0.91234},
        "createdAt": "2026-12-02T01:58:26Z",
    },
    {
        "id": "20261202-015827-000000",
        "taskId": "digits-cnn",
        "status": "queued",
        "progress": {},
        "createdAt": "2026-12-02T01:58:27Z",
    },
]
PRIMARY = {
    "shapes-segmentation": "val_iou",
    "digits-evaluate": "test_accuracy",
    "digits-cnn": "val_accuracy",
}


def table_rows(width: int) -> list[list[str]]:
    lines = render(runs_table(RUNS, PRIMARY, width), width)
    assert all(len(line) <= width for line in lines), lines
    assert len(lines) == 1 + len(RUNS), lines  # a header, then one line per run: no wrapping
    return [line.split() for line in lines]


def test_runs_show_every_column_when_there_is_room() -> None:
    header, *rows = table_rows(120)
    assert header == ["id", "task", "status", "epoch", "metric", "created"]
    assert rows[0] == [
        "20261202-015825-a1b2c3",
        "shapes-segmentation",
        "completed",
        "10/10",
        "val_iou=0.8123",
        "12-02",
        "01:58",
    ]


def test_runs_at_80_columns_keep_ids_tasks_and_metric_values_whole() -> None:
    header, *rows = table_rows(80)
    # The creation time goes first: the run id starts with it.
    assert header == ["id", "task", "status", "epoch", "metric"]
    assert [r[:4] for r in rows[:2]] == [
        ["20261202-015825-a1b2c3", "shapes-segmentation", "completed", "10/10"],
        ["20261202-015826-ffffff", "digits-evaluate", "running", "3/100"],
    ]
    assert rows[0][4] == "val_iou=0.8123"
    assert rows[1][4].endswith("…=0.9123")  # the name is cut, never the value
    assert rows[2] == ["20261202-015827-000000", "digits-cnn", "queued"]


@pytest.mark.parametrize("width", [60, 50, 40, 34])
def test_narrower_runs_keep_the_id_and_the_status(width: int) -> None:
    _, *rows = table_rows(width)
    assert [(r[0], r[-1]) for r in rows] == [
        ("20261202-015825-a1b2c3", "completed"),
        ("20261202-015826-ffffff", "running"),
        ("20261202-015827-000000", "queued"),
    ]


def test_a_cut_metric_keeps_its_value() -> None:
    assert cut_metric("test_accuracy=0.9123", 20) == "test_accuracy=0.9123"
    assert cut_metric("test_accuracy=0.9123", 14) == "test_a…=0.9123"
    assert cut_metric("test_accuracy=0.9123", 8) == "test_ac…"
