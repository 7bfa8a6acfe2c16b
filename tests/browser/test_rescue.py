"""The rescue flows in the browser, on the stack `make run` starts."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in

pytestmark = pytest.mark.browser


def open_device(page, portal, **filters) -> str:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page.goto(f"{portal.url}devices/?{query}")
    link = page.locator("table.devices tbody a.device-link").first
    name = link.inner_text()
    link.click()
    expect(page.locator("h1")).to_contain_text(name)
    return name


def action(page, label: str) -> None:
    page.click("#actions-menu summary")
    page.click(f"#actions-menu a:has-text('{label}')")


def test_linux_rescue_progress_reveal_and_restart(page, portal):
    log_in(page, portal, "operator")
    open_device(page, portal)
    action(page, "Rescue mode")
    expect(page.locator(".question")).to_have_text("Change this device to rescue mode immediately?")
    expect(page.locator("main")).to_contain_text("This process might take several minutes.")
    page.fill("#id_reason", "fsck after a power loss")
    page.click("#yes")

    expect(page.locator(".messages")).to_contain_text("Rescue mode requested")
    expect(page.locator(".timeline")).to_contain_text("Powering down")
    expect(page.locator("#op-state")).to_have_text("In rescue", timeout=90_000)  # updated without reload
    # Where to connect appears right there, and the keyboard's focus is on the result, not lost.
    expect(page.locator(".connect")).to_contain_text("ssh root@")
    expect(page.locator("[id^=op-result-]")).to_be_focused()
    expect(page.locator(".messages")).to_have_count(0)  # "Rescue mode requested" does not stay above the result

    page.click("#reveal")
    page.fill("#id_reauth_password", "not my password")
    page.click(".reauth button")
    expect(page.locator("#credentials")).to_contain_text("That is not your password.")  # a 403 fragment, shown
    expect(page.locator("#id_reauth_password")).to_be_focused()
    page.fill("#id_reauth_password", portal.logins["operator"])
    page.click(".reauth button")
    expect(page.locator("#password-1")).to_be_visible()
    expect(page.locator("#credentials .copy-btn").first).to_be_focused()  # not the page's body

    page.click("text=Back to the device")
    expect(page.locator("h1 .badge")).to_have_text("In rescue")
    action(page, "Restart")
    page.click("#yes")
    expect(page.locator("#op-state")).to_have_text("Back to normal", timeout=90_000)
    page.goto(f"{portal.url}devices/?status=in_rescue")
    expect(page.locator(".count")).to_have_text("0 devices")


def test_windows_rescue_image_then_continue(page, portal):
    log_in(page, portal, "windows-operator")
    open_device(page, portal)
    action(page, "Rescue mode")
    expect(page.locator("main")).to_contain_text("Windows virtual servers have no rescue kernel")
    page.click("#to-boot-image")

    first = page.locator(".images li").first
    expect(first).to_contain_text("WindowsRescueStandalone.iso")
    expect(first).to_contain_text("Recommended for Windows")
    first.locator("text=Boot from this image").click()
    expect(page.locator(".question")).to_contain_text("WindowsRescueStandalone.iso")
    page.click("#yes")
    expect(page.locator("#op-state")).to_have_text("Booted from the image", timeout=90_000)
    expect(page.locator(".connect")).to_contain_text("Administrator")

    page.click("text=Back to the device")
    expect(page.locator(".connect")).to_contain_text("Administrator")
    action(page, "Boot from image")
    expect(page.locator(".continue")).to_contain_text("unload the current image and return to normal booting")
    page.click("#continue")
    page.click("#yes")
    expect(page.locator("#op-state")).to_have_text("Back to normal", timeout=90_000)


def test_no_changes_nothing(page, portal):
    log_in(page, portal, "operator")
    name = open_device(page, portal)
    action(page, "Rescue mode")
    page.click("#no")
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("h1 .badge")).to_have_text("Normal")
    expect(page.locator(".progress")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/devices/\d+/$"))


def test_viewer_never_sees_a_usable_action(page, portal):
    log_in(page, portal, "viewer")
    open_device(page, portal)
    page.click("#actions-menu summary")
    expect(page.locator("#actions-menu a")).to_have_count(0)
    expect(page.locator("#hint-rescue")).to_contain_text("Needs the OS Reloads and Rescue Kernel permission")
