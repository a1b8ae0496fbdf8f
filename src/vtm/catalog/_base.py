"""Building blocks shared by the catalog's models: the model base, ids, scalars, durations."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")

Scalar = bool | int | float | str


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _task_id(task_id: str) -> str:
    if not TASK_ID.match(task_id):
        raise ValueError(f"{task_id!r} is not a valid task id (letters, digits, . _ -)")
    return task_id


TaskId = Annotated[str, AfterValidator(_task_id)]


def parse_duration(value: float | int | str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as '30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = DURATION.match(value)
        if not m:
            raise ValueError(
                f"{value!r} is not a duration such as '7d', '12h', '30m', '90s' or 90 (seconds)"
            )
        seconds = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2) or "s"]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds
