"""Personal access tokens: shown once, kept as a digest, scoped, expiring, revocable, audited."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import capabilities as caps
from accounts import services as account_services
from accounts.factors import FRESH_KEY
from accounts.models import TwoFactorRule
from api.models import AccessToken
from audit.models import AuditEvent
from tests.factories import (
    DeviceFactory,
    OwnerFactory,
    UserFactory,
    api_token,
    bearer,
    enrol_authenticator,
    grant,
    totp_code,
)

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


def test_the_page_shows_a_new_token_once_and_keeps_only_its_digest(client):
    user = UserFactory()
    client.force_login(user)

    page = client.post(reverse("api:tokens"), {"name": "runbook", "days": "30", "scopes": ["operate"]})

    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret.startswith("rp_") and secret in page.content.decode()
    token = AccessToken.objects.get(user=user)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(AccessToken.objects.values().get(pk=token.pk))
    assert token.scopes == ["read", "operate"]
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    again = client.get(reverse("api:tokens")).content.decode()
    assert secret not in again and f"rp_{token.prefix}_" in again  # listed, never shown again
    assert AuditEvent.objects.filter(event="api.token.create", outcome="succeeded").exists()


def test_an_offered_expiry_only(client):
    client.force_login(UserFactory())
    page = client.post(reverse("api:tokens"), {"name": "forever", "days": "36500"})
    assert page.status_code == 400 and not AccessToken.objects.exists()


def test_a_token_answers_as_its_user_and_records_its_first_use_from_each_address(client):
    user = UserFactory()
    token = api_token(user)

    first = client.get(ME, **bearer(token))
    client.get(ME, **bearer(token))
    client.get(ME, **bearer(token), REMOTE_ADDR="10.9.8.7")

    assert first.status_code == 200 and first.json()["username"] == user.username
    used = AuditEvent.objects.filter(event="api.token.used")
    assert [e.source_ip for e in used.order_by("seq")] == ["127.0.0.1", "10.9.8.7"]
    row = AccessToken.objects.get()
    assert row.last_used_ip == "10.9.8.7" and row.last_used_at is not None


@pytest.mark.parametrize("header", ["", "Bearer", "Token abc", "Bearer rp_short", "Bearer rp_AAAAAAAA_" + "x" * 43])
def test_no_or_a_forged_token_is_a_401_problem(client, header):
    UserFactory()
    response = client.get(ME, **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["title"] and "token" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_whose_secret_is_changed_is_refused(client):
    token = api_token(UserFactory())
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(ME, **bearer(forged)).status_code == 401


def test_expired_revoked_and_deactivated_stop_at_once_with_a_denied_row(client):
    owner_of_page = UserFactory()
    expired, revoked, deactivated = UserFactory(), UserFactory(), UserFactory()
    tokens = {"expired": api_token(expired), "revoked": api_token(revoked), "deactivated": api_token(deactivated)}
    for name in tokens:
        assert client.get(ME, **bearer(tokens[name])).status_code == 200
    AccessToken.objects.filter(user=expired).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(revoked)
    client.post(reverse("api:revoke", args=[AccessToken.objects.get(user=revoked).pk]))
    client.logout()
    manager = grant(UserFactory(), roles=["User manager"])
    account_services.set_active(manager, deactivated, False)

    answers = {name: client.get(ME, **bearer(token)) for name, token in tokens.items()}

    assert {name: r.status_code for name, r in answers.items()} == {n: 401 for n in tokens}
    assert "expired" in answers["expired"].json()["detail"]
    assert "revoked" in answers["revoked"].json()["detail"]
    assert "revoked" in answers["deactivated"].json()["detail"]  # deactivation revokes them for good
    assert AuditEvent.objects.filter(event="api.token.refused", outcome="denied").count() == 3
    assert owner_of_page.access_tokens.count() == 0


def test_one_cannot_revoke_another_persons_token(client):
    theirs = AccessToken.objects.get(pk=AccessToken.objects.create(
        user=UserFactory(), name="x", prefix="ABCDEFGH", digest="0" * 64,
        expires_at=timezone.now() + timedelta(days=1)).pk)
    client.force_login(UserFactory())
    assert client.post(reverse("api:revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_scope_the_token_lacks_is_a_403_with_a_denied_row(client):
    device = DeviceFactory()
    user = grant(UserFactory(), caps.SERVER_RELOAD, devices=[device])
    token = api_token(user)  # read only

    response = client.post(f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"},
                           content_type="application/json", **bearer(token))

    assert response.status_code == 403 and "operate scope" in response.json()["detail"]
    assert AuditEvent.objects.filter(event="api.scope", outcome="denied").exists()
    assert not device.operations.exists()


def test_those_with_a_second_factor_prove_it_before_making_a_token(client):
    user = UserFactory()
    client.force_login(user)
    device, _ = enrol_authenticator(client)
    session = client.session
    session[FRESH_KEY] = 0  # the proof made while enrolling is long past
    session.save()

    response = client.post(reverse("api:tokens"), {"name": "bot", "days": "7"})

    assert response.status_code == 302 and reverse("second_factor") in response["Location"]
    assert not AccessToken.objects.exists()
    client.post(reverse("second_factor"), {"code": totp_code(device, steps_ahead=1)})
    assert client.post(reverse("api:tokens"), {"name": "bot", "days": "7"}).status_code == 200
    assert AccessToken.objects.count() == 1


def test_a_token_is_held_while_its_user_owes_a_second_factor_the_owner_requires(client):
    user = UserFactory()
    token = api_token(user)
    OwnerFactory()
    TwoFactorRule.objects.filter(pk=1).update(applies_to=TwoFactorRule.AppliesTo.EVERYONE)

    held = client.get(ME, **bearer(token))

    assert held.status_code == 401 and "second factor" in held.json()["detail"]
