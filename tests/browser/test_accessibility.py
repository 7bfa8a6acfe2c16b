"""Issue 19: every page a user meets, at a laptop's 1366 px and a phone's 375 px, checked with axe-core.

One portal serves the whole walk (starting one costs seconds): the page states are reached once, as a
user reaches them, and each is checked at both widths. A violation of impact "serious" or "critical"
fails the test; the others are listed with the failure. `AXE_SHOTS=/tmp/axe-shots` also saves a
full-page screenshot of each state at 375 px, to look at.
"""

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in
from tests.browser.test_rescue import action, open_device

pytestmark = pytest.mark.browser

WIDTHS = {"1366px": {"width": 1366, "height": 900}, "375px": {"width": 375, "height": 800}}
BLOCKING = {"serious", "critical"}
# Not checked: Swagger UI (/api/docs/) is drf-spectacular's bundled third-party page, not the portal's markup.
AXE = Axe()


def run_axe(page) -> list[dict]:
    """axe-core's violations on the page as it is; its script is put into each document once."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)
    return page.evaluate("axe.run(document, {resultTypes: ['violations']})")["violations"]


@dataclass
class Walk:
    page: object
    shots: Path | None
    failures: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    counts: dict[str, Counter] = field(default_factory=dict)  # "state @ width" -> violations by impact

    def check(self, state: str, page=None) -> None:
        """Run axe on the page as it is now, at each width (the viewport ends at the laptop's); at
        375 px the page itself must not scroll sideways either (its tables scroll inside their box)."""
        page = page or self.page
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            counts = self.counts[f"{state} @ {width}"] = Counter()
            for violation in run_axe(page):
                impact = violation["impact"]
                counts[impact] += 1
                targets = " | ".join(" ".join(node["target"]) for node in violation["nodes"])
                line = f"[{width}] {state} ({page.url}): {violation['id']} ({impact}: {violation['help']}) on {targets}"
                (self.failures if impact in BLOCKING else self.others).append(line)
            if width == "375px":
                scroll, client = page.evaluate("(d => [d.scrollWidth, d.clientWidth])(document.documentElement)")
                if scroll > client:
                    self.failures.append(f"[{width}] {state} ({page.url}): the page scrolls sideways ({scroll} px)")
                if self.shots:
                    name = re.sub(r"[^a-z0-9]+", "-", state.lower()).strip("-")
                    page.screenshot(path=self.shots / f"{name}.png", full_page=True)
        page.set_viewport_size(WIDTHS["1366px"])

    def report(self) -> str:
        return ("serious or critical violations:\n  " + "\n  ".join(self.failures)
                + "\nothers (not failing):\n  " + "\n  ".join(self.others or ["none"]))


def walk_every_page(browser, page, portal, shots: Path | None = None) -> Walk:
    walk = Walk(page, shots)
    check = walk.check
    url = portal.url

    page.goto(url)
    expect(page.locator("h1")).to_have_text("Log in")
    check("Log in")
    page.goto(url + "login/forgot/")
    check("Forgot your password")

    log_in(page, portal)
    check("Device List")
    page.goto(url + "devices/?kind=virtual&os_family=linux&q=a&sort=-memory_mb")
    expect(page.locator(".count")).to_contain_text("device")
    check("Device List, filtered")

    # The rescue is asked for first: it runs while the pages that need nothing are checked.
    linux = open_device(page, portal, os_family="linux", kind="virtual")
    linux_page = page.url
    page.click("#actions-menu summary")
    check("Device page, Linux virtual server, Actions open")
    page.click("#actions-menu a:has-text('Rescue mode')")
    expect(page.locator(".question")).to_be_visible()
    check("Rescue mode confirm page")
    page.fill("#id_reason", "accessibility walk")
    page.click("#yes")
    expect(page.locator(".timeline")).to_be_visible()
    linux_op = page.url
    check("Operation progress, running")

    open_device(page, portal, os_family="windows", kind="virtual")
    check("Device page, Windows virtual server")
    action(page, "Rescue mode")
    check("Rescue mode for a Windows virtual server")
    page.click("#to-boot-image")
    check("Boot from image page")
    page.locator(".images li").first.locator("text=Boot from this image").click()
    check("Boot from image confirm page")

    open_device(page, portal, kind="bare_metal")
    expect(page.locator("dt:text('Power') + dd .badge")).not_to_have_text("Unknown")
    check("Device page, bare metal")

    page.goto(url + "devices/?kind=virtual&os_family=linux")
    boxes = page.locator("table.devices tbody input[name=device]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#bulk-rescue")
    expect(page.locator(".question")).to_be_visible()
    check("Bulk rescue confirm page")

    page.goto(url + "users/")
    check("Manage Users")
    page.click("#users a:text-is('operator')")
    expect(page.locator("h1")).to_contain_text("operator")
    check("Manage Users, a user")
    page.goto(url + "users/new/")
    check("Manage Users, Add user")

    page.goto(url + "account/security/")
    check("Security")
    page.goto(url + "account/api-tokens/")
    page.fill("#id_name", "walk")
    page.click("button:text('Create token')")
    expect(page.locator("#token-value")).to_be_visible()
    check("API tokens, a new token shown")
    page.goto(url + "account/notifications/")
    check("Notifications")
    page.goto(url + "notifications/webhooks/")
    check("Webhooks")

    page.goto(url + "audit/")
    check("Audit log")
    page.goto(url + "audit/integrity/")
    expect(page.locator("#verdict")).to_be_visible()
    check("Integrity")
    assert page.goto(url + "devices/999999999/").status == 404
    check("404 page")

    viewer = browser.new_context(viewport=WIDTHS["1366px"]).new_page()
    try:
        log_in(viewer, portal, "viewer")
        open_device(viewer, portal)
        viewer.click("#actions-menu summary")
        check("Device page, a viewer's (no actions), Actions open", viewer)
        assert viewer.goto(url + "audit/").status == 403
        check("403 page", viewer)
    finally:
        viewer.context.close()

    # Back to the rescue: in rescue, how to connect, reveal, restart.
    page.goto(linux_op)
    expect(page.locator("#op-state")).to_have_text("In rescue", timeout=90_000)
    check("Operation progress, finished: in rescue, with its session")
    page.goto(linux_page)
    expect(page.locator(".connect")).to_be_visible()
    check("Device page, in rescue, how to connect")
    page.click("#reveal")
    expect(page.locator("#id_reauth_password")).to_be_visible()
    check("Reveal password, re-authentication form")
    page.fill("#id_reauth_password", portal.logins["owner"])
    page.click(".reauth button")
    expect(page.locator("#password-1")).to_be_visible()
    check("Reveal password, shown")
    action(page, "Restart")
    expect(page.locator(".question")).to_be_visible()
    check("Restart confirm page")

    page.goto(url + "audit/rescues/")
    expect(page.locator("table.rescues tbody")).to_contain_text(linux)
    check("Past rescues")
    page.locator("table.rescues tbody a", has_text=linux).first.click()
    expect(page.locator("table.events")).to_be_visible()
    check("Past rescues, a rescue's story")
    return walk


def test_every_page_at_1366_and_375_px_has_no_serious_axe_violation(browser, page, portal):
    shots = Path(os.environ["AXE_SHOTS"]) if os.environ.get("AXE_SHOTS") else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    walk = walk_every_page(browser, page, portal, shots)
    assert not walk.failures, walk.report()
