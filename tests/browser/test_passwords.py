"""A manager resets a user's password; the user signs in with the one-time password, is held on
"Your password" until they choose their own, then works; later "Forgot your password?" mails a
link (a file in var/mail/, as `make run` keeps it) that sets a new one."""

import email
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser
OWN, LATER = "my-own-passphrase-31", "after-the-mail-passphrase-77"


def sign_in(page, portal, username: str, password: str) -> None:
    page.goto(portal.url + "login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_one_time_password_then_own_then_forgot(browser, page, portal, tmp_path):
    UserFactory(username="pat", email="pat@example.com")
    log_in(page, portal, "manager")
    page.click("nav >> text=Manage Users")
    page.click("a:text-is('pat')")
    page.click("#reset-form button")
    one_time = page.locator("#one-time").inner_text()
    expect(page.locator("main")).to_contain_text("shown only now")

    pat = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # on a phone
    sign_in(pat, portal, "pat", one_time)
    expect(pat.locator("h1")).to_have_text("Your password")
    expect(pat.locator("main")).to_contain_text("one-time password")
    pat.goto(portal.url + "devices/")
    expect(pat.locator("h1")).to_have_text("Your password")  # held there until they choose
    pat.fill("#id_old_password", one_time)
    pat.fill("#id_new_password1", OWN)
    pat.fill("#id_new_password2", OWN)
    pat.keyboard.press("Enter")
    expect(pat.locator(".messages")).to_contain_text("Your password was changed")
    expect(pat.locator("h1")).to_contain_text("Device List")

    stranger = browser.new_context().new_page()
    stranger.goto(portal.url + "login/")
    stranger.click("text=Forgot your password?")
    stranger.fill("#id_email", "pat@example.com")
    stranger.click("button:has-text('Send the link')")
    expect(stranger.locator("h1")).to_have_text("Check your email")
    mails = sorted((tmp_path / "mail").glob("*.log"))
    assert mails, "no mail was written to var/mail/"
    body = email.message_from_string(mails[-1].read_text()).get_payload(decode=True).decode()
    link = re.search(r"https?://\S+/login/reset/\S+", body).group(0)
    stranger.goto(link)
    stranger.fill("#id_new_password1", LATER)
    stranger.fill("#id_new_password2", LATER)
    stranger.click("button:has-text('Set the password')")
    expect(stranger.locator("h1")).to_have_text("Password set")
    log_in(stranger, portal, "pat", LATER)
    expect(stranger.locator("h1")).to_contain_text("Device List")
