"""The MLflow Model Registry side of publishing: find or create the version of a run's model,
point an alias at it, and undo a creation when the rest of the publish fails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vtm.errors import FieldError, InvalidRequest, UpstreamError
from vtm.integrations.mlflow import VTM_RUN_TAG, VTM_TASK_TAG, mlflow_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from vtm.publish.selection import Choice

# MLflow's own rules for aliases, checked before anything is written.
ALIAS = re.compile(r"^[\w\-]{1,255}$")
VERSION_LIKE = re.compile(r"^[vV]\d+$")


def check_alias(alias: str) -> None:
    problem = None
    if not ALIAS.match(alias):
        problem = "letters, digits, '_' and '-' only (at most 255)"
    elif alias.lower() == "latest" or VERSION_LIKE.match(alias):
        problem = "'latest' and 'v<number>' are reserved by MLflow"
    if problem:
        raise InvalidRequest([FieldError("alias", f"{alias!r} is not an alias: {problem}")])


@dataclass(frozen=True)
class Registration:
    """A version of the registered model; ``created_*`` say what this publish added."""

    name: str
    version: int
    created_version: bool
    created_model: bool


def existing_version(client: MlflowClient, name: str, mlflow_run_id: str) -> int | None:
    """The lowest version of ``name`` registered from ``mlflow_run_id``, if any."""
    with mlflow_errors(f"search the versions of {name!r}"):
        # Filtering on the run id alone keeps the name out of the filter's quoting.
        found = client.search_model_versions(f"run_id = '{mlflow_run_id}'")
    versions = [int(v.version) for v in found if v.name == name]
    return min(versions) if versions else None


def aliases(client: MlflowClient, name: str) -> dict[str, int]:
    """alias → version of ``name`` ({} when the model is not registered)."""
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return {}
        raise UpstreamError(
            f"MLflow could not read registered model {name!r}: {exc.message}"
        ) from exc
    return {alias: int(version) for alias, version in model.aliases.items()}


def register(
    client: MlflowClient, name: str, choice: Choice, task: str, tags: dict[str, str]
) -> Registration:
    """A new version of ``name`` from the chosen run's logged model, with ``tags`` too."""
    from mlflow.exceptions import MlflowException

    created_model = False
    with mlflow_errors(f"register model {name!r}"):
        try:
            client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            try:
                client.create_registered_model(name, description=f"Published by VTM ({task}).")
                created_model = True
            except MlflowException as again:
                # Another writer created it in between: use theirs.
                if again.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
                    raise
    candidate = choice.candidate
    try:
        with mlflow_errors(f"create a version of {name!r}"):
            # The model's storage location, not its models:/ URI: MLflow 3.17's SQL registry
            # resolves that URI through the process-wide tracking URI, not this client's.
            version = client.create_model_version(
                name,
                source=choice.model.artifact_location,
                run_id=candidate.mlflow_run_id,
                tags={VTM_RUN_TAG: candidate.vtm_run.id, VTM_TASK_TAG: task, **tags},
                model_id=choice.model.model_id,
            )
    except BaseException:
        if created_model:
            drop_model(client, name)
        raise
    return Registration(name, int(version.version), True, created_model)


def tag_version(client: MlflowClient, name: str, version: int, tags: dict[str, str]) -> None:
    with mlflow_errors(f"tag version {version} of {name!r}"):
        for key, value in tags.items():
            client.set_model_version_tag(name, str(version), key, value)


def set_alias(client: MlflowClient, name: str, alias: str, version: int) -> None:
    with mlflow_errors(f"set alias {alias!r} of {name!r} to version {version}"):
        client.set_registered_model_alias(name, alias, str(version))


def undo(client: MlflowClient, registration: Registration) -> list[str]:
    """Take back what ``register`` added; returns what could not be taken back."""
    left: list[str] = []
    if registration.created_version:
        try:
            with mlflow_errors("delete the new version"):
                client.delete_model_version(registration.name, str(registration.version))
        except Exception as exc:  # noqa: BLE001 - reported, the original error wins
            left.append(f"version {registration.version} of {registration.name!r} ({exc})")
    if registration.created_model:
        left += drop_model(client, registration.name)
    return left


def drop_model(client: MlflowClient, name: str) -> list[str]:
    try:
        with mlflow_errors(f"delete registered model {name!r}"):
            client.delete_registered_model(name)
    except Exception as exc:  # noqa: BLE001 - reported, the original error wins
        return [f"registered model {name!r} ({exc})"]
    return []
