"""End-to-end fixtures: one Debian Chromium for the session, a fresh browser context per test.

The browser is the system's Chromium (`make chromium` installs it), driven by Playwright; a
browser is never downloaded. Each test gets a clean context (no cache, no storage) and one
page; an uncaught exception in the page's JavaScript fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import DEADLINE_MS, DESKTOP, TRACK_FETCHES
from playwright.sync_api import Browser, Page, expect, sync_playwright
from vtm_testkit import chromium

CHROMIUM = chromium.binary()  # $VTM_E2E_CHROMIUM, else `chromium` on PATH

expect.set_options(timeout=DEADLINE_MS)


# One browser a module, not a session: Playwright's sync API keeps an event loop running in
# this thread while it lives, and a worker may run a file whose tests start their own loops
# (asyncio.run) after a browser test file (files come longest first, tests/conftest.py).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if (why := chromium.missing(CHROMIUM)) is not None:
        pytest.fail(why)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=list(chromium.ARGS))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(DEADLINE_MS)
    context.add_init_script(script=TRACK_FETCHES)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    """The folder the scripted trainer's gate files go in (`gate_dir`)."""
    folder = tmp_path / "gates"
    folder.mkdir()
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs Chromium: `make test-fast` leaves them out by this marker."""
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.chromium)
