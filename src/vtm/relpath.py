"""Relative paths that a request names inside a folder VTM serves (MLflow artifacts, a run's
work folder), refused when they could lead anywhere else."""

from __future__ import annotations

from pathlib import PurePosixPath

from vtm.errors import FieldError, InvalidRequest


def relative_path(path: str | None, inside: str, field: str = "path") -> str:
    """``path`` as ``a/b/c`` ('' = the folder itself); InvalidRequest on ``field`` for an
    absolute path, ``..``, a backslash, a drive letter or NUL."""
    if not path:
        return ""
    bad = (
        path.startswith(("/", "\\"))
        or "\\" in path
        or "\0" in path
        or (len(path) > 1 and path[1] == ":")
        or ".." in PurePosixPath(path).parts
    )
    if bad:
        raise InvalidRequest(
            [FieldError(field, f"must be a relative path inside {inside}, without '..'")]
        )
    return "/".join(p for p in PurePosixPath(path).parts if p != ".")
