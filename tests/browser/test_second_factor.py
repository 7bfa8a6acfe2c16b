"""Second factors in Chromium: an authenticator app enrolled by scanning (its key read off the
page, the code computed here as a phone would), a passkey made and used through Chromium's
virtual authenticator (the DevTools WebAuthn domain), and the owner requiring a second factor."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.test_device_list import log_in
from tests.browser.test_passwords import sign_in

pytestmark = pytest.mark.browser
CEREMONY = 30_000  # ms: a passkey ceremony is two requests and a page load, slow on a busy machine


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key printed under the QR code."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def virtual_authenticator(page):
    """A platform authenticator (like Touch ID) that answers at once, for this tab."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp


def press_passkey(page, button: str) -> None:
    """Press as soon as the button shows, as a person would. (Twice, on a busy machine, a press did
    nothing: the handler needs the translations, which loaded asynchronously; they now load first.)"""
    page.click(button)


def log_out(page) -> None:
    page.click("button:has-text('Log out')")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_authenticator_app_then_passkey_then_sign_in_with_each(page, portal):
    user, password = "operator", portal.logins["operator"]
    virtual_authenticator(page)
    log_in(page, portal, user, password)
    page.click("a:text-is('Security')")
    expect(page.locator("main")).to_contain_text("None yet")
    page.click("a.button:has-text('Add an authenticator app')")
    expect(page.locator("img.qr")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", "000000" if app_code(secret) != "000000" else "111111")
    page.keyboard.press("Enter")
    expect(page.locator("[role=alert]")).to_contain_text("did not match")
    page.fill("#id_code", app_code(secret))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("text=I have saved them")
    expect(page.locator("table.plain")).to_contain_text("Authenticator app")

    press_passkey(page, "#passkey-register-button")  # just proved a factor: no confirmation asked
    expect(page.locator("table.plain")).to_contain_text("Passkey", timeout=CEREMONY)

    log_out(page)
    sign_in(page, portal, user, password)
    expect(page.locator("h1")).to_have_text("Second step of signing in")
    press_passkey(page, "#passkey-verification-button")
    said = page.locator("#passkey-verification-status-message")
    try:
        expect(page.locator("h1")).to_have_text("Device List", timeout=CEREMONY)
    except AssertionError as failed:  # say what the page said (the ceremony's own message)
        raise AssertionError(f"passkey sign-in did not finish: {said.all_inner_texts()}") from failed

    log_out(page)
    sign_in(page, portal, user, password)
    page.goto(portal.url + "devices/?q=zzz")  # held at the second step, the page asked for kept
    expect(page.locator("h1")).to_have_text("Second step of signing in")
    page.fill("#id_code", app_code(secret, steps_ahead=1))  # this step's code was used at enrolment
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Device List")
    expect(page).to_have_url(re.compile(r"q=zzz"))


def test_the_owner_requires_a_second_factor_of_everyone(browser, page, portal):
    virtual_authenticator(page)
    log_in(page, portal)
    page.click("nav >> text=Manage Users")
    page.check("input[value=everyone]")
    page.click("button:has-text('Save rule')")
    expect(page.locator("main")).to_contain_text("Add your own second factor first")

    page.goto(portal.url + "account/security/")
    press_passkey(page, "#passkey-register-button")
    expect(page.locator("#recovery-codes li")).to_have_count(10, timeout=CEREMONY)  # a first factor brings codes
    page.click("nav >> text=Manage Users")
    page.check("input[value=everyone]")
    page.click("button:has-text('Save rule')")
    expect(page.locator(".messages")).to_contain_text("Second factor required of: everyone")

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, portal, "auditor", portal.logins["auditor"])
    expect(phone.locator("h1")).to_have_text("Security")
    expect(phone.locator(".messages")).to_contain_text("requires a second factor")
    phone.goto(portal.url + "audit/")
    expect(phone.locator("h1")).to_have_text("Security")  # nothing else opens before it
    phone.click("a.button:has-text('Add an authenticator app')")
    phone.fill("#id_code", app_code(phone.locator("#totp-secret").inner_text()))
    phone.keyboard.press("Enter")
    phone.click("text=I have saved them")
    phone.goto(portal.url + "audit/")
    expect(phone.locator("h1")).to_contain_text("Audit")
    phone.context.close()
