"""Run ids: sortable by creation time, short enough to type, safe as a folder name."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


def new_run_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def is_run_id(value: str) -> bool:
    """Whether ``value`` can name a run; anything else never reaches the file system."""
    return RUN_ID.match(value) is not None
