"""Second factors: an authenticator app with recovery codes, asked at sign-in, again before a
reveal or a Manage Users change (step-up), and required of chosen users by the owner."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import capabilities as caps
from accounts.middleware import owed_step
from audit.models import AuditEvent
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, enrol_authenticator, grant, totp_code

PASSWORD = "correct horse battery staple"


def password_only(username: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def with_factor(username: str, device) -> Client:
    """Both steps of signing in, with the app's next code (this step's may have been used)."""
    client = password_only(username)
    answer = client.post(reverse("second_factor"), {"code": totp_code(device, steps_ahead=1), "next": "/devices/"})
    assert answer.status_code == 302, answer.content.decode()[:400]
    return client


# --- The decision, with plain values ------------------------------------------------------------

@pytest.mark.parametrize(("state", "step"), [
    ({"has_factor": False, "verified": False, "must_change_password": False, "factor_required": False}, None),
    ({"has_factor": True, "verified": False, "must_change_password": True, "factor_required": True}, "second_factor"),
    ({"has_factor": True, "verified": True, "must_change_password": True, "factor_required": False},
     "password_change"),
    ({"has_factor": False, "verified": False, "must_change_password": False, "factor_required": True}, "security"),
    ({"has_factor": True, "verified": True, "must_change_password": False, "factor_required": True}, None),
])
def test_the_step_a_signed_in_user_owes(state, step):
    assert owed_step(**state) == step


# --- Enrolment and sign-in ------------------------------------------------------------------------

@pytest.mark.django_db
def test_enrolment_needs_a_code_from_the_app_then_gives_recovery_codes():
    UserFactory(username="pat")
    client = password_only("pat")
    page = client.get(reverse("authenticator_add"))
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.content.decode()
    device = TOTPDevice.objects.get(pk=client.session["pending_totp"])

    wrong = client.post(reverse("authenticator_add"), {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "did not match" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed  # counts for nothing yet

    device, codes = enrol_authenticator(client)
    assert device.confirmed and len(codes) == 10 and len(set(codes)) == 10
    rows = AuditEvent.objects.filter(event="auth.second_factor.add").order_by("seq")
    outcomes = list(rows.values_list("outcome", flat=True))
    assert outcomes == ["failed", "succeeded"]
    assert not any(code in str(row.detail) for row in AuditEvent.objects.all() for code in codes)


@pytest.mark.django_db
def test_sign_in_asks_for_the_code_and_nothing_opens_before_it():
    UserFactory(username="pat")
    device, _ = enrol_authenticator(password_only("pat"))

    client = password_only("pat")
    for path in ("/devices/", reverse("password_change"), reverse("security")):
        held = client.get(path)
        assert held.status_code == 302 and held["Location"].startswith(reverse("second_factor")), path
    assert "next=%2Fdevices%2F" in client.get("/devices/")["Location"]

    wrong = client.post(reverse("second_factor"), {"code": "12345", "next": "/devices/"})
    assert wrong.status_code == 400 and "wrong, expired or was already used" in wrong.content.decode()
    assert client.get("/devices/").status_code == 302

    right = client.post(reverse("second_factor"), {"code": totp_code(device, 1), "next": "/devices/"})
    assert right.status_code == 302 and right["Location"] == "/devices/"
    assert client.get("/devices/").status_code == 200
    rows = AuditEvent.objects.filter(event="auth.second_factor", detail__purpose="sign-in")
    assert sorted(rows.values_list("outcome", flat=True)) == ["failed", "succeeded"]


@pytest.mark.django_db
def test_a_code_is_accepted_once_and_a_stolen_session_cannot_reuse_it():
    UserFactory(username="pat")
    device, _ = enrol_authenticator(password_only("pat"))
    code = totp_code(device, 1)
    first = password_only("pat")
    assert first.post(reverse("second_factor"), {"code": code}).status_code == 302

    replay = password_only("pat")
    refused = replay.post(reverse("second_factor"), {"code": code})
    assert refused.status_code == 400 and replay.get("/devices/").status_code == 302


@pytest.mark.django_db
def test_guessing_codes_is_slowed_until_even_the_right_code_waits():
    UserFactory(username="pat")
    device, _ = enrol_authenticator(password_only("pat"))
    client = password_only("pat")
    wrong = "000000" if totp_code(device, 1) != "000000" else "999999"
    messages = [client.post(reverse("second_factor"), {"code": wrong}).content.decode() for _ in range(6)]
    assert any("Too many wrong codes. Wait until" in m for m in messages)  # 1, 2, 4, 8 … seconds apart

    right = client.post(reverse("second_factor"), {"code": totp_code(device, 1)})
    assert right.status_code == 400 and "Too many wrong codes" in right.content.decode()
    assert AuditEvent.objects.filter(event="auth.second_factor", outcome="denied").exists()


@pytest.mark.django_db
def test_a_recovery_code_signs_in_once():
    UserFactory(username="pat")
    _, codes = enrol_authenticator(password_only("pat"))
    client = password_only("pat")
    used = client.post(reverse("second_factor"), {"code": codes[0].upper()[:4] + "-" + codes[0][4:], "next": "/"})
    assert used.status_code == 302 and client.get("/devices/").status_code == 200
    assert "9 left" in client.get(reverse("security")).content.decode()

    again = password_only("pat")
    assert again.post(reverse("second_factor"), {"code": codes[0]}).status_code == 400


@pytest.mark.django_db
def test_own_factors_change_only_after_a_fresh_proof(settings):
    UserFactory(username="pat")
    device, _ = enrol_authenticator(password_only("pat"))
    client = with_factor("pat", device)
    settings.STEP_UP_MINUTES = 0  # every proof is stale at once
    removal = client.post(reverse("factor_remove", args=["totp", device.pk]))
    assert removal.status_code == 302 and removal["Location"].startswith(reverse("second_factor"))
    assert TOTPDevice.objects.filter(pk=device.pk).exists()

    settings.STEP_UP_MINUTES = 5
    other = UserFactory(username="sam")
    theirs, _ = enrol_authenticator(password_only("sam"))
    forged = client.post(reverse("factor_remove", args=["totp", theirs.pk]))
    assert forged.status_code == 404 and TOTPDevice.objects.filter(pk=theirs.pk, user=other).exists()
    assert client.post(reverse("factor_remove", args=["nonsense", 1])).status_code == 404
    client.get(reverse("authenticator_add"))  # a new QR code: a pending authenticator, not a factor yet
    pending = TOTPDevice.objects.get(user__username="pat", confirmed=False)
    assert client.post(reverse("factor_remove", args=["totp", pending.pk])).status_code == 404
    assert client.post(reverse("factor_remove", args=["totp", device.pk])).status_code == 302
    assert not TOTPDevice.objects.filter(user__username="pat", confirmed=True).exists()
    assert "None yet" in client.get(reverse("security")).content.decode()  # recovery codes went with it


# --- Step-up ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_manage_users_changes_ask_for_a_fresh_second_factor(settings):
    manager = grant(UserFactory(username="manager"), caps.ACCESS_ALL_GUEST, roles=["User manager", "Operator"])
    target = UserFactory(username="sam")
    device, _ = enrol_authenticator(password_only("manager"))
    client = with_factor("manager", device)
    settings.STEP_UP_MINUTES = 0

    stale = client.post(reverse("accounts:roles", args=[target.pk]), {"roles": []})
    assert stale.status_code == 302 and stale["Location"].startswith(reverse("second_factor"))
    assert AuditEvent.objects.filter(event="user.step_up", outcome="denied", actor=manager).exists()
    page = client.get(stale["Location"])
    assert "Confirm it is you" in page.content.decode()

    settings.STEP_UP_MINUTES = 5
    assert client.post(stale["Location"], {"code": totp_code(device, 2)}).status_code == 302
    done = client.post(reverse("accounts:password_reset", args=[target.pk]))
    assert done.status_code == 200 and "One-time password" in done.content.decode()


@pytest.mark.django_db
def test_reveal_asks_for_a_code_not_the_password_from_those_with_a_factor(settings):
    device_row = DeviceFactory(status="in_rescue")
    grant(UserFactory(username="op"), devices=[device_row], roles=["Operator"])
    device, _ = enrol_authenticator(password_only("op"))
    client = with_factor("op", device)
    settings.STEP_UP_MINUTES = 0
    url = reverse("workflows:reveal_password", args=[device_row.pk])

    prompt = client.post(url).content.decode()
    assert 'name="code"' in prompt and 'name="password"' not in prompt
    wrong = client.post(url, {"code": "not-a-code"})
    assert wrong.status_code == 403 and "wrong, expired or was already used" in wrong.content.decode()
    assert client.post(url, {"password": PASSWORD}).status_code == 200  # the password alone: asked again
    assert not AuditEvent.objects.filter(event="device.credentials.reveal").exists()

    past = client.post(url, {"code": totp_code(device, 2)})
    assert past.status_code == 200 and 'name="code"' not in past.content.decode()
    assert AuditEvent.objects.filter(event="auth.second_factor", outcome="succeeded", detail__purpose="reveal").exists()
    assert AuditEvent.objects.filter(event="device.credentials.reveal").exists()  # then the reveal itself


# --- The owner's rule -------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_owner_requires_a_second_factor_and_users_are_led_to_enrol():
    OwnerFactory()
    grant(UserFactory(username="op"), roles=["Operator"])
    grant(UserFactory(username="aud"), roles=["Auditor"])
    owner = password_only("owner")
    without = owner.post(reverse("accounts:two_factor_rule"), {"applies_to": "everyone"})
    assert without.status_code == 403 and "Add your own second factor first" in without.content.decode()

    enrol_authenticator(owner)
    rule = owner.post(reverse("accounts:two_factor_rule"),
                      {"applies_to": "capabilities", "capabilities": [caps.SERVER_RELOAD]})
    assert rule.status_code == 302

    op = password_only("op")
    held = op.get("/devices/")
    assert held.status_code == 302 and held["Location"] == reverse("security")
    assert "requires a second factor" in op.get(reverse("security")).content.decode()
    enrol_authenticator(op)
    assert op.get("/devices/").status_code == 200

    assert password_only("aud").get("/devices/").status_code == 200  # not a holder of the chosen permission
    manager = grant(UserFactory(username="mgr"), roles=["User manager"])
    refused = password_only("mgr").post(reverse("accounts:two_factor_rule"), {"applies_to": "nobody"})
    assert refused.status_code == 403 and manager
    rows = AuditEvent.objects.filter(event="account.two_factor_rule").order_by("seq")
    assert [r.outcome for r in rows] == ["denied", "succeeded", "denied"]


@pytest.mark.django_db
def test_a_manager_removes_the_factors_of_someone_who_lost_their_phone():
    grant(UserFactory(username="manager"), caps.ACCESS_ALL_GUEST, roles=["User manager", "Operator"])
    target = UserFactory(username="sam")
    enrol_authenticator(password_only("sam"))
    stuck = password_only("sam")
    assert stuck.get("/devices/").status_code == 302

    manager = password_only("manager")
    detail = manager.get(reverse("accounts:detail", args=[target.pk])).content.decode()
    assert "authenticator app" in detail and "10 recovery codes" in detail
    done = manager.post(reverse("accounts:second_factor_reset", args=[target.pk]), follow=True)
    assert "removed (2)" in done.content.decode()  # the app and the set of recovery codes: two factors
    assert password_only("sam").get("/devices/").status_code == 200
    assert stuck.get("/devices/").status_code == 302 and not re.search(r"second", stuck.get("/devices/")["Location"])
