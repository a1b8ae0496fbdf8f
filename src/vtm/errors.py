"""VTM's exception tree; the API maps each class to one HTTP status in one place.

VtmError
├── NotFound            (404) unknown task, run or file
├── Forbidden           (403) a credential that is valid, but not for this
├── InvalidRequest      (422) a request that names bad values, one FieldError each
├── Conflict            (409) the request does not fit the run's current state
│   └── NotPublished    (409) a model that did not pass its floor or gate: nothing changed
├── UpstreamError       (502) a service VTM relies on (MLflow, the FTP registry) failed
└── CatalogError        (the catalog file cannot be loaded; file, line and key named)
"""

from __future__ import annotations

from dataclasses import dataclass


class VtmError(Exception):
    """Base of every error VTM raises on purpose."""

    code = "vtm_error"


class NotFound(VtmError):
    code = "not_found"


class Forbidden(VtmError):
    """A run's own credential used for another run, or a ticket already used."""

    code = "forbidden"


class Conflict(VtmError):
    code = "conflict"


class NotPublished(Conflict):
    """Publishing was refused on purpose: the model is below the task's floor or does not
    beat the champion. The message says by how much; a pipeline step ends as skipped."""

    code = "not_published"


class UpstreamError(VtmError):
    """MLflow or the FTP registry refused or could not be reached; the message names which."""

    code = "upstream_failed"


@dataclass(frozen=True)
class FieldError:
    """One bad field of a request: its name and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidRequest(VtmError):
    code = "validation_failed"

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        super().__init__(message or "; ".join(str(e) for e in errors))


class CatalogError(VtmError):
    """The catalog file is invalid. ``file``, ``line`` and ``key`` locate the problem."""

    code = "catalog_invalid"

    def __init__(
        self, message: str, *, file: str, line: int | None = None, key: str | None = None
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")
