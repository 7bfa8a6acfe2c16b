"""Single sign-on in Chromium: `make run`'s stack with OIDC_ISSUER pointing at a real provider
(django-oidc-provider in its own process); the owner maps a group, a colleague signs in there."""

import re
import signal

import pytest
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in
from tests.support.idp.process import start_idp
from tests.support.portal import start_portal
from tests.support.processes import free_port, stop

pytestmark = pytest.mark.browser


@pytest.fixture
def sso_portal(transactional_db, tmp_path):
    port = free_port()
    idp = start_idp(tmp_path, f"http://localhost:{port}/login/sso/callback/",
                    ["carol:pw-carol-1:carol@example.com:rescuers", "dave:pw-dave-1:dave@example.com:sales"])
    portal = start_portal(tmp_path / "portal", PORT=str(port), **idp.settings())
    yield portal
    stop(portal.process, signal.SIGINT)
    idp.stop()


def at_provider(page, username: str, password: str) -> None:
    page.click("#sso")
    expect(page.locator("h1")).to_have_text("Test IdP")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button:has-text('Sign in at the IdP')")


def test_a_mapped_group_signs_in_and_an_unmapped_one_is_told_why(browser, page, sso_portal):
    log_in(page, sso_portal)
    page.click("nav >> text=Manage Users")
    page.click("a:has-text('Single sign-on')")
    page.fill("#id_group", "rescuers")
    page.check("label:has-text('Operator') input")
    page.select_option("#id_devices", index=0)
    page.click("button:has-text('Save mapping')")
    expect(page.locator(".messages")).to_contain_text("Members of rescuers now get this")
    expect(page.locator("#mappings")).to_contain_text("Operator")

    carol = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    carol.goto(sso_portal.url)
    at_provider(carol, "carol", "pw-carol-1")
    expect(carol.locator("h1")).to_have_text("Device List", timeout=30_000)  # the code exchange: two processes
    expect(carol.locator("table.devices tbody tr")).to_have_count(1)  # the one device of the mapping
    expect(carol.locator(".who")).to_contain_text("carol")

    dave = browser.new_context().new_page()
    dave.goto(sso_portal.url)
    at_provider(dave, "dave", "pw-dave-1")
    expect(dave).to_have_url(re.compile(r"/login/"), timeout=30_000)
    expect(dave.locator(".messages")).to_contain_text("None of your groups")
    carol.context.close()
    dave.context.close()
