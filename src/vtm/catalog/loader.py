"""Loading ``training_catalog.yaml``: YAML, then the schema, then cross-references.

Every problem becomes a ``CatalogError`` naming the file, the 1-based line and the dotted key
(spelled as in the file, e.g. ``tasks.digits-cnn.runner.target``). When a file has several
problems the error describes the first (by line) and its message lists every one, one a line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError

from vtm.catalog._crossrefs import reference_problems
from vtm.catalog._yamlnodes import Spot, duplicate_keys, locate
from vtm.catalog.models import Catalog
from vtm.errors import CatalogError

# Friendlier words for the pydantic errors a catalog author meets most.
_MESSAGES = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (not part of the catalog schema)",
}


@dataclass(frozen=True)
class LoadedCatalog:
    """A valid catalog and where it came from."""

    catalog: Catalog
    path: Path
    root: Path
    loaded_at: datetime
    digest: str


@dataclass(frozen=True)
class _Problem:
    spot: Spot
    message: str


def _raise(file: Path, problems: list[_Problem]) -> NoReturn:
    unique: dict[tuple[int, str | None], _Problem] = {}
    for problem in sorted(problems, key=lambda p: p.spot.line):
        unique.setdefault((problem.spot.line, problem.spot.key), problem)
    first, *others = unique.values()
    message = first.message + "".join(
        f"\n{file}:{p.spot.line}: {p.spot.key}: {p.message}" for p in others
    )
    raise CatalogError(message, file=str(file), line=first.spot.line, key=first.spot.key)


def _compose(file: Path, text: str) -> tuple[yaml.Node, Any]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise CatalogError("the catalog file is empty", file=str(file), line=1)
        duplicates = duplicate_keys(node, loader)
        if duplicates:
            _raise(file, [_Problem(spot, "duplicate key") for spot in duplicates])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = ": ".join(part for part in (exc.context, exc.problem) if part)
        line = None if mark is None else mark.line + 1
        if exc.context_mark and line != exc.context_mark.line + 1:
            what += f" (the construct began on line {exc.context_mark.line + 1})"
        raise CatalogError(f"invalid YAML: {what}", file=str(file), line=line) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"invalid YAML: {exc}", file=str(file)) from exc
    finally:
        loader.dispose()
    return node, data


def _schema_problems(node: yaml.Node, exc: ValidationError) -> list[_Problem]:
    # Union members each report an error at the same spot (default: bool | int | ...); those
    # are merged into one message.
    grouped: dict[Spot, list[dict[str, Any]]] = {}
    for error in exc.errors():
        spot = locate(node, error["loc"], missing=error["type"] == "missing")
        grouped.setdefault(spot, []).append(dict(error))
    problems = []
    for spot, errors in grouped.items():
        if len(errors) > 1 and all(e["type"].endswith("_type") for e in errors):
            kinds = ", ".join(str(e["loc"][-1]) for e in errors)
            message = f"wrong type: expected one of {kinds}"
        else:
            message = "; ".join(_message(e) for e in errors)
        problems.append(_Problem(spot, message))
    return problems


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return _MESSAGES.get(error["type"], str(error["msg"]))


def load_catalog(path: Path) -> LoadedCatalog:
    """Read, parse and validate the catalog at ``path``; CatalogError on any problem."""
    file = Path(path).expanduser().resolve()
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog: {exc.strerror}", file=str(file)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError("the catalog is not UTF-8 text", file=str(file), line=line) from exc
    node, data = _compose(file, text)
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        _raise(file, _schema_problems(node, exc))
    problems = [
        _Problem(locate(node, loc), message)
        for loc, message in reference_problems(catalog, file.parent)
    ]
    if problems:
        _raise(file, problems)
    return LoadedCatalog(
        catalog=catalog,
        path=file,
        root=file.parent,
        loaded_at=datetime.now(UTC),
        digest=hashlib.sha256(raw).hexdigest(),
    )
