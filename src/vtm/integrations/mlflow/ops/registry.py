"""Registered models with their versions and aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vtm.integrations.mlflow.ops._calls import (
    MAX_VERSIONS,
    calling,
    client_of,
    escape,
)
from vtm.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel


# -- the model registry ------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredModelInfo:
    model: RegisteredModel
    aliases: dict[str, str]  # alias -> version
    versions: list[ModelVersion]  # newest first


def _registered(client: MlflowClient, model: RegisteredModel) -> RegisteredModelInfo:
    name = model.name
    versions = client.search_model_versions(f"name = '{escape(name)}'", max_results=MAX_VERSIONS)
    # search_model_versions leaves each version's aliases empty: the model holds them.
    detail = client.get_registered_model(name)
    aliases = {alias: str(version) for alias, version in (detail.aliases or {}).items()}
    ordered = sorted(
        versions, key=lambda v: int(v.version) if str(v.version).isdigit() else 0, reverse=True
    )
    return RegisteredModelInfo(detail, aliases, ordered)


def registered_models(settings: Settings, max_results: int = 100) -> list[RegisteredModelInfo]:
    client = client_of(settings)
    with calling("list registered models"):
        models = client.search_registered_models(max_results=max_results, order_by=["name ASC"])
        return [_registered(client, m) for m in models]


def registered_model(settings: Settings, name: str) -> RegisteredModelInfo:
    client = client_of(settings)
    with calling(f"read registered model {name!r}", f"no registered model {name!r}"):
        return _registered(client, client.get_registered_model(name))
