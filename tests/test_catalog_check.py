"""check_catalog: real trainers' --help against the catalog's flags."""

from __future__ import annotations

import os
from pathlib import Path

from vtm.catalog import CheckProblem, LoadedCatalog, check_catalog, load_catalog

FIXTURES = Path(__file__).parent / "catalog_fixtures"

CATALOG = """\
version: 1
baseTaskTypes:
  cls:
    fields:
      epochs: {type: int, default: 3}
      batch_size: {type: int, default: 8}
      seed: {type: int, flag: -s}
tasks:
  one:
    baseTaskType: cls
    runner: {target: train.py}
    extraFields:
      augment: {type: bool}
  two:
    baseTaskType: cls
    runner: {target: train.py}
"""

# Each --help run appends a line to calls.log, so a test can count the runs.
HEADER = """\
import argparse
with open("calls.log", "a") as log:
    log.write("help\\n")
p = argparse.ArgumentParser(description="uses --augment in prose only, never as an option")
"""


def make(tmp_path: Path, trainer_body: str, catalog: str = CATALOG) -> LoadedCatalog:
    (tmp_path / "train.py").write_text(HEADER + trainer_body)
    path = tmp_path / "training_catalog.yaml"
    path.write_text(catalog)
    return load_catalog(path)


def test_design_example_trainer_conforms() -> None:
    loaded = load_catalog(FIXTURES / "design" / "training_catalog.yaml")
    assert check_catalog(loaded) == []


def test_conforming_trainer_with_every_option_form(tmp_path: Path) -> None:
    body = """\
p.add_argument("--epochs", type=int)
p.add_argument("-b", "--batch_size", type=int)
p.add_argument("-s", "--seed", type=int)
p.add_argument("--augment", action="store_true")
p.parse_args()
"""
    loaded = make(tmp_path, body)
    assert check_catalog(loaded) == []
    assert (tmp_path / "calls.log").read_text() == "help\n", "one --help for the shared target"


def test_slash_form_in_a_hand_written_help(tmp_path: Path) -> None:
    body = """\
import sys
print("usage: train.py [-e/--epochs N] [-b/--batch_size N] [-s N] [--augment]")
sys.exit(0)
"""
    assert check_catalog(make(tmp_path, body)) == []


def test_undeclared_flags_are_reported_per_task(tmp_path: Path) -> None:
    body = """\
p.add_argument("--epochs", type=int)
p.add_argument("--batch-size", type=int)
p.add_argument("--seed", type=int)
p.parse_args()
"""
    problems = check_catalog(make(tmp_path, body))
    assert problems == [
        CheckProblem(
            "one",
            "field 'batch_size': train.py does not declare --batch_size "
            "(argparse would exit on it)",
        ),
        CheckProblem(
            "one", "field 'seed': train.py does not declare -s (argparse would exit on it)"
        ),
        CheckProblem(
            "one",
            "field 'augment': train.py does not declare --augment (argparse would exit on it)",
        ),
        CheckProblem(
            "two",
            "field 'batch_size': train.py does not declare --batch_size "
            "(argparse would exit on it)",
        ),
        CheckProblem(
            "two", "field 'seed': train.py does not declare -s (argparse would exit on it)"
        ),
    ]
    assert (tmp_path / "calls.log").read_text() == "help\n"


def test_failing_help_is_reported_with_its_output(tmp_path: Path) -> None:
    body = """\
import sys
print("loading the dataset")
sys.exit("ImportError: no module named torch")
"""
    problems = check_catalog(make(tmp_path, body))
    assert [p.task_id for p in problems] == ["one", "two"]
    message = problems[0].message
    assert message.startswith("train.py --help exited with status 1\n")
    assert "  | loading the dataset\n  | ImportError: no module named torch" in message


def test_hanging_help_is_killed_with_its_children(tmp_path: Path) -> None:
    # The child keeps the output pipe open: only killing the whole group ends the read.
    body = """\
import subprocess, sys, time
print("starting", flush=True)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
time.sleep(60)
"""
    problems = check_catalog(make(tmp_path, body), timeout=1.0)
    assert problems[0].message.startswith("train.py --help did not finish within 1s\n")
    assert "  | starting" in problems[0].message


def test_help_that_cannot_start(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-program"
    bad.write_text("this is not an executable format\n")
    bad.chmod(0o755)
    catalog = CATALOG.replace(
        "runner: {target: train.py}\n    extra",
        "runner: {target: train.py, interpreter: ./not-a-program}\n    extra",
    )
    problems = check_catalog(make(tmp_path, "", catalog))
    assert problems[0].task_id == "one"
    assert problems[0].message.startswith("train.py cannot start ")
    assert "Exec format error" in problems[0].message


def test_runner_problems_are_reported_not_raised(tmp_path: Path) -> None:
    loaded = make(tmp_path, "p.parse_args()\n")
    os.remove(tmp_path / "train.py")
    problems = check_catalog(loaded)
    assert [p.task_id for p in problems] == ["one", "two"]
    assert "trainer script 'train.py' not found" in problems[0].message


STYLES = """\
version: 1
baseTaskTypes:
  b:
    fields:
      plain: {type: bool, default: false}
      amp: {type: bool, default: true, boolStyle: negatable}
      pin: {type: bool, default: true, boolStyle: value}
tasks:
  styled:
    baseTaskType: b
    runner: {%s}
"""

# A subcommand (LightningCLI's "fit") whose options are the bools in each style.
SUBCOMMAND = """\
import argparse
p = argparse.ArgumentParser()
fit = p.add_subparsers(dest="cmd").add_parser("fit")
fit.add_argument("--plain", action="store_true")
fit.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
fit.add_argument("--pin", type=lambda v: v == "true", default=True, metavar="{true,false}")
p.parse_args()
"""


def styled(tmp_path: Path, runner: str, trainer: str = SUBCOMMAND) -> list[CheckProblem]:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text(trainer)
    (tmp_path / "cli.py").write_text(trainer)
    path = tmp_path / "training_catalog.yaml"
    path.write_text(STYLES % runner)
    return check_catalog(load_catalog(path))


def test_a_subcommand_s_help_is_asked_through_the_runner_s_args(tmp_path: Path) -> None:
    assert styled(tmp_path, "target: cli.py, args: [fit]") == []
    # Without the subcommand, the top-level help declares none of them.
    problems = styled(tmp_path, "target: cli.py")
    assert [p.message.split(":")[0] for p in problems] == [
        "field 'plain'",
        "field 'amp'",
        "field 'pin'",
    ]


def test_a_module_is_asked_with_dash_m(tmp_path: Path) -> None:
    assert styled(tmp_path, "module: pkg.cli, args: [fit]") == []
    problems = styled(tmp_path, "module: pkg.nothing, args: [fit]")
    assert problems[0].message.startswith("-m pkg.nothing --help exited with status 1\n")
    assert "No module named pkg.nothing" in problems[0].message


def test_each_bool_style_is_checked_against_what_the_help_declares(tmp_path: Path) -> None:
    mismatched = (
        SUBCOMMAND.replace('"--plain", action="store_true"', '"--plain", metavar="X"')
        .replace("action=argparse.BooleanOptionalAction", 'action="store_true"')
        .replace(
            'type=lambda v: v == "true", default=True, metavar="{true,false}"',
            'action="store_true"',
        )
    )
    messages = [p.message for p in styled(tmp_path, "target: cli.py, args: [fit]", mismatched)]
    assert messages == [
        "field 'plain': cli.py's --plain takes a value, but boolStyle flag passes a bare "
        "--plain: use boolStyle value",
        "field 'amp': cli.py does not declare --no-amp, which boolStyle negatable passes for "
        "false (argparse.BooleanOptionalAction declares both)",
        "field 'pin': cli.py declares --pin without a value, but boolStyle value passes "
        "--pin=true|false: use boolStyle flag (store_true) or negatable",
    ]
