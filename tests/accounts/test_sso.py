"""Single sign-on against a real OpenID Connect provider (django-oidc-provider in its own process):
users made on first sign-in, groups mapped to roles and devices here, the deactivated and the
unmapped refused, local passwords switched off, and the attacks on the flow."""

import re
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from accounts import sso
from accounts.models import ExternalIdentity, GroupMapping, Role, User
from audit.models import AuditEvent
from tests.factories import DeviceFactory, OwnerFactory, UserFactory
from tests.support.idp.process import start_idp

pytestmark = pytest.mark.django_db(transaction=True)
CALLBACK = "http://testserver/login/sso/callback/"


@pytest.fixture
def idp(tmp_path, settings):
    provider = start_idp(tmp_path, CALLBACK, [
        "alice:pw-alice-1:alice@example.com:ops,staff", "bob:pw-bob-1:bob@example.com:sales",
        "mallory:pw-mallory-1:owner@example.com:ops"])
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = provider.client_id, provider.client_secret
    sso.forget_discovery()
    yield provider
    provider.stop()
    sso.forget_discovery()


def at_provider(start_url: str, username: str, password: str) -> str:
    """What a browser does at the provider: its sign-in form, then back to the portal's callback."""
    browser = requests.Session()
    page = browser.get(start_url, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    following = re.search(r'name="next" value="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    answer = browser.post(page.url, data={"csrfmiddlewaretoken": token, "username": username, "password": password,
                                          "next": following}, allow_redirects=False, timeout=30)
    while answer.is_redirect:
        target = urljoin(answer.url, answer.headers["Location"])
        if target.startswith("http://testserver/"):
            return target
        answer = browser.get(target, allow_redirects=False, timeout=30)
    raise AssertionError(f"the provider did not send the browser back: {answer.status_code} {answer.text[:300]}")


def sso_sign_in(client: Client, username: str, password: str):
    start = client.get(reverse("sso_start"))
    assert start.status_code == 302, start.content[:300]
    back = urlsplit(at_provider(start["Location"], username, password))
    return client.get(f"{back.path}?{back.query}")


def map_group(group: str, *roles: str, devices=()) -> GroupMapping:
    owner = User.objects.filter(is_account_owner=True).first() or OwnerFactory()
    client = Client()
    client.force_login(owner)
    answer = client.post(reverse("accounts:sso"), {"group": group, "roles": [r.pk for r in Role.objects.filter(
        name__in=roles)], "devices": [d.pk for d in devices]})
    assert answer.status_code == 302, answer.content.decode()[:500]
    return GroupMapping.objects.get(group=group)


def test_first_sign_in_creates_the_user_with_their_groups_roles_and_devices(idp):
    device = DeviceFactory()
    map_group("ops", "Operator", devices=[device])
    client = Client()
    landed = sso_sign_in(client, "alice", "pw-alice-1")

    assert landed.status_code == 302 and client.get("/devices/").status_code == 200
    alice = User.objects.get(username="alice")
    assert not alice.has_usable_password() and alice.email == "alice@example.com"
    assert list(alice.roles.values_list("name", flat=True)) == ["Operator"]
    assert list(alice.devices.all()) == [device]
    row = AuditEvent.objects.get(event="auth.sso", outcome="succeeded")
    assert row.detail["created"] and row.detail["groups"] == ["ops", "staff"]
    assert "You sign in through single sign-on" in client.get(reverse("password_change")).content.decode()

    map_group("ops", "Auditor")  # the owner changes what the group gives: applied at the next sign-in
    sso_sign_in(Client(), "alice", "pw-alice-1")
    alice.refresh_from_db()
    assert list(alice.roles.values_list("name", flat=True)) == ["Auditor"] and not alice.devices.exists()
    assert User.objects.filter(username__istartswith="alice").count() == 1


def test_someone_whose_groups_give_nothing_is_refused_and_not_created(idp):
    map_group("ops", "Operator")
    client = Client()
    refused = sso_sign_in(client, "bob", "pw-bob-1")
    assert refused.status_code == 302 and refused["Location"] == reverse("login")
    page = client.get(reverse("login")).content.decode()
    assert "None of your groups" in page
    assert not User.objects.filter(username="bob").exists()
    assert AuditEvent.objects.filter(event="auth.sso", outcome="denied").exists()


def test_a_deactivated_user_is_refused(idp):
    map_group("ops", "Operator")
    sso_sign_in(Client(), "alice", "pw-alice-1")
    User.objects.filter(username="alice").update(is_active=False)
    client = Client()
    sso_sign_in(client, "alice", "pw-alice-1")
    assert "deactivated" in client.get(reverse("login")).content.decode()
    assert client.get("/devices/").status_code == 302


def test_a_provider_account_naming_the_owners_email_does_not_become_the_owner(idp):
    owner = OwnerFactory(email="owner@example.com")
    UserFactory(username="mallory")  # and a local user already has the name
    map_group("ops", "Viewer")
    sso_sign_in(Client(), "mallory", "pw-mallory-1")
    made = ExternalIdentity.objects.get().user
    assert made.pk != owner.pk and made.username == "mallory-2" and not made.is_account_owner


def test_a_replayed_or_forged_callback_signs_nobody_in(idp):
    map_group("ops", "Operator")
    client = Client()
    start = client.get(reverse("sso_start"))
    back = urlsplit(at_provider(start["Location"], "alice", "pw-alice-1"))
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    client.post(reverse("logout"))

    replay = client.get(f"{back.path}?{back.query}")  # the same code and state again
    assert replay.status_code in (302, 400) and client.get("/devices/").status_code == 302
    forged = Client().get(f"{back.path}?code=forged&state=forged")
    assert forged.status_code in (302, 400)


def test_local_passwords_switched_off_leave_the_owner_a_way_in(idp, settings):
    settings.LOCAL_PASSWORDS = False
    OwnerFactory()
    UserFactory(username="pat")
    page = Client().get(reverse("login")).content.decode()
    assert "Sign in with single sign-on" in page
    pat = Client()
    pat.post(reverse("login"), {"username": "pat", "password": "correct horse battery staple"})
    assert pat.get("/devices/").status_code == 302
    assert "Passwords are switched off" in pat.get(reverse("login")).content.decode()
    owner = Client()
    owner.post(reverse("login"), {"username": "owner", "password": "correct horse battery staple"})
    assert owner.get("/devices/").status_code == 200


def test_a_provider_that_is_down_or_refuses_the_portal_gives_a_message_not_an_error(idp, settings):
    map_group("ops", "Operator")
    settings.OIDC_RP_CLIENT_SECRET = "wrong"
    client = Client()
    answer = sso_sign_in(client, "alice", "pw-alice-1")
    assert answer.status_code == 302 and "did not accept the sign-in" in client.get(reverse("login")).content.decode()

    idp.stop()
    sso.forget_discovery()
    down = client.get(reverse("sso_start"))
    assert down.status_code == 302 and "did not answer" in client.get(reverse("login")).content.decode()


def test_only_the_owner_maps_groups(idp):
    manager = UserFactory(username="mgr")
    manager.roles.add(Role.objects.get(name="User manager"))
    client = Client()
    client.force_login(manager)
    assert client.get(reverse("accounts:sso")).status_code == 403
    assert client.post(reverse("accounts:sso"), {"group": "ops"}).status_code == 403
    assert not GroupMapping.objects.exists()
