"""Issue 19: the rescue and the Windows flows with the keyboard alone (Tab, Enter, Space, Escape and
typing; nothing is clicked), as someone who cannot use a mouse goes through them."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LONG = 90_000  # the simulator is fast, a busy machine is slow


def focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, target, max_tabs: int = 80) -> None:
    """Press Tab until `target` (a locator, or the text of a link or button) has the focus, and check
    that the focus can be seen there."""
    locator = page.get_by_role("link", name=target).or_(page.get_by_role("button", name=target)) \
        if isinstance(target, str) else target
    locator = locator.first
    expect(locator).to_be_visible()
    for _ in range(max_tabs):
        if focused(locator):
            break
        page.keyboard.press("Tab")
    else:
        where = page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
        raise AssertionError(f"{max_tabs} Tabs did not reach {locator} on {page.url}; the focus is on {where}")
    outline = locator.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none", f"no visible focus on {locator} ({page.url})"


def log_in(page, portal, username: str) -> None:
    page.goto(portal.url)
    expect(page.locator("#id_username")).to_be_focused()  # autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(portal.logins[username])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Device List")


def next_poll(page) -> None:
    """Wait until the page's live update (htmx) has next replaced its part of the page."""
    page.evaluate("""() => new Promise((done, fail) => {
        document.body.addEventListener("htmx:afterSettle", done, {once: true});
        setTimeout(() => fail(new Error("no live update within 60 s")), 60000); })""")


def open_first_device(page) -> str:
    """From the Device List, the first device's page."""
    link = page.locator("table.devices tbody a.device-link").first
    name = link.inner_text()
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(name)
    return name


def choose_action(page, label: str) -> None:
    """Actions (a menu that opens with Enter), then one of its items."""
    tab_to(page, page.locator("#actions-menu > summary"))
    page.keyboard.press("Enter")
    item = page.locator("#actions-menu a", has_text=label)
    expect(item).to_be_visible()
    tab_to(page, item, max_tabs=5)
    page.keyboard.press("Enter")


def say_yes(page) -> None:
    tab_to(page, page.locator("#yes"))
    page.keyboard.press("Space")  # a button: Space presses it as Enter does


def test_a_linux_rescue_with_the_keyboard_alone(browser, portal):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, portal, "operator")
        # The first Tab shows "Skip to content", which leads past the menus.
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('main') !== null")
        # Sorting replaces the table (htmx): the focus stays on the column's heading.
        memory = page.locator("table.devices thead a", has_text="Memory")
        tab_to(page, memory)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"sort=memory_mb"))
        expect(memory).to_be_focused()
        name = open_first_device(page)

        # Escape closes the menu and gives the focus back to Actions; Enter opens it again.
        tab_to(page, page.locator("#actions-menu > summary"))
        page.keyboard.press("Enter")
        expect(page.locator("#actions-menu > ul")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#actions-menu > ul")).to_be_hidden()
        expect(page.locator("#actions-menu > summary")).to_be_focused()

        choose_action(page, "Rescue mode")
        expect(page.locator(".question")).to_have_text("Change this device to rescue mode immediately?")
        tab_to(page, page.locator("#id_reason"))
        page.keyboard.type("fsck, by keyboard")
        say_yes(page)
        expect(page.locator("#op-state")).to_have_text("In rescue", timeout=LONG)
        expect(page.locator("[id^=op-result-]")).to_be_focused()  # the result takes the focus

        # The card updates itself every few seconds: the focus stays where it was through an update.
        end_now = page.get_by_role("link", name="End now (Restart)")
        tab_to(page, end_now)
        next_poll(page)
        expect(end_now).to_be_focused()

        tab_to(page, page.locator("#reveal"))
        page.keyboard.press("Enter")
        expect(page.locator("#id_reauth_password")).to_be_focused()  # the re-authentication form takes the focus
        page.keyboard.type(portal.logins["operator"])
        page.keyboard.press("Enter")
        expect(page.locator("#password-1")).to_be_visible()
        expect(page.locator("#credentials .copy-btn").first).to_be_focused()

        tab_to(page, "Back to the device")
        page.keyboard.press("Enter")
        expect(page.locator("h1 .badge")).to_have_text("In rescue")
        choose_action(page, "Restart")
        expect(page.locator(".question")).to_contain_text("Restart")
        say_yes(page)
        expect(page.locator("#op-state")).to_have_text("Back to normal", timeout=LONG)
        tab_to(page, "Back to the device")
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_contain_text(name)
        expect(page.locator("h1 .badge")).to_have_text("Normal")
    finally:
        page.context.close()


def test_a_windows_server_booted_from_the_rescue_image_with_the_keyboard_alone(browser, portal):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, portal, "windows-operator")
        open_first_device(page)
        choose_action(page, "Rescue mode")
        expect(page.locator("main")).to_contain_text("Windows virtual servers have no rescue kernel")
        tab_to(page, page.locator("#to-boot-image"))
        page.keyboard.press("Enter")

        recommended = page.locator(".images li.recommended")
        expect(recommended).to_contain_text("WindowsRescueStandalone.iso")
        expect(recommended.get_by_role("link", name="Boot from this image")).to_be_focused()  # preselected
        page.keyboard.press("Enter")
        expect(page.locator(".question")).to_contain_text("WindowsRescueStandalone.iso")
        say_yes(page)
        expect(page.locator("#op-state")).to_have_text("Booted from the image", timeout=LONG)
        expect(page.locator(".connect")).to_contain_text("Administrator")

        tab_to(page, "Back to the device")
        page.keyboard.press("Enter")
        expect(page.locator(".connect")).to_contain_text("Administrator")
        choose_action(page, "Boot from image")
        expect(page.locator(".continue")).to_contain_text("unload the current image and return to normal booting")
        tab_to(page, page.locator("#continue"))
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/unload-image/$"))
        say_yes(page)
        expect(page.locator("#op-state")).to_have_text("Back to normal", timeout=LONG)
    finally:
        page.context.close()
