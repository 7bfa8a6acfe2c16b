"""The security baseline: deploy checks, headers on every response (error pages too), no inline
script or style, login throttling with a cool-off (the reveal's re-authentication included),
session rotation, idle and absolute timeouts, validated passwords."""

import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import capabilities as caps
from audit.models import AuditEvent
from tests.accounts.test_permission_matrix import MATRIX, POST_DATA, ROLES, url_for, world  # noqa: F401 - fixture
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, grant
from tests.support.processes import MANAGE, child_env

pytestmark = pytest.mark.reliability
PASSWORD = "correct horse battery staple"


def test_deploy_checks_are_clean_with_production_settings():
    env = child_env(HTTPS="true", DEBUG="false", ALLOWED_HOSTS="portal.example.com",
                    SECRET_KEY="k" * 20 + "-production-secret-key-with-enough-variety-0123456789")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process only
    result = subprocess.run([sys.executable, MANAGE, "check", "--deploy", "--fail-level", "WARNING"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


# The API's Swagger UI page styles its elements from script (React): inline styles are allowed there,
# and only there; its scripts are the portal's own files like everywhere else.
INLINE_STYLES_PAGES = ("/api/docs/",)


def assert_safe_headers(response, secure: bool, path: str = "") -> None:
    csp = response["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    directives = dict(([*part.strip().split(" ", 1), ""])[:2] for part in csp.split(";") if part.strip())
    assert "unsafe" not in directives["script-src"] and "unsafe-eval" not in csp
    assert "unsafe-inline" not in csp or (path in INLINE_STYLES_PAGES and "unsafe" not in csp.replace(
        directives["style-src"], ""))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    if secure:
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")


# Data blocks (json_script: type="application/json") are not code: the CSP does not run them.
INLINE = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|\son[a-z]+\s*=|\sstyle\s*=",
                    re.IGNORECASE)


@pytest.mark.django_db
def test_every_route_for_every_kind_of_user_sends_the_headers_and_no_inline_code(world, settings):  # noqa: F811
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"  # provider reads fail fast: error paths too
    settings.SOFTLAYER_RETRY_ATTEMPTS = 1
    settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = 31_536_000, True  # as HTTPS=true sets
    statuses = set()
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role != "anonymous":
            client.force_login(world["users"][role])
        for name in sorted(MATRIX, key=lambda n: n == "logout"):  # signing out last
            for method in ("GET", "POST"):
                url = url_for(name, world)
                response = client.get(url, secure=True) if method == "GET" else \
                    client.post(url, POST_DATA.get(name, lambda w: {})(world), secure=True)
                statuses.add(response.status_code)
                assert_safe_headers(response, secure=True, path=url)
                if response.get("Content-Type", "").startswith("text/html"):
                    body = response.content.decode()
                    assert not INLINE.search(body), f"{method} {url} as {role}: {INLINE.search(body).group(0)}"
        for url in ("/no/such/page/", "/devices/999999/", "/static/css/portal.css", "/admin/"):
            assert_safe_headers(client.get(url, secure=True), secure=True)
    assert {200, 302, 403, 404, 405} <= statuses  # error pages were among them


@pytest.mark.django_db
def test_login_is_throttled_with_a_cool_off(client):
    user = UserFactory(username="dana", password=PASSWORD)
    for _ in range(4):
        assert client.post(reverse("login"), {"username": "dana", "password": "guess"}).status_code == 200
    fifth = client.post(reverse("login"), {"username": "dana", "password": "guess"})
    locked = client.post(reverse("login"), {"username": "dana", "password": PASSWORD})  # even the right one

    assert fifth.status_code == 429 and "locked for 15 minutes" in fifth.content.decode()
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event="auth.login_failed").count() >= 5
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))  # the cool-off has passed
    assert client.post(reverse("login"), {"username": "dana", "password": PASSWORD}).status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
def test_a_correct_login_as_someone_else_does_not_wipe_the_owners_failures(client):
    """The brute force found: 4 wrong owner passwords, a good viewer login from the same address,
    repeat. Failures now count until the cool-off, whoever logs in meanwhile."""
    UserFactory(username="boss", password=PASSWORD)
    UserFactory(username="peon", password=PASSWORD)
    for _ in range(4):
        assert client.post(reverse("login"), {"username": "boss", "password": "guess"}).status_code == 200
    assert Client().post(reverse("login"), {"username": "peon", "password": PASSWORD}).status_code == 302

    fifth = client.post(reverse("login"), {"username": "boss", "password": "guess"})
    assert fifth.status_code == 429  # locked by the fifth wrong password, not after sixteen
    assert client.post(reverse("login"), {"username": "boss", "password": PASSWORD}).status_code == 429


@pytest.mark.django_db
def test_the_reveal_reauthentication_is_throttled_too(settings):
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    device = DeviceFactory(kind="virtual", status="in_rescue")
    user = grant(UserFactory(username="erin", password=PASSWORD), caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD,
                 devices=[device])
    client = Client()
    client.force_login(user)
    url = reverse("workflows:reveal_password", args=[device.pk])
    for _ in range(4):
        assert client.post(url, {"password": "guess"}, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(url, {"password": "guess"}, HTTP_HX_REQUEST="true").status_code == 429

    locked = client.post(url, {"password": PASSWORD}, HTTP_HX_REQUEST="true")

    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    assert not AuditEvent.objects.filter(event="device.credentials.reveal", outcome="succeeded").exists()
    assert Client().post(reverse("login"), {"username": "erin", "password": PASSWORD}).status_code == 429


@pytest.mark.django_db
def test_session_key_changes_at_login_and_stays_at_reauthentication(settings):
    """Login changes the key (a planted one is not kept). A step-up keeps it: its answer can be lost
    when the person leaves the page meanwhile, and a new key the browser never got signed them out."""
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    settings.SOFTLAYER_RETRY_ATTEMPTS = 1
    device = DeviceFactory(kind="virtual", status="in_rescue")
    grant(UserFactory(username="fay", password=PASSWORD), caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD, devices=[device])
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client = Client()
    client.cookies["sessionid"] = planted.session_key  # a fixation attempt

    client.post(reverse("login"), {"username": "fay", "password": PASSWORD})
    after_login = client.cookies["sessionid"].value
    client.post(reverse("workflows:reveal_password", args=[device.pk]), {"password": PASSWORD})
    after_reauth = client.cookies["sessionid"].value

    assert after_login != planted.session_key and after_reauth == after_login
    assert "_auth_user_id" in client.session


def signed_in(username: str) -> Client:
    UserFactory(username=username, password=PASSWORD)
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def shift(client: Client, **seconds_ago: float) -> None:
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


@pytest.mark.django_db
def test_idle_timeout_signs_out_and_says_why():
    client = signed_in("gus")
    shift(client, seen_at=31 * 60)
    response = client.get(reverse("devices:list"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_absolute_timeout_signs_out_even_an_active_session():
    client = signed_in("hal")
    shift(client, login_at=12 * 3600 + 60, seen_at=10)
    response = client.get(reverse("devices:list"), follow=True)
    assert "a session lasts 12 hours at most" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_live_update_polls_do_not_keep_a_session_alive():
    client = signed_in("ivy")
    shift(client, seen_at=29 * 60)
    client.get(reverse("devices:list"), HTTP_X_PORTAL_POLL="1")
    assert time.time() - client.session["seen_at"] > 28 * 60  # a poll is not activity
    client.get(reverse("devices:list"))
    assert time.time() - client.session["seen_at"] < 60  # a click is


@pytest.mark.django_db
def test_weak_passwords_are_refused_when_creating_a_user():
    client = Client()
    client.force_login(OwnerFactory())
    response = client.post(reverse("accounts:create"), {"username": "newbie", "password1": "password",
                                                        "password2": "password", "password": "password"})
    assert response.status_code in (200, 400) and "too common" in response.content.decode()
    assert not AuditEvent.objects.filter(event="user.create", outcome="succeeded", detail__username="newbie").exists()


def sign_in(username: str, password: str, address: str):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_one_persons_typos_lock_nobody_else():
    """Five wrong passwords for dana from one office address: dana is locked from there, and only
    there; a colleague at the same address, and dana from home, sign in."""
    UserFactory(username="dana", password=PASSWORD)
    UserFactory(username="lee", password=PASSWORD)
    answers = [sign_in("dana", "guess", "198.51.100.20") for _ in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert "Two more wrong passwords" not in answers[2].content.decode()
    assert "2 more wrong passwords lock this username" in answers[2].content.decode()
    assert "One more wrong password locks this username" in answers[3].content.decode()
    assert "from here only" in answers[4].content.decode() and "UTC" in answers[4].content.decode()
    assert sign_in("dana", PASSWORD, "198.51.100.20").status_code == 429
    assert sign_in("lee", PASSWORD, "198.51.100.20").status_code == 302  # the colleague at the same address
    assert sign_in("dana", PASSWORD, "203.0.113.5").status_code == 302  # dana from another network


@pytest.mark.django_db
def test_someone_who_knows_the_owners_username_cannot_keep_the_owner_out():
    UserFactory(username="boss", password=PASSWORD)
    for _ in range(20):
        sign_in("boss", "guess", "192.0.2.66")  # the attacker's address
    assert sign_in("boss", PASSWORD, "198.51.100.1").status_code == 302


@pytest.mark.django_db
def test_a_flood_from_one_address_pauses_that_address_only(settings):
    settings.ADDRESS_FAILURE_LIMIT = 12
    UserFactory(username="lee", password=PASSWORD)
    for i in range(12):  # many usernames, none of them locked by itself
        sign_in(f"user{i}", "guess", "192.0.2.99")

    paused = sign_in("lee", PASSWORD, "192.0.2.99")
    assert paused.status_code == 429 and "Too many failed sign-ins from your network" in paused.content.decode()
    assert sign_in("lee", PASSWORD, "198.51.100.7").status_code == 302
