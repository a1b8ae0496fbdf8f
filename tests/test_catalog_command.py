"""plan_launch: argv as a list in the runner's style, bool styles, runners (script, module,
subcommands, torchrun), paths confined to the catalog."""

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
      fast: {type: bool, default: false}
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
    request = {"name": "-rf; rm x", "out": "--fast", "fast": True}
    resolved = resolve_fields(loaded.catalog, "t", request)
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


# Each bool style against the argparse action it is meant for, run for real.
STYLED_TRAINER = """\
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--plain", action="store_true")
p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
p.add_argument("--pin", type=lambda v: {"true": True, "false": False}[v], default=True)
print(json.dumps(vars(p.parse_args())))
"""

STYLED = """\
version: 1
baseTaskTypes:
  base:
    fields:
      plain: {type: bool, default: false}
      amp: {type: bool, default: true, boolStyle: negatable}
      pin: {type: bool, default: true, boolStyle: value}
tasks:
  t:
    baseTaskType: base
    runner: {target: train.py%s}
"""


def styled(tmp_path: Path, runner: str = "", trainer: str = STYLED_TRAINER) -> LoadedCatalog:
    (tmp_path / "train.py").write_text(trainer)
    path = tmp_path / "training_catalog.yaml"
    path.write_text(STYLED % runner)
    return load_catalog(path)


@pytest.mark.parametrize(
    ("request_", "argv", "parsed"),
    [
        ({}, ["--amp", "--pin=true"], {"plain": False, "amp": True, "pin": True}),
        (
            {"plain": True, "amp": False, "pin": False},
            ["--plain", "--no-amp", "--pin=false"],
            {"plain": True, "amp": False, "pin": False},
        ),
    ],
)
def test_each_bool_style_reaches_its_argparse_action(
    tmp_path: Path, request_: dict[str, bool], argv: list[str], parsed: dict[str, bool]
) -> None:
    loaded = styled(tmp_path)
    plan = plan_launch(loaded, "t", resolve_fields(loaded.catalog, "t", request_))
    assert plan.argv[2:] == argv
    done = subprocess.run(plan.argv, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == parsed


def test_a_runner_wide_bool_style_applies_where_a_field_sets_none(tmp_path: Path) -> None:
    loaded = styled(tmp_path, ", boolStyle: value")
    plan = plan_launch(loaded, "t", resolve_fields(loaded.catalog, "t", {}))
    assert plan.argv[2:] == ["--plain=false", "--amp", "--pin=true"]


def test_a_flag_style_bool_that_defaults_to_true_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "training_catalog.yaml"
    (tmp_path / "train.py").write_text(STYLED_TRAINER)
    path.write_text(
        (STYLED % "").replace(
            "amp: {type: bool, default: true, boolStyle: negatable}",
            "amp: {type: bool, default: true}",
        )
    )
    with pytest.raises(CatalogError, match=r"'amp' defaults to true.*negatable") as info:
        load_catalog(path)
    assert info.value.key == "baseTaskTypes.base.fields.amp"


def test_a_task_default_of_true_on_a_flag_style_bool_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "training_catalog.yaml"
    (tmp_path / "train.py").write_text(STYLED_TRAINER)
    path.write_text((STYLED % "") + "    defaults: {plain: true}\n")
    with pytest.raises(CatalogError, match="'plain' defaults to true"):
        load_catalog(path)


HYDRA = """\
version: 1
baseTaskTypes:
  base:
    fields:
      optimizer.lr: {type: float, default: 0.01}
      trainer.fast: {type: bool, default: true}
      name: {type: string}
      seed: {type: int, flag: +seed}
tasks:
  t:
    baseTaskType: base
    runner: {target: app.py, argStyle: hydra}
"""


def test_hydra_style_overrides_with_dotted_keys_added_keys_and_quoted_text(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text("")
    path = tmp_path / "training_catalog.yaml"
    path.write_text(HYDRA)
    loaded = load_catalog(path)
    request = {"name": "a,b ${oc.env:HOME} it's \\", "seed": 7, "trainer.fast": False}
    plan = plan_launch(loaded, "t", resolve_fields(loaded.catalog, "t", request))
    assert plan.argv[2:] == [
        "optimizer.lr=0.01",
        "trainer.fast=false",
        "name='a,b \\${oc.env:HOME} it\\'s \\\\'",
        "+seed=7",
    ]


def test_a_flag_of_the_other_style_is_a_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("")
    path = tmp_path / "training_catalog.yaml"
    path.write_text(HYDRA.replace("flag: +seed", "flag: --seed"))
    with pytest.raises(CatalogError, match="--seed is not a Hydra key"):
        load_catalog(path)
    path.write_text(HYDRA.replace(", argStyle: hydra", ""))
    with pytest.raises(
        CatalogError, match=r"\+seed is a Hydra key, but runner\.argStyle is argparse"
    ):
        load_catalog(path)


def test_subcommand_arguments_come_before_the_fields(tmp_path: Path) -> None:
    loaded = styled(tmp_path, ", args: [fit, --trainer.logger=false]")
    assert plan_launch(loaded, "t", {"plain": True}).argv[2:] == [
        "fit",
        "--trainer.logger=false",
        "--plain",
    ]


def test_a_module_runs_with_dash_m_from_the_catalog_folder(tmp_path: Path) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "train.py").write_text(STYLED_TRAINER)
    path = tmp_path / "training_catalog.yaml"
    path.write_text((STYLED % "").replace("{target: train.py}", "{module: mypkg.train}"))
    loaded = load_catalog(path)
    plan = plan_launch(loaded, "t", resolve_fields(loaded.catalog, "t", {"plain": True}))
    assert plan.argv[1:4] == ["-m", "mypkg.train", "--plain"]
    done = subprocess.run(plan.argv, cwd=plan.cwd, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["plain"] is True


@pytest.mark.parametrize(
    ("runner", "message"),
    [
        ("{target: train.py, module: mypkg.train}", "a 'target' script or a 'module', not both"),
        ("{}", "needs a 'target' script"),
        ("{module: 'os; rm'}", "not a Python module name"),
        ("{target: train.py, launcherArgs: [--standalone]}", "need a 'launcher'"),
        (
            "{target: train.py, launcher: torchrun, launcherArgs: [--nproc_per_node=4]}",
            "must not set --nproc_per_node",
        ),
        ("{target: train.py, launcher: torchrun, nprocField: plain}", "not an int field"),
    ],
)
def test_runner_mistakes_are_named(tmp_path: Path, runner: str, message: str) -> None:
    (tmp_path / "train.py").write_text("")
    path = tmp_path / "training_catalog.yaml"
    path.write_text((STYLED % "").replace("{target: train.py}", runner))
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_torchrun_gets_its_options_then_the_script_and_the_run_s_gpus(tmp_path: Path) -> None:
    loaded = styled(tmp_path, ", launcher: torchrun, launcherArgs: [--standalone]")
    assert plan_launch(loaded, "t", {}).argv[1:6] == [
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=1",  # no GPUs asked: one process
        str(tmp_path.resolve() / "train.py"),
    ]
    extra = (STYLED % ", launcher: torchrun, nprocField: workers").replace(
        "      plain:", "      workers: {type: int, default: 2}\n      plain:"
    )
    (tmp_path / "training_catalog.yaml").write_text(extra)
    loaded = load_catalog(tmp_path / "training_catalog.yaml")
    argv = plan_launch(loaded, "t", resolve_fields(loaded.catalog, "t", {"workers": 3})).argv
    assert "--nproc_per_node=3" in argv
    assert "--workers=3" not in argv  # the launcher's field, not the script's


def test_a_run_folder_workdir_is_kept_for_the_start(tmp_path: Path) -> None:
    loaded = styled(tmp_path, ", workdir: run")
    plan = plan_launch(loaded, "t", {})
    assert plan.in_run_dir and plan.cwd == tmp_path.resolve()
