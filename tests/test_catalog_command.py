"""plan_launch: argv as a list with --name=value, bool flags, paths confined to the catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vtm.catalog import LoadedCatalog, load_catalog, plan_launch, resolve_fields
from vtm.errors import CatalogError, NotFound

FIXTURES = Path(__file__).parent / "catalog_fixtures"

# Prints its parsed arguments as JSON, so a test can see what the trainer really received.
TRAINER = """\
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--name")
p.add_argument("--lr", type=float)
p.add_argument("--steps", type=int)
p.add_argument("--fast", action="store_true")
p.add_argument("--slow", action="store_true")
p.add_argument("-o", "--out")
print(json.dumps({**vars(p.parse_args()), "cwd": os.getcwd(), "env": os.environ.get("MODE")}))
"""

CATALOG = """\
version: 1
baseTaskTypes:
  base:
    fields:
      name: {type: string}
      lr: {type: float, default: 0.001}
      steps: {type: int}
tasks:
  t:
    baseTaskType: base
    runner:
      target: trainers/train.py
%s    extraFields:
      fast: {type: bool, default: true}
      slow: {type: bool, default: false}
      out: {type: path, flag: -o}
    resources: {gpus: 2}
"""


def make(tmp_path: Path, runner_extra: str = "") -> LoadedCatalog:
    (tmp_path / "trainers").mkdir(exist_ok=True)
    (tmp_path / "trainers" / "train.py").write_text(TRAINER)
    path = tmp_path / "training_catalog.yaml"
    path.write_text(CATALOG % runner_extra)
    return load_catalog(path)


def test_design_example_command() -> None:
    loaded = load_catalog(FIXTURES / "design" / "training_catalog.yaml")
    resolved = resolve_fields(loaded.catalog, "digits-cnn", {"lr": "1e-4", "augment": "yes"})
    plan = plan_launch(loaded, "digits-cnn", resolved)
    assert plan.argv == [
        sys.executable,
        str(loaded.root / "trainers" / "classification.py"),
        "--epochs=5",
        "--batch_size=32",
        "--lr=0.0001",
        "--device=auto",
        "--augment",
        "--optimizer=adam",
    ]
    assert plan.cwd == loaded.root
    assert plan.env == {}
    assert plan.timeout_seconds is None
    assert plan.gpus == 0


def test_hostile_value_stays_one_argument_and_reaches_the_trainer_intact(tmp_path: Path) -> None:
    loaded = make(tmp_path)
    resolved = resolve_fields(loaded.catalog, "t", {"name": "-rf; rm x", "out": "--fast"})
    plan = plan_launch(loaded, "t", resolved)
    assert plan.argv[2:] == ["--name=-rf; rm x", "--lr=0.001", "--fast", "-o=--fast"]
    done = subprocess.run(plan.argv, cwd=plan.cwd, capture_output=True, text=True, check=True)
    got = json.loads(done.stdout)
    assert (got["name"], got["out"], got["fast"], got["slow"]) == (
        "-rf; rm x",
        "--fast",
        True,
        False,
    )


def test_bool_none_and_float_formatting(tmp_path: Path) -> None:
    loaded = make(tmp_path)
    request = {"fast": False, "slow": "on", "lr": 1e-05, "steps": "3"}
    plan = plan_launch(loaded, "t", resolve_fields(loaded.catalog, "t", request))
    assert plan.argv[2:] == ["--lr=1e-05", "--steps=3", "--slow"]
    plan = plan_launch(loaded, "t", {"lr": 0.1 + 0.2, "fast": True})
    assert plan.argv[2:] == ["--lr=0.30000000000000004", "--fast"]
    assert plan.gpus == 2


def test_runner_env_timeout_and_workdir(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    extra = "      env: {MODE: quick}\n      timeout: 30m\n      workdir: work\n"
    loaded = make(tmp_path, extra)
    plan = plan_launch(loaded, "t", {})
    assert plan.cwd == tmp_path.resolve() / "work"
    assert plan.env == {"MODE": "quick"}
    assert plan.timeout_seconds == 1800.0
    done = subprocess.run(
        plan.argv, cwd=plan.cwd, env={**os.environ, **plan.env}, capture_output=True, check=True
    )
    got = json.loads(done.stdout)
    assert (got["cwd"], got["env"]) == (str(tmp_path.resolve() / "work"), "quick")


def test_interpreter_forms(tmp_path: Path) -> None:
    python = Path(sys.executable)
    (tmp_path / "bin").mkdir()
    os.symlink(python, tmp_path / "bin" / "py")
    loaded = make(tmp_path, "      interpreter: bin/py\n")
    # A relative interpreter is taken from the catalog folder and not resolved (a venv's
    # python is a symlink whose own path matters).
    assert plan_launch(loaded, "t", {}).argv[0] == str(tmp_path / "bin" / "py")

    loaded = make(
        tmp_path, f"      interpreter: {python.name}\n      env: {{PATH: {python.parent}}}\n"
    )
    assert plan_launch(loaded, "t", {}).argv[0] == str(python)

    loaded = make(tmp_path, f"      interpreter: {python}\n")
    assert plan_launch(loaded, "t", {}).argv[0] == str(python)

    loaded = make(tmp_path, "      interpreter: no-such-python-here\n")
    with pytest.raises(CatalogError, match="'no-such-python-here' not found") as info:
        plan_launch(loaded, "t", {})
    assert info.value.key == "tasks.t.runner.interpreter"


def test_target_swapped_for_an_escaping_symlink_after_loading(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    loaded = make(folder)
    outside = tmp_path / "evil.py"
    outside.write_text("print('escaped')\n")
    target = folder / "trainers" / "train.py"
    target.unlink()
    os.symlink(outside, target)
    with pytest.raises(CatalogError, match=r"task 't'.*outside the catalog folder") as info:
        plan_launch(loaded, "t", {})
    assert info.value.key == "tasks.t.runner.target"
    assert info.value.file == str(loaded.path)


def test_target_deleted_after_loading(tmp_path: Path) -> None:
    loaded = make(tmp_path)
    (tmp_path / "trainers" / "train.py").unlink()
    with pytest.raises(CatalogError, match="not found"):
        plan_launch(loaded, "t", {})


def test_unknown_task_and_unknown_values(tmp_path: Path) -> None:
    loaded = make(tmp_path)
    with pytest.raises(NotFound):
        plan_launch(loaded, "nope", {})
    with pytest.raises(ValueError, match="no field"):
        plan_launch(loaded, "t", {"colour": "red"})
    with pytest.raises(ValueError, match="NUL"):
        plan_launch(loaded, "t", {"name": "a\0b"})
    with pytest.raises(ValueError, match="resolved bool"):
        plan_launch(loaded, "t", {"fast": "no"})
