"""Rescue sessions that end on time, "restarted from inside", and a bulk rescue, in Chromium on the
stack `make run` starts (with short session timings a user could set)."""

import signal
import time

import pytest
from playwright.sync_api import expect

from notifications.payloads import SIGNATURE_HEADER, verify
from tests.browser.test_device_list import log_in
from tests.browser.test_rescue import action, open_device
from tests.support.portal import start_portal
from tests.support.processes import stop
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.browser
SHORT_SESSIONS = {"RESCUE_TIME_LIMIT_CHOICES_MINUTES": "0.25,30,60", "RESCUE_REMINDER_MINUTES": "0.1",
                  "RESCUE_SESSION_CHECK_SECONDS": "1", "AUTO_EXIT_RETRY_SECONDS": "5"}


@pytest.fixture
def short_portal(transactional_db, tmp_path):
    portal = start_portal(tmp_path, **SHORT_SESSIONS)
    yield portal
    stop(portal.process, signal.SIGINT)


def test_a_rescue_with_a_short_limit_reminds_then_ends_by_itself(page, short_portal):
    log_in(page, short_portal, "operator")
    open_device(page, short_portal, os_family="linux", kind="virtual")
    action(page, "Rescue mode")
    expect(page.locator("#time-limit-help")).to_contain_text("At the end the portal restarts the device")
    page.select_option("#id_time_limit", label="15 seconds")
    page.click("#yes")

    expect(page.locator("#op-state")).to_have_text("In rescue", timeout=90_000)
    expect(page.locator("#time-left")).to_contain_text("Time left:")
    expect(page.locator("#reminder")).to_contain_text("The time limit is near", timeout=60_000)  # without reload
    expect(page.locator("#op-state")).to_have_text("Exited", timeout=120_000)
    expect(page.locator(".progress")).to_contain_text("Restart by the portal at the time limit")


def test_back_to_normal_after_a_restart_from_inside(page, short_portal):
    log_in(page, short_portal, "operator")
    open_device(page, short_portal, os_family="linux", kind="virtual")
    action(page, "Rescue mode")
    page.select_option("#id_time_limit", label="30 minutes")
    page.click("#yes")
    expect(page.locator("#op-state")).to_have_text("In rescue", timeout=90_000)

    page.click("summary:has-text('I restarted it from inside')")
    page.click("#back-from-inside")
    expect(page.locator(".messages")).to_contain_text("is back to normal")
    expect(page.locator("h1 .badge")).to_have_text("Normal")


def test_three_servers_rescued_in_one_batch_on_a_phone(page, short_portal):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, short_portal, "operator")
    page.goto(f"{short_portal.url}devices/?os_family=linux&kind=virtual")
    boxes = page.locator("table.devices tbody input[name=device]")
    for index in range(3):
        boxes.nth(index).check()
    page.click("#bulk-rescue")

    expect(page.locator(".question")).to_have_text("Rescue mode on 3 devices immediately?")
    page.fill("#id_reason", "kernel update")
    page.select_option("#id_time_limit", label="30 minutes")
    page.click("#yes")
    expect(page.locator(".messages")).to_contain_text("requested for 3 of 3 devices")
    expect(page.locator("#batch-summary")).to_have_text("3 in rescue", timeout=120_000)


def test_the_owner_adds_a_webhook_and_its_test_arrives_signed(page, portal):
    receiver = WebhookReceiver()
    try:
        log_in(page, portal)
        page.click("text=Notifications")
        page.click("text=Webhooks for the whole account")
        page.fill("#id_name", "Chat ops")
        page.fill("#id_url", receiver.url)
        page.check("text=An operation finished")
        page.check("text=The portal's exit at a time limit failed")
        page.click("text=Add webhook")
        expect(page.locator(".messages")).to_contain_text("Webhook “Chat ops” added")
        secret = page.locator("#webhook-secret").inner_text()

        page.click("#send-test")
        expect(page.locator(".messages")).to_contain_text("Test sent")
        deadline = time.monotonic() + 60
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        request = receiver.requests[0]
        assert verify(secret, request["headers"][SIGNATURE_HEADER], request["body"], now=time.time())
        page.reload()
        expect(page.locator("#deliveries")).to_contain_text("Sent")
        expect(page.locator("#deliveries")).to_contain_text("200")
    finally:
        receiver.stop()
