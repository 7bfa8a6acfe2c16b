"""Browser tests: Debian's Chromium driven by Playwright against the stack `make run` starts."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.support.processes import MANAGE, database_url, free_port, stop

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium): browser tests skipped",
                allow_module_level=True)

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOGIN_LINE = re.compile(r"username (\S+)\s+password (\S+)")


class Portal:
    def __init__(self, process: subprocess.Popen, url: str, logins: dict[str, str], output: list[str]):
        self.process, self.url, self.logins, self.output = process, url, logins, output
        self.username = "owner"
        self.password = logins["owner"]


@pytest.fixture
def portal(transactional_db, tmp_path):
    """`manage.py rundemo` (what `make run` runs) on free ports, on the test database.

    It starts its own simulator and, when REDIS_URL is unset, its own embedded Redis, exactly as
    on a new user's machine.
    """
    port, sim_port = free_port(), free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "PORT": str(port), "SIMULATOR_PORT": str(sim_port),
           "DATABASE_URL": database_url(), "SIMULATOR_DEVICES": "40", "PYTHONUNBUFFERED": "1"}
    env.pop("SOFTLAYER_ENDPOINT_URL", None)
    process = subprocess.Popen([sys.executable, MANAGE, "rundemo"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    deadline = time.monotonic() + 90
    url, logins = None, {}
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "is running at " in line:
            url = line.split("is running at ", 1)[1].strip()
        if match := LOGIN_LINE.search(line):
            logins[match.group(1)] = match.group(2)
        if line.startswith("Press Ctrl-C"):
            break
    if not (url and "owner" in logins):
        stop(process)
        pytest.fail("rundemo did not come up:\n" + "".join(output))
    portal = Portal(process, url, logins, output)
    yield portal
    stop(process, signal.SIGINT)


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
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not violations, f"the page broke its Content Security Policy: {violations}"
