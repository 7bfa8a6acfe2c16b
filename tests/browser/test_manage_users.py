"""A user manager gives a new operator one device and OS Reloads and Rescue Kernel; the operator
then sees that device and its Rescue mode action, and nothing else."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_device_list import device_names, log_in

pytestmark = pytest.mark.browser
PASSWORD = "rescue-me-if-you-can-42"


def test_manager_grants_an_operator_one_device_and_rescue(browser, page, portal):
    log_in(page, portal, "manager")
    page.click("nav >> text=Manage Users")
    expect(page.locator("h1")).to_have_text("Manage Users")

    page.click("text=Add user")
    page.fill("#id_username", "newop")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Add user')")
    expect(page.locator(".messages")).to_contain_text("User newop created with no permissions.")

    # Read-only with a reason: the manager does not hold View Event Log.
    expect(page.locator("#cap-USER_EVENT_LOG_VIEW")).to_be_disabled()
    expect(page.locator("#why-USER_EVENT_LOG_VIEW")).to_contain_text("you do not hold: View Event Log")

    page.check("#cap-SERVER_RELOAD")
    page.click("#capabilities-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("granted OS Reloads and Rescue Kernel")

    target = page.locator("#grant-form .check label").first.inner_text().split()[0]
    page.fill("#dq", target)
    page.click("form[role=search] button")
    page.check("#grant-form input[name=devices] >> nth=0")
    page.click("#grant-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("newop now has access to 1 more device.")
    expect(page.locator("#access-form")).to_contain_text(target)

    operator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(operator, portal, "newop", PASSWORD)
    expect(operator.locator(".count")).to_have_text("1 device")
    assert device_names(operator) == [target]
    expect(operator.locator("nav >> text=Manage Users")).to_have_count(0)

    operator.click(f"a.device-link >> text={target}")
    expect(operator.locator('#actions-menu [data-action="rescue"]')).to_have_attribute("data-permitted", "yes")
    expect(operator.locator("#hint-restart")).to_contain_text("Needs the IPMI Remote Management permission")

    response = operator.goto(portal.url + "users/")
    assert response.status == 403
    expect(operator.locator("main")).to_contain_text("Manage Users permission")
    operator.goto(portal.url + "devices/")
    other = re.compile(r"/devices/(\d+)/")
    own_id = int(other.search(operator.locator("a.device-link").first.get_attribute("href")).group(1))
    assert operator.goto(portal.url + f"devices/{own_id + 1}/").status == 404
