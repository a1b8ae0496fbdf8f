"""The system's Chromium (Debian's, `make chromium`; never a downloaded browser) and the
arguments every test and benchmark launches it with through Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Headless on a machine without a display, a sandbox or a GPU; nothing fetched behind the
# test's back (component updates, sync, QUIC probes).
ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def binary(variable: str = "VTM_E2E_CHROMIUM") -> str:
    """The Chromium to launch: ``$variable`` if set, else `chromium` on PATH, else Debian's."""
    return os.environ.get(variable) or shutil.which("chromium") or "/usr/bin/chromium"


def missing(path: str) -> str | None:
    """Why Chromium cannot be launched from ``path``, or None."""
    if Path(path).exists():
        return None
    return f"no Chromium at {path}: `make chromium` installs Debian's"
