"""Issue 19's stumbles that only a browser shows."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in
from tests.browser.test_rescue import open_device

pytestmark = pytest.mark.browser


def test_the_actions_menu_opens_inside_a_phone_screen_and_escape_closes_it(browser, portal):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        log_in(page, portal, "operator")
        open_device(page, portal, os_family="linux", kind="virtual")
        page.click("#actions-menu > summary")
        menu = page.locator("#actions-menu > ul")
        expect(menu).to_be_visible()
        box = menu.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
        expect(page.locator("#actions-menu [data-action=restart]")).to_be_in_viewport()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        assert page.evaluate("document.activeElement.closest('#actions-menu') !== null")  # focus back on Actions
    finally:
        context.close()
