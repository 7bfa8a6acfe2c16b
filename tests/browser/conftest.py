"""Browser tests: Debian's Chromium driven by Playwright against the stack `make run` starts."""

import os
import shutil
import signal

import pytest

from tests.support.portal import start_portal
from tests.support.processes import stop

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium): browser tests skipped",
                allow_module_level=True)

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def portal(transactional_db, tmp_path):
    """`manage.py rundemo` (what `make run` runs) on free ports, on the test database."""
    portal = start_portal(tmp_path)
    yield portal
    stop(portal.process, signal.SIGINT)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page; any Content Security Policy violation it logs fails the test."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: a busy machine is slow, a broken page still fails
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not violations, f"the page broke its Content Security Policy: {violations}"
