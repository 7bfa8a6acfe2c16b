"""Hypothesis throws random, oversized and malformed data at every form and list filter: never a
server error, and every change that did happen is in an intact audit trail."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from audit.chain import verify
from audit.models import AuditEvent
from tests.accounts.test_permission_matrix import url_for, world  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

CONFIRM = ["reason", "confirmation"]
POST_FORMS = {
    "login": ["username", "password"],
    "accounts:create": ["username", "first_name", "last_name", "email", "password", "role"],
    "accounts:capabilities": ["capabilities"],
    "accounts:roles": ["roles"],
    "accounts:devices": ["action", "devices"],
    "accounts:status": ["active"],
    "workflows:rescue": CONFIRM,
    "workflows:boot_image_confirm": CONFIRM,
    "workflows:unload_image": CONFIRM,
    "workflows:restart": CONFIRM,
    "workflows:reveal_password": ["password", "code"],
    "devices:sync": [],
    "second_factor": ["code", "next"],
    "authenticator_add": ["code"],
    "accounts:two_factor_rule": ["applies_to", "capabilities"],
    "accounts:sso": ["group", "roles", "devices"],
    "password_change": ["old_password", "new_password1", "new_password2"],
}
GET_FORMS = {
    "devices:list": ["q", "kind", "os_family", "datacenter", "power_state", "status", "sort", "page", "per_page"],
    "audit:log": ["actor", "device", "event", "outcome", "since", "until", "q", "before", "after"],
    "audit:rescues": ["actor", "device", "state", "page", "before", "after"],
}
NASTY = ["", "0", "1", "-1", "99999999999999999999", "\x00", "add", "remove", "on", "x" * 5000, "😀", "²", "١٢",
         "<script>alert(1)</script>", "' OR 1=1 --", "2026-02-30", "device.rescue", "denied", "-hostname",
         "//evil.example/", "https://evil.example/login/", "everyone", "capabilities"]
value = st.one_of(st.text(max_size=200), st.sampled_from(NASTY), st.integers().map(str))
ALLOWED = {200, 302, 400, 403, 404, 405, 409, 429}


def payloads(fields: list[str]):
    return st.dictionaries(st.sampled_from([*fields, "unexpected"]), st.one_of(value, st.lists(value, max_size=3)),
                           max_size=len(fields) + 1)


@pytest.fixture
def fuzz_client(world, settings):  # noqa: F811
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"
    settings.SOFTLAYER_RETRY_ATTEMPTS = 1
    client = Client()  # an exception in a view fails the test with its traceback
    client.force_login(world["users"]["owner"])
    return client


def assert_stays_here(response) -> None:
    """No form sends the browser to another site, whatever `next` it was given."""
    if response.status_code == 302:
        target = urlsplit(response["Location"])
        assert target.netloc in ("", "testserver") and not response["Location"].startswith("//"), response["Location"]


def counts() -> tuple[int, int]:
    return User.objects.count(), AuditEvent.objects.filter(event="user.create", outcome="succeeded").count()


def check_trail(before: tuple[int, int]) -> None:
    """The chain holds, and every user the fuzz managed to create has its audit row."""
    assert verify(AuditEvent.objects.order_by("seq")).intact
    users, creates = counts()
    assert users - before[0] == creates - before[1]


@pytest.mark.parametrize("name", sorted(POST_FORMS))
def test_fuzz_every_form(name, fuzz_client, world):  # noqa: F811
    url, before = url_for(name, world), counts()

    @hypothesis_settings(max_examples=25, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=payloads(POST_FORMS[name]))
    def post(data):
        response = fuzz_client.post(url, data)
        assert response.status_code in ALLOWED, (data, response.status_code)
        assert_stays_here(response)

    post()
    check_trail(before)


@pytest.mark.parametrize("name", sorted(GET_FORMS))
def test_fuzz_every_list_filter(name, fuzz_client):
    url, before = reverse(name), counts()

    @hypothesis_settings(max_examples=40, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=payloads(GET_FORMS[name]))
    def get(data):
        response = fuzz_client.get(url, data)
        assert response.status_code in (200, 400), (data, response.status_code)
        assert b"<script>alert(1)</script>" not in response.content

    get()
    check_trail(before)


def test_every_nasty_value_in_every_field(fuzz_client, world):  # noqa: F811
    """The deterministic sweep beside the random one: each nasty value alone in each field of each form."""
    before, sent = counts(), 0
    for forms, send in ((POST_FORMS, fuzz_client.post), (GET_FORMS, fuzz_client.get)):
        for name, fields in forms.items():
            url = url_for(name, world) if name in POST_FORMS else reverse(name)
            for field in fields:
                for nasty in NASTY:
                    response = send(url, {field: nasty})
                    assert response.status_code in ALLOWED, (name, field, nasty[:20], response.status_code)
                    assert_stays_here(response)
                    sent += 1
    assert sent > 400
    check_trail(before)
