"""The catalog schema, version 1 (docs/catalog.md is its reference), as pydantic models.

Keys are camelCase in YAML and JSON (``baseTaskTypes``, ``extraFields``); Python uses
snake_case. Unknown keys are rejected so a typo in the catalog is reported, not ignored.

These models check each part on its own. Checks that span parts (a task's base type exists,
defaults fit their fields, flags do not clash, trainer scripts exist) live in
``vtm.catalog.loader``, which can name the line of the file each problem is on.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from vtm.catalog._base import Scalar as Scalar
from vtm.catalog._base import TaskId, _Model
from vtm.catalog._base import parse_duration as parse_duration
from vtm.catalog.pipelines import Pipeline, PipelineId
from vtm.executors import Executor

# Dotted names (``model.lr``) are how LightningCLI, jsonargparse and Hydra name nested keys.
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
FLAG = re.compile(r"^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$")
# A Hydra override's key: ``+key`` adds a key the config lacks, ``++key`` adds or overrides.
HYDRA_KEY = re.compile(r"^(\+\+?)?[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# ``runner.workdir: run``: the trainer runs in the run's own folder, runs/<id>/work/.
RUN_WORKDIR = "run"

ArgStyle = Literal["argparse", "hydra"]
# How a bool reaches the trainer: ``flag``: bare --x when true, nothing when false (argparse's
# store_true); ``value``: --x=true / --x=false (jsonargparse, LightningCLI, Hugging Face);
# ``negatable``: --x / --no-x (argparse's BooleanOptionalAction).
BoolStyle = Literal["flag", "value", "negatable"]


class FieldType(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STRING = "string"
    CHOICE = "choice"
    PATH = "path"


class FieldSpec(_Model):
    """One typed parameter a trainer accepts."""

    type: FieldType
    default: Scalar | None = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: list[Scalar] | None = None
    label: str | None = None
    help: str | None = None
    # The option's name: --epochs (argparse style), or a Hydra key such as +trainer.seed.
    flag: str | None = None
    bool_style: BoolStyle | None = Field(
        default=None, description="For a bool field: how it is passed; default: the runner's."
    )

    @field_validator("flag")
    @classmethod
    def _flag_shape(cls, v: str | None) -> str | None:
        if v is not None and not (FLAG.match(v) or HYDRA_KEY.match(v)):
            raise ValueError(
                f"{v!r} is neither a command-line flag such as --epochs "
                "nor a Hydra key such as +trainer.seed"
            )
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError("a choice field needs a non-empty 'choices' list")
        if self.type is not FieldType.CHOICE and self.choices is not None:
            raise ValueError(f"'choices' only applies to choice fields, not {self.type.value}")
        numeric = self.type in (FieldType.INT, FieldType.FLOAT)
        if not numeric and (self.min is not None or self.max is not None):
            raise ValueError(f"'min'/'max' only apply to int and float fields, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.bool_style is not None and self.type is not FieldType.BOOL:
            raise ValueError(f"'boolStyle' only applies to bool fields, not {self.type.value}")
        return self

    def flag_for(self, name: str, style: ArgStyle = "argparse") -> str:
        """The option the field is passed as: ``--name`` (argparse) or ``name`` (Hydra)."""
        if self.flag:
            return self.flag
        return name if style == "hydra" else f"--{name}"


def _field_name(name: str) -> str:
    if not FIELD_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid field name (letters, digits, _ and -)")
    return name


# Validated as dict keys so that an error points at the offending key, not at its mapping.
FieldName = Annotated[str, AfterValidator(_field_name)]
FieldMap = dict[FieldName, FieldSpec]


class PrimaryMetric(_Model):
    name: str
    goal: Literal["max", "min"] = "max"


class BaseTaskType(_Model):
    description: str | None = None
    primary_metric: PrimaryMetric | None = None
    fields: FieldMap = Field(default_factory=dict)


class Runner(_Model):
    target: str | None = Field(
        default=None, description="Trainer script, relative to the catalog file's folder."
    )
    module: str | None = Field(
        default=None, description="Or a module the interpreter runs with -m (mypkg.train)."
    )
    args: list[str] = Field(
        default_factory=list,
        description="Fixed arguments before the fields: a subcommand such as LightningCLI's fit.",
    )
    arg_style: ArgStyle = Field(
        default="argparse", description="argparse: --name=value; hydra: name=value overrides."
    )
    bool_style: BoolStyle = Field(default="flag", description="How bool fields are passed.")
    launcher: Literal["torchrun"] | None = Field(
        default=None, description="Start the trainer through torchrun (torch.distributed.run)."
    )
    launcher_args: list[str] = Field(
        default_factory=list, description="torchrun's own options, before the script."
    )
    nproc_field: str | None = Field(
        default=None,
        description="An int field whose value is torchrun's --nproc_per_node; "
        "default: the run's GPUs (at least 1).",
    )
    interpreter: str | None = Field(
        default=None, description="Program that runs the target; default: VTM's own Python."
    )
    env: dict[str, str] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, description="Seconds, or '30m', '2h'.")
    workdir: str | None = Field(
        default=None,
        description="Working directory, relative to the catalog's folder; 'run': the run's "
        "own folder, runs/<id>/work/.",
    )

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> float | None:
        return None if v is None else parse_duration(v)

    @field_validator("env")
    @classmethod
    def _env_names(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise ValueError(f"{key!r} is not an environment variable name")
        return v

    @field_validator("module")
    @classmethod
    def _module_name(cls, v: str | None) -> str | None:
        if v is not None and not MODULE.match(v):
            raise ValueError(f"{v!r} is not a Python module name such as mypkg.train")
        return v

    @field_validator("args", "launcher_args")
    @classmethod
    def _no_nul(cls, v: list[str]) -> list[str]:
        if any("\0" in arg for arg in v):
            raise ValueError("a command line cannot carry a NUL character")
        return v

    @model_validator(mode="after")
    def _what_runs(self) -> Runner:
        if self.target is None and self.module is None:
            raise ValueError("a runner needs a 'target' script (or a 'module')")
        if self.target is not None and self.module is not None:
            raise ValueError("a runner names a 'target' script or a 'module', not both")
        if self.launcher is None and (self.launcher_args or self.nproc_field):
            raise ValueError("'launcherArgs' and 'nprocField' need a 'launcher'")
        for arg in self.launcher_args:
            if arg.split("=", 1)[0] in ("--nproc_per_node", "--nproc-per-node"):
                raise ValueError(
                    "'launcherArgs' must not set --nproc_per_node: VTM sets it from the "
                    "run's GPUs (or 'nprocField')"
                )
        return self

    @property
    def runs_in_run_dir(self) -> bool:
        return self.workdir == RUN_WORKDIR


class Resources(_Model):
    gpus: Annotated[int, Field(ge=0)] = 0
    priority: int = Field(
        default=0, description="The queue's order for the task's runs: higher first."
    )


class TaskMlflow(_Model):
    experiment: str | None = Field(
        default=None, description="MLflow experiment the task's runs log to; default: task id."
    )
    registered_model: str | None = Field(
        default=None, description="Registry name `vtm publish` registers to; default: task id."
    )


class TaskPublish(_Model):
    min_metric: float | None = Field(
        default=None,
        description="The floor: a run whose final value of the primary metric is worse than "
        "this (below it for goal max, above it for goal min) is never published.",
    )


class Task(_Model):
    title: str | None = None
    description: str | None = None
    base_task_type: str
    runner: Runner
    defaults: dict[str, Scalar] = Field(default_factory=dict)
    extra_fields: FieldMap = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    executor: Executor = Field(
        default="local",
        description="Where its runs train: 'local' (the VTM server's machine) or 'ray' (the "
        "Ray cluster at VTM_RAY_ADDRESS); a start request may choose otherwise.",
    )
    mlflow: TaskMlflow = Field(default_factory=TaskMlflow)
    publish: TaskPublish = Field(default_factory=TaskPublish)


class Catalog(_Model):
    version: Literal[1]
    base_task_types: dict[str, BaseTaskType] = Field(default_factory=dict)
    tasks: dict[TaskId, Task] = Field(default_factory=dict)
    # Multi-step flows that Apache Airflow schedules; VTM declares and validates them.
    pipelines: dict[PipelineId, Pipeline] = Field(default_factory=dict)

    def experiment_name(self, task_id: str) -> str:
        """The MLflow experiment ``task_id``'s runs log to."""
        return self.tasks[task_id].mlflow.experiment or task_id

    def registered_model_name(self, task_id: str) -> str:
        """The MLflow registry name ``task_id``'s published models go under."""
        return self.tasks[task_id].mlflow.registered_model or task_id

    def primary_metric(self, task_id: str) -> PrimaryMetric | None:
        """The metric runs of ``task_id`` are ranked by, from its base task type."""
        base = self.base_task_types.get(self.tasks[task_id].base_task_type)
        return base.primary_metric if base else None
