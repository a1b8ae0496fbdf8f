"""vtm_reporting on its own (no framework, no VTM): the lines it prints."""

from __future__ import annotations

import io
import json
import sys
import types
from typing import Any, ClassVar

import pytest

import vtm_reporting
from vtm_reporting import META_PREFIX, PROGRESS_PREFIX, emit, meta, numbers, progress


def lines(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, dict[str, Any]]]:
    out = capsys.readouterr().out
    found = []
    for line in out.splitlines():
        prefix, _, payload = line.partition("::")
        found.append((prefix + "::", json.loads(payload)))
    return found


class Scalar:
    """What a numpy or torch scalar looks like to the reporter: ``.item()``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def item(self) -> float:
        return self.value


def test_progress_and_meta_are_one_flushed_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    progress(epoch=2, total_epochs=5, val_accuracy=0.5, device="cpu", step=40)
    meta(mlflow_run_id="abc")
    assert lines(capsys) == [
        (
            PROGRESS_PREFIX,
            {"epoch": 2, "total_epochs": 5, "val_accuracy": 0.5, "device": "cpu", "step": 40},
        ),
        (META_PREFIX, {"mlflow_run_id": "abc"}),
    ]


def test_non_finite_numbers_and_scalars_of_array_libraries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress(loss=float("nan"), big=float("inf"), acc=Scalar(0.25), when=object)
    ((_, data),) = lines(capsys)
    assert data["loss"] is None and data["big"] is None and data["acc"] == 0.25
    assert data["when"] == str(object)  # anything else is sent as its text


def test_numbers_keeps_what_can_be_charted() -> None:
    logs = {"loss": Scalar(0.5), "lr": 1e-3, "flag": True, "name": "x", "nan": float("nan")}
    assert numbers(logs) == {"loss": 0.5, "lr": 1e-3}


def test_a_bar_on_screen_is_written_around(monkeypatch: pytest.MonkeyPatch) -> None:
    # tqdm's own write: the bar is cleared, the line printed, the bar drawn again.
    written: list[tuple[str, Any]] = []

    class Bar:
        _instances: ClassVar[set[object]] = {object()}

        @staticmethod
        def write(line: str, file: Any = None) -> None:
            written.append((line, file))

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    out = io.StringIO()
    emit(PROGRESS_PREFIX, {"epoch": 1}, out)
    assert written == [('VTM_PROGRESS::{"epoch": 1}', out)]
    Bar._instances = set()  # no bar open: a plain line
    emit(PROGRESS_PREFIX, {"epoch": 2}, out)
    assert out.getvalue() == 'VTM_PROGRESS::{"epoch": 2}\n'


def test_the_run_s_places_come_from_vtm_s_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTM_RUN_ID", "r1")
    monkeypatch.setenv("VTM_RUN_DIR", "/runs/r1")
    monkeypatch.delenv("VTM_TENSORBOARD_DIR", raising=False)
    assert vtm_reporting.run_id() == "r1"
    assert str(vtm_reporting.run_dir()) == "/runs/r1"
    assert vtm_reporting.tensorboard_dir() is None
