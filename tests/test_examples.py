"""The sample catalog and trainers in examples/, run for real as subprocesses.

The trainers are checked against the catalog itself (flags computed from its fields, never
hard-coded here), so a field added to the catalog without a matching flag fails these tests.
The torch trainers are marked ``slow``; each trains for a couple of seconds on small settings.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from vtm.catalog.models import Catalog

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CATALOG_PATH = EXAMPLES / "training_catalog.yaml"
PROGRESS = "VTM_PROGRESS::"

# `make test` installs the examples extra: a missing torch is a failure, not a skip.
needs_torch = pytest.mark.slow


def load_catalog() -> dict[str, Any]:
    with CATALOG_PATH.open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


CATALOG = load_catalog()
TASK_IDS = sorted(CATALOG["tasks"])


def task_fields(task_id: str) -> dict[str, dict[str, Any]]:
    """Name -> spec with the resolved default, merged as docs/catalog.md says (base, then task)."""
    task = CATALOG["tasks"][task_id]
    base = CATALOG["baseTaskTypes"][task["baseTaskType"]]
    fields = {name: dict(spec) for name, spec in base.get("fields", {}).items()}
    fields.update({name: dict(spec) for name, spec in task.get("extraFields", {}).items()})
    for name, value in task.get("defaults", {}).items():
        fields[name]["default"] = value
    return fields


def flag(name: str, spec: dict[str, Any]) -> str:
    return str(spec.get("flag") or f"--{name}")


def command(task_id: str, **overrides: Any) -> list[str]:
    """The command VTM would build: every field, ``--name=value``, a true bool bare."""
    task = CATALOG["tasks"][task_id]
    argv = [sys.executable, str(EXAMPLES / task["runner"]["target"])]
    for name, spec in task_fields(task_id).items():
        value = overrides.get(name, spec.get("default"))
        if spec["type"] == "bool":
            if value:
                argv.append(flag(name, spec))
        elif value is not None:
            argv.append(f"{flag(name, spec)}={value}")
    return argv


def run(argv: list[str], tmp_path: Path, *, timeout: float = 120, **env: str) -> tuple[str, Any]:
    """Run a trainer the way VTM does: its own env vars, stdout captured (a pipe, not a tty)."""
    full_env = {
        **os.environ,
        "VTM_RUN_DIR": str(tmp_path / "run"),
        "VTM_TENSORBOARD_DIR": str(tmp_path / "tb"),
        "PYTHONWARNINGS": "ignore",  # a library's warning in the child is not this test's concern
        **env,
    }
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=full_env, check=False
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, proc


def progress_lines(stdout: str) -> list[dict[str, Any]]:
    records = []
    for line in stdout.splitlines():
        if line.startswith(PROGRESS):
            record = json.loads(line[len(PROGRESS) :])
            assert isinstance(record, dict), line
            records.append(record)
    return records


def check_progress(records: list[dict[str, Any]], epochs: int, metric: str) -> None:
    assert [r["epoch"] for r in records] == list(range(1, epochs + 1))
    assert all(r["total_epochs"] == epochs for r in records)
    for r in records:
        assert 0.0 <= r[metric] <= 1.0, r
        assert isinstance(r["train_loss"], float)
        assert isinstance(r["val_loss"], float)
        assert r["device"] == "cpu"  # the test machine has no GPU; device=auto must see that


def check_tensorboard(tb_dir: Path, metric: str, epochs: int) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert list(tb_dir.glob("events.out.tfevents.*")), f"no event file in {tb_dir}"
    acc = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    acc.Reload()
    assert metric in acc.Tags()["scalars"]
    assert [e.step for e in acc.Scalars(metric)] == list(range(1, epochs + 1))


def primary_metric(task_id: str) -> str:
    base = CATALOG["baseTaskTypes"][CATALOG["tasks"][task_id]["baseTaskType"]]
    return str(base["primaryMetric"]["name"])


# --- the catalog -------------------------------------------------------------------------------


def test_catalog_is_valid_version_1() -> None:
    catalog = Catalog.model_validate(CATALOG)
    assert catalog.version == 1
    assert set(catalog.tasks) == {
        "digits-cnn",
        "shapes-segmentation",
        "plain-argparse",
        "digits-evaluate",
        "digits-prepare",
    }
    for task_id, task in catalog.tasks.items():
        assert (EXAMPLES / task.runner.target).is_file(), task_id


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_catalog_defaults_are_in_range(task_id: str) -> None:
    for name, spec in task_fields(task_id).items():
        value = spec.get("default")
        assert value is not None or spec.get("required"), f"{task_id}.{name} has no default"
        if spec["type"] == "choice":
            assert value in spec["choices"], f"{task_id}.{name}"
        if spec["type"] in ("int", "float") and value is not None:
            low, high = spec.get("min", value), spec.get("max", value)
            assert low <= value <= high, f"{task_id}.{name}"


# --- the contract: every catalog field is a flag the trainer declares ---------------------------


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_help_lists_every_catalog_flag(task_id: str, tmp_path: Path) -> None:
    target = EXAMPLES / CATALOG["tasks"][task_id]["runner"]["target"]
    # The trainers parse arguments before importing torch, so --help needs no torch.
    stdout, _ = run([sys.executable, str(target), "--help"], tmp_path, timeout=30)
    for name, spec in task_fields(task_id).items():
        pattern = rf"(?<![\w-]){re.escape(flag(name, spec))}(?![\w-])"
        assert re.search(pattern, stdout), f"{task_id}: {flag(name, spec)} missing from --help"


def test_plain_trainer_runs_with_the_catalogs_command(tmp_path: Path) -> None:
    stdout, proc = run(command("plain-argparse", epochs=3, sleep=0), tmp_path, timeout=30)
    records = progress_lines(stdout)
    check_progress(records, 3, "val_accuracy")
    accuracies = [r["val_accuracy"] for r in records]
    assert accuracies == sorted(accuracies), "a demo curve should rise"
    assert "VTM_RUN_META::" not in stdout  # no MLflow run, no meta line
    assert proc.stderr == ""


def test_plain_trainer_rejects_an_unknown_flag() -> None:
    # What `vtm catalog check` guards against: argparse exits 2 on a flag it does not declare.
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "plain_argparse_train.py"), "--no_such_field=1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "unrecognized arguments: --no_such_field=1" in proc.stderr


# --- the torch trainers, trained for real -------------------------------------------------------


@pytest.mark.slow
@needs_torch
def test_classification_trains_reports_and_saves(tmp_path: Path) -> None:
    # augment=true also proves a true bool reaches the trainer as a bare flag.
    argv = command("digits-cnn", epochs=2, augment=True)
    assert "--augment" in argv
    stdout, _ = run(argv, tmp_path)
    check_progress(progress_lines(stdout), 2, "val_accuracy")
    check_tensorboard(tmp_path / "tb", "val_accuracy", 2)
    assert (tmp_path / "run" / "model.pt").stat().st_size > 0


@pytest.mark.slow
@needs_torch
def test_segmentation_trains_reports_and_saves(tmp_path: Path) -> None:
    # 18 is not a multiple of 4: the network must still give a mask of the input's size.
    argv = command("shapes-segmentation", epochs=2, image_size=18, num_images=96)
    stdout, _ = run(argv, tmp_path)
    check_progress(progress_lines(stdout), 2, primary_metric("shapes-segmentation"))
    check_tensorboard(tmp_path / "tb", "val_iou", 2)
    assert (tmp_path / "run" / "model.pt").stat().st_size > 0


@pytest.mark.slow
@needs_torch
def test_trainer_reports_without_the_vtm_package(tmp_path: Path) -> None:
    # A `vtm` package without `reporting`, first on the path, makes `import vtm.reporting`
    # fail as it does where VTM is not installed: the trainer's own fallback must report.
    stub = tmp_path / "stub" / "vtm"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    argv = command("digits-cnn", epochs=1)
    stdout, _ = run(argv, tmp_path, PYTHONPATH=str(stub.parent), VTM_TENSORBOARD_DIR="")
    check_progress(progress_lines(stdout), 1, "val_accuracy")
    assert not (tmp_path / "tb").exists()  # VTM_TENSORBOARD_DIR empty: no event files


def test_prepare_data_writes_a_complete_dated_snapshot_that_training_reads(
    tmp_path: Path,
) -> None:
    prepare = [sys.executable, str(EXAMPLES / "prepare_data.py"), "--data_root", str(tmp_path)]
    done = subprocess.run(
        [*prepare, "--snapshot", "2026-11-25"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "digits" / "2026-11-25"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["snapshot"] == "2026-11-25"
    assert manifest["images"] == 1797
    # Written aside and renamed: nothing half-written is left next to it.
    assert sorted(p.name for p in (tmp_path / "digits").iterdir()) == ["2026-11-25"]
    assert 'VTM_RUN_META::{"snapshot": "2026-11-25"' in done.stdout

    bad = subprocess.run(
        [*prepare, "--snapshot", "2026-13-01"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "not a date" in bad.stderr
    assert not (tmp_path / "digits" / "2026-13-01").exists()
