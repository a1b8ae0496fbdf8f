"""load_catalog: the example catalog loads; every problem names its file, line and key."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC
from pathlib import Path

import pytest

from vtm.catalog import LoadedCatalog, load_catalog
from vtm.errors import CatalogError

FIXTURES = Path(__file__).parent / "catalog_fixtures"

# Line numbers matter below: line 5 is `epochs`, 9 `baseTaskType`, 10 `runner`, 11 `target`.
BASE = """\
version: 1
baseTaskTypes:
  cls:
    fields:
      epochs: {type: int, default: 10, min: 1}
      lr: {type: float, default: 0.001, min: 0}
tasks:
  t1:
    baseTaskType: cls
    runner:
      target: train.py
"""


def write(folder: Path, text: str, *, trainer: str | None = "train.py") -> Path:
    if trainer:
        (folder / trainer).write_text("print('hi')\n")
    path = folder / "training_catalog.yaml"
    path.write_text(text)
    return path


def error_of(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return info.value


def assert_spot(err: CatalogError, path: Path, line: int | None, key: str | None) -> None:
    assert (err.file, err.line, err.key) == (str(path), line, key), str(err)
    where = f"{path}:{line}" if line else str(path)
    assert str(err).startswith(f"{where}: {key}: " if key else f"{where}: ")


def test_design_example_loads() -> None:
    path = FIXTURES / "design" / "training_catalog.yaml"
    loaded = load_catalog(path)
    assert isinstance(loaded, LoadedCatalog)
    assert loaded.path == path.resolve()
    assert loaded.path.is_absolute()
    assert loaded.root == path.resolve().parent
    assert loaded.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.loaded_at.tzinfo is UTC
    task = loaded.catalog.tasks["digits-cnn"]
    assert task.base_task_type == "classification"
    assert task.defaults == {"epochs": 5}
    assert list(task.extra_fields) == ["augment", "optimizer"]
    base = loaded.catalog.base_task_types["classification"]
    assert list(base.fields) == ["epochs", "batch_size", "lr", "device"]
    assert base.primary_metric is not None
    assert base.primary_metric.name == "val_accuracy"


def test_base_example_loads_and_accepts_yaml_merge_keys(tmp_path: Path) -> None:
    text = BASE + "  t2:\n    <<: *t1\n    title: copy\n"
    text = text.replace("  t1:\n", "  t1: &t1\n")
    loaded = load_catalog(write(tmp_path, text))
    assert loaded.catalog.tasks["t2"].runner.target == "train.py"
    assert loaded.catalog.tasks["t2"].title == "copy"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    err = error_of(path)
    assert_spot(err, path, None, None)
    assert "cannot read" in err.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (BASE.replace("      target: train.py", "      target: train.py: x"), 11),
        (BASE.replace("  t1:\n", "  t1:\n\t"), 9),
        (BASE + "---\nversion: 1\n", 12),
    ],
    ids=["mapping-value", "tab", "two-documents"],
)
def test_yaml_syntax_error_names_the_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, line, None)
    assert err.message.startswith("invalid YAML: ")


def test_empty_and_non_utf8_files(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing here\n")
    assert "empty" in error_of(path).message
    path.write_bytes(b"version: 1\ntasks:\n  caf\xe9: {}\n")
    assert_spot(error_of(path), path, 3, None)


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "pipelines: !!python/object/apply:os.system ['true']\n")
    err = error_of(path)
    assert err.line == 12
    assert "could not determine a constructor" in err.message


def test_duplicate_key(tmp_path: Path) -> None:
    text = BASE.replace("      lr:", "      epochs: {type: int}\n      lr:")
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 6, "baseTaskTypes.cls.fields.epochs")
    assert err.message == "duplicate key"


def test_duplicate_task_ids_are_all_listed(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "  t1: {}\n  t1: {}\n")
    err = error_of(path)
    assert_spot(err, path, 12, "tasks.t1")
    assert f"{path}:13: tasks.t1: duplicate key" in str(err).splitlines()


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"),
    [
        (
            "      target: train.py\n",
            "      workdir: .\n",
            10,
            "tasks.t1.runner",
            "needs a 'target'",
        ),
        ("min: 1}", "min: one}", 5, "baseTaskTypes.cls.fields.epochs.min", "valid number"),
        ("cls\n    runner", "cls\n    titel: x\n    runner", 10, "tasks.t1.titel", "unknown key"),
        ("{type: int,", "{type: integer,", 5, "baseTaskTypes.cls.fields.epochs.type", "'int'"),
        ("default: 10,", "default: [10],", 5, "baseTaskTypes.cls.fields.epochs.default", "type"),
        ("  t1:\n", "  bad id:\n", 8, "tasks.bad id", "not a valid task id"),
        ("version: 1", "version: 2", 1, "version", "1"),
        ("lr: {type: float,", "lr: {type: bool,", 6, "baseTaskTypes.cls.fields.lr", "min"),
    ],
    ids=["missing", "type", "unknown", "enum", "union", "task-id", "version", "model-rule"],
)
def test_schema_error_names_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, message: str
) -> None:
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new))
    err = error_of(path)
    assert_spot(err, path, line, key)
    assert message in err.message


def test_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "# a list\n- version: 1\n")
    assert_spot(error_of(path), path, 2, None)


def test_several_schema_errors_are_listed_first_by_line(tmp_path: Path) -> None:
    text = BASE.replace("target:", "tagret:").replace("min: 1}", "min: one}")
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 5, "baseTaskTypes.cls.fields.epochs.min")
    lines = str(err).splitlines()
    assert len(lines) == 2  # min, the unknown tagret (which is why the runner has no target)
    assert lines[1].startswith(f"{path}:11: tasks.t1.runner.tagret: unknown key")


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"),
    [
        ("baseTaskType: cls", "baseTaskType: det", 9, "tasks.t1.baseTaskType", "'det'"),
        ("target: train.py", "target: missing.py", 11, "tasks.t1.runner.target", "not found"),
        ("target: train.py", "target: ../x/train.py", 11, "tasks.t1.runner.target", "outside"),
        ("default: 10,", "default: 0,", 5, "baseTaskTypes.cls.fields.epochs.default", "least 1"),
        ("default: 10,", "default: ten,", 5, "baseTaskTypes.cls.fields.epochs.default", "integer"),
    ],
    ids=["base-type", "no-target", "escape", "default-range", "default-type"],
)
def test_reference_error_names_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, message: str
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "train.py").write_text("")
    folder = tmp_path / "catalog"
    folder.mkdir()
    path = write(folder, BASE.replace(old, new))
    err = error_of(path)
    assert_spot(err, path, line, key)
    assert message in err.message


def test_task_defaults_are_checked(tmp_path: Path) -> None:
    text = BASE + "    defaults:\n      epochz: 5\n      lr: -1\n"
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 13, "tasks.t1.defaults.epochz")
    assert err.message.startswith("no such field; this task's fields are: epochs, lr")
    second = str(err).splitlines()[1]
    assert (
        second == f"{path}:14: tasks.t1.defaults.lr: invalid default: must be at least 0 (got -1)"
    )


def test_extra_field_default_is_checked(tmp_path: Path) -> None:
    text = BASE + "    extraFields:\n      opt: {type: choice, choices: [a, b], default: c}\n"
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 13, "tasks.t1.extraFields.opt.default")
    assert "must be one of: a, b" in err.message


def test_flag_collision(tmp_path: Path) -> None:
    text = BASE + "    extraFields:\n      rate:\n        type: float\n        flag: --lr\n"
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 15, "tasks.t1.extraFields.rate.flag")
    assert err.message == "flag --lr of field 'rate' is also the flag of 'lr'"


def test_default_flag_collision_and_reserved_help(tmp_path: Path) -> None:
    text = (
        BASE.replace("lr: {", "lr: {flag: --epochs, ")
        + "    extraFields:\n      help: {type: bool}\n"
    )
    path = write(tmp_path, text)
    err = error_of(path)
    assert_spot(err, path, 6, "baseTaskTypes.cls.fields.lr.flag")
    assert str(err).splitlines()[1] == (
        f"{path}:13: tasks.t1.extraFields.help: flag --help is reserved for the trainer's own help"
    )


def test_extra_field_with_a_base_name_replaces_it_without_collision(tmp_path: Path) -> None:
    text = BASE + "    extraFields:\n      lr: {type: float, default: 0.1}\n"
    loaded = load_catalog(write(tmp_path, text))
    assert loaded.catalog.tasks["t1"].extra_fields["lr"].default == 0.1


def test_target_symlink_leaving_the_folder_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("")
    folder = tmp_path / "catalog"
    folder.mkdir()
    os.symlink(outside, folder / "train.py")
    path = write(folder, BASE, trainer=None)
    err = error_of(path)
    assert_spot(err, path, 11, "tasks.t1.runner.target")
    assert "outside the catalog folder" in err.message


def test_workdir_must_exist_inside_the_folder(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "      workdir: data\n")
    assert_spot(error_of(path), path, 12, "tasks.t1.runner.workdir")
    (tmp_path / "data").mkdir()
    assert load_catalog(path).catalog.tasks["t1"].runner.workdir == "data"


def test_several_reference_errors_are_all_listed(tmp_path: Path) -> None:
    text = BASE.replace("target: train.py", "target: gone.py") + "  t2:\n    baseTaskType: x\n"
    path = write(tmp_path, text + "    runner: {target: train.py}\n")
    err = error_of(path)
    assert_spot(err, path, 11, "tasks.t1.runner.target")
    assert str(err).splitlines()[1].startswith(f"{path}:13: tasks.t2.baseTaskType: unknown")


def test_error_key_uses_the_spelling_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("baseTaskType: cls", "base_task_type: det"))
    err = error_of(path)
    assert_spot(err, path, 9, "tasks.t1.base_task_type")
    assert err.message == "unknown base task type 'det' (known: cls)"
