"""Issue 19's stumbles that only a browser shows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devices.models import Device
from tests.browser.test_device_list import log_in
from tests.browser.test_rescue import open_device
from tests.factories import DeviceFactory, OwnerFactory, UserFactory
from workflows.models import Operation

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


def test_past_rescues_fit_a_1366_px_screen_without_scrolling_sideways(transactional_db, browser, live_server):
    """At 1366 px Past rescues scrolled sideways for Exited, Time in rescue, Outcome and Reveals. The rows are
    made in the database (the page only reads them), so the portal's own web server is enough."""
    owner = OwnerFactory()
    someone = UserFactory(username="windows-operator")
    linux = DeviceFactory(hostname="database-primary-00031", domain="staging.example.org")
    windows = DeviceFactory(hostname="fileserver-00012", domain="prod.example.net",
                            os_family=Device.OsFamily.WINDOWS, os_name="Windows Server 2022 Standard Edition (64 bit)")
    now = timezone.now()
    hours = [now - timedelta(hours=h) for h in range(6)]

    def operation(device, kind, by, state, **fields):
        return Operation.objects.create(device=device, kind=kind, requested_by=by, state=state,
                                        deadline_at=now, **fields)

    restart = operation(linux, Operation.Kind.RESTART, owner, Operation.State.NORMAL, finished_at=hours[1])
    operation(linux, Operation.Kind.RESCUE, someone, Operation.State.EXITED, finished_at=hours[4], exited_at=hours[1],
              ended_by=restart, rescue_os="CentOS 7 or later", reason="fsck after a power loss on the root volume")
    unload = operation(windows, Operation.Kind.UNLOAD_IMAGE, someone, Operation.State.NORMAL, finished_at=hours[2])
    operation(windows, Operation.Kind.BOOT_IMAGE, someone, Operation.State.EXITED, finished_at=hours[5],
              exited_at=hours[2], ended_by=unload, iso_image_name="WindowsRescueStandalone.iso",
              reason="the server does not boot after the last update")
    operation(linux, Operation.Kind.RESCUE, owner, Operation.State.IN_RESCUE, finished_at=hours[0],
              rescue_os="CentOS 7 or later")

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", "correct horse battery staple")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Device List")
        page.goto(live_server.url + "/audit/rescues/")
        expect(page.locator("table.rescues tbody tr")).to_have_count(3)
        expect(page.locator("table.rescues")).to_contain_text("Continue (unload the image) by windows-operator")
        wrap = page.evaluate("""() => { const w = document.querySelector('table.rescues').closest('.table-wrap');
            const d = document.documentElement;
            return {table: [w.scrollWidth, w.clientWidth], page: [d.scrollWidth, d.clientWidth]}; }""")
        assert wrap["table"][0] <= wrap["table"][1], f"the table scrolls sideways: {wrap}"
        assert wrap["page"][0] <= wrap["page"][1], f"the page scrolls sideways: {wrap}"
        for column in ("Exited", "Time in rescue", "Outcome", "Reveals"):
            expect(page.locator("table.rescues th", has_text=column)).to_be_in_viewport()
    finally:
        context.close()
