"""An auditor reviews a past rescue: the log, a filter, an export, the rescue's story, integrity."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in
from tests.browser.test_rescue import action, open_device

pytestmark = pytest.mark.browser


def test_auditor_reviews_a_rescue(browser, page, portal):
    log_in(page, portal, "operator")
    device = open_device(page, portal)
    action(page, "Rescue mode")
    page.fill("#id_reason", "audit me")
    page.click("#yes")
    expect(page.locator("#op-state")).to_have_text("In rescue", timeout=90_000)

    auditor = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True).new_page()
    log_in(auditor, portal, "auditor")
    auditor.click("nav >> text=Audit")
    expect(auditor.locator("h1")).to_have_text("Audit log")
    auditor.select_option("#id_event", "device.rescue")
    auditor.click("text=Apply")
    events = auditor.locator("table.events tbody tr td:nth-child(4)").all_inner_texts()
    assert events and set(events) == {"device.rescue"}

    with auditor.expect_download() as download:
        auditor.click("text=Export CSV")
    exported = Path(download.value.path()).read_text()
    assert exported.startswith("seq,created_at,actor_username") and "audit me" in exported

    auditor.click("text=Past rescues")
    row = auditor.locator("table.rescues tbody tr").first
    expect(row).to_contain_text(device)
    expect(row).to_contain_text("audit me")
    expect(row.locator(".time-in-rescue")).to_contain_text("still in rescue")
    row.locator("a").click()
    expect(auditor.locator("table.events")).to_contain_text("accepted by SoftLayer")
    expect(auditor.locator("table.events")).to_contain_text("127.0.0.1")

    auditor.click("text=Integrity")
    expect(auditor.locator("#verdict")).to_contain_text("Intact up to event")

    # The operator, without View Event Log, is refused and the refusal is itself audited.
    assert page.goto(portal.url + "audit/").status == 403
    auditor.goto(portal.url + "audit/?event=audit.view&outcome=denied")
    expect(auditor.locator("table.events tbody")).to_contain_text("operator")
