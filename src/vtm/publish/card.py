"""``model_card.json``: what a published folder holds and where it came from.

It is uploaded last: a folder without a card is an incomplete upload, a folder with one is
complete and verified (each file's sha256 and size are in it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vtm.publish.ftp import FileEntry

CARD_NAME = "model_card.json"
CARD_FORMAT = 1


@dataclass(frozen=True)
class CardFacts:
    task: str
    vtm_run_id: str
    mlflow_run_id: str
    model_uri: str
    registered_model: str
    version: int
    alias: str
    metric_name: str
    metric_goal: str
    metric_value: float
    params: dict[str, str]
    metrics: dict[str, float]
    published_at: datetime


def model_files(folder: Path) -> list[tuple[str, Path]]:
    """(path inside the folder with ``/`` separators, local path) of every file, sorted."""
    found = [p for p in folder.rglob("*") if p.is_file()]
    return sorted((p.relative_to(folder).as_posix(), p) for p in found)


def render_card(facts: CardFacts, files: list[FileEntry]) -> bytes:
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "task": facts.task,
        "vtmRunId": facts.vtm_run_id,
        "mlflowRunId": facts.mlflow_run_id,
        "modelUri": facts.model_uri,
        "registeredModel": facts.registered_model,
        "version": facts.version,
        "alias": facts.alias,
        "metric": {
            "name": facts.metric_name,
            "goal": facts.metric_goal,
            "value": facts.metric_value,
        },
        "params": dict(sorted(facts.params.items())),
        "metrics": dict(sorted(facts.metrics.items())),
        "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files],
        "publishedAt": facts.published_at.isoformat(),
    }
    return (json.dumps(card, indent=2) + "\n").encode()


def read_card(data: bytes) -> dict[str, Any] | None:
    """A card's content, or None when ``data`` is not a card VTM wrote."""
    try:
        card = json.loads(data)
    except ValueError:
        return None
    if not isinstance(card, dict) or not isinstance(card.get("files"), list):
        return None
    for f in card["files"]:
        if not (
            isinstance(f, dict)
            and isinstance(f.get("name"), str)
            and isinstance(f.get("size"), int)
            and isinstance(f.get("sha256"), str)
        ):
            return None
    return card


def card_files(card: dict[str, Any]) -> list[FileEntry]:
    """The files a card read by :func:`read_card` lists."""
    return [FileEntry(f["name"], f["size"], f["sha256"]) for f in card["files"]]
