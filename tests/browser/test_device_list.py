"""A new user's first minutes: log in, Devices → Device List, search, filter, sort, open a device."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def log_in(page, portal, username: str = "owner", password: str | None = None) -> None:
    page.goto(portal.url)
    expect(page).to_have_url(re.compile(r"/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password or portal.logins[username])
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Device List")


def device_names(page) -> list[str]:
    return page.locator("table.devices tbody a.device-link").all_inner_texts()


def test_device_list_search_filter_sort_and_device_page(page, portal):
    log_in(page, portal)
    expect(page.locator(".count")).to_have_text("40 devices")
    assert "Synced from SoftLayer" in page.inner_text(".page-head")

    # Devices → Device List, as in the console.
    page.click("#devices-menu summary")
    page.click("#devices-menu >> text=Device List")
    expect(page.locator("h1")).to_have_text("Device List")

    # Live search (htmx): the table follows the typing, the URL keeps the query.
    page.fill("#id_q", "web")
    expect(page).to_have_url(re.compile(r"q=web"))
    names = device_names(page)
    assert names and all("web" in name for name in names)

    # Filter by type: every row is bare metal.
    page.fill("#id_q", "")
    page.select_option("#id_kind", "bare_metal")
    expect(page).to_have_url(re.compile(r"kind=bare_metal"))
    types = page.locator("table.devices tbody td.kind").all_inner_texts()
    assert types and set(types) == {"Bare metal"}

    # Sort by memory, smallest first.
    page.select_option("#id_kind", "")
    expect(page.locator(".count")).to_have_text("40 devices")
    page.click("table.devices thead >> text=Memory")
    expect(page).to_have_url(re.compile(r"sort=memory_mb"))
    sizes = [float(t.split()[0]) for t in page.locator("table.devices tbody td.memory_mb").all_inner_texts()]
    assert sizes == sorted(sizes)

    # Click a device name → its page, with details and the Actions menu.
    first = device_names(page)[0]
    page.click(f"table.devices tbody a.device-link >> text={first}")
    expect(page.locator("h1")).to_contain_text(first)
    details = page.inner_text("main")
    for label in ("Type", "Location", "Public IP", "Private IP", "OS", "Memory", "Power", "Rescue environment"):
        assert label in details
    page.focus("#actions-menu summary")
    page.keyboard.press("Enter")
    rescue = page.locator("#actions-menu a", has_text="Rescue mode")
    expect(rescue).to_be_visible()
    page.keyboard.press("Tab")  # the menu's first item takes the focus from the keyboard
    expect(rescue).to_be_focused()


def test_bare_metal_power_is_read_live_on_its_page(page, portal):
    log_in(page, portal)
    page.select_option("#id_kind", "bare_metal")
    expect(page).to_have_url(re.compile(r"kind=bare_metal"))
    expect(page.locator("table.devices tbody td.power_state").first).to_have_text("Unknown")
    page.locator("table.devices tbody a.device-link").first.click()
    power = page.locator("dt:text('Power') + dd .badge")
    expect(power).to_have_text(re.compile("Running|Halted"))


def test_sync_now_runs_on_the_worker(page, portal):
    log_in(page, portal)
    page.click("text=Sync now")
    expect(page.locator(".messages")).to_contain_text("Inventory sync started")
    # The line beside the button says when it has finished, without a reload.
    expect(page.locator("#sync-status")).to_contain_text("Synced from SoftLayer just now", timeout=60_000)
    expect(page.locator("#sync-status")).to_contain_text("40 devices")


def test_phone_width_has_no_sideways_page_scroll(browser, portal):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, portal)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#id_q")).to_be_visible()
    context.close()
