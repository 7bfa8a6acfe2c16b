"""The whole rescue over HTTP with a token, as a script would do it: a live server, a real worker
and scheduler, the real client against the simulator."""

import time
import uuid

import pytest
import requests

from accounts import capabilities as caps
from api import services as api_services
from api.models import AccessToken
from audit.models import AuditEvent
from devices.models import Device
from devices.services import sync_devices
from tests.factories import UserFactory, api_token, grant

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, body: dict | None = None, **headers) -> requests.Response:
        return self.session.post(self.base + path, json=body or {}, headers=headers, timeout=30)

    def wait(self, op_id: int, *states: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            op = self.get(f"/api/v1/operations/{op_id}/").json()
            if op["state"] in states:
                return op
            time.sleep(0.2)
        raise AssertionError(f"operation {op_id} stayed {op['state']!r}, wanted {states}: {op}")


@pytest.fixture
def operator(sim):
    sync_devices()
    device = Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id").first()
    user = grant(UserFactory(), caps.SERVER_RELOAD, caps.REMOTE_MANAGEMENT, caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD,
                 devices=[device])
    return user, device


def test_rescue_connect_reveal_and_restart_with_a_token(live_server, worker, operator, sim):
    user, device = operator
    api = Api(live_server.url, api_token(user, "operate", "reveal"))

    found = api.get("/api/v1/devices/", params={"q": device.hostname}).json()["results"]
    assert [d["id"] for d in found] == [device.pk]
    key = str(uuid.uuid4())
    asked = api.post(f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue", "reason": "fsck from a runbook"},
                     **{"Idempotency-Key": key})
    assert asked.status_code == 201, asked.text
    replay = api.post(f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue", "reason": "fsck from a runbook"},
                      **{"Idempotency-Key": key})
    assert replay.status_code == 201 and replay.json()["id"] == asked.json()["id"]
    assert replay.headers["Idempotent-Replayed"] == "true"

    op = api.wait(asked.json()["id"], "in_rescue", "failed")
    assert op["state"] == "in_rescue" and not op["is_active"] and op["ends_at"]
    connection = api.get(f"/api/v1/devices/{device.pk}/connection/").json()
    assert connection["command"] == f"ssh root@{device.public_ip or device.private_ip}"
    revealed = api.post(f"/api/v1/devices/{device.pk}/reveal-password/", {"password": PASSWORD})
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["credentials"][0]["password"] and revealed.headers["Cache-Control"] == "no-store"

    ended = api.post(f"/api/v1/operations/{op['id']}/end/", {"reason": "done"})
    assert ended.status_code == 201 and ended.json()["kind"] == "restart"
    assert api.wait(ended.json()["id"], "normal", "failed")["state"] == "normal"
    assert api.get(f"/api/v1/operations/{op['id']}/").json()["state"] == "exited"

    assert sim.calls()["SoftLayer_Virtual_Guest::executeRescueLayer"] == 1
    rows = AuditEvent.objects.filter(actor_username=user.username)
    assert {("device.rescue", "requested"), ("device.rescue", "succeeded"), ("device.credentials.reveal", "succeeded"),
            ("device.restart", "requested"), ("api.token.used", "succeeded")} <= set(rows.values_list("event",
                                                                                                      "outcome"))
    assert revealed.json()["credentials"][0]["password"] not in str(list(AuditEvent.objects.values()))


def test_a_token_revoked_mid_operation_stops_at_once_and_the_operation_goes_on(live_server, worker, operator):
    user, device = operator
    token = api_token(user, "operate")
    api = Api(live_server.url, token)
    asked = api.post(f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"})
    assert asked.status_code == 201

    api_services.revoke_token(user, AccessToken.objects.get(user=user).pk)
    refused = api.get(f"/api/v1/operations/{asked.json()['id']}/")

    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert refused.headers["Content-Type"] == "application/problem+json"
    fresh = Api(live_server.url, api_token(user))
    assert fresh.wait(asked.json()["id"], "in_rescue", "failed")["state"] == "in_rescue"  # what was asked is done


def test_scopes_and_expiry_over_http(live_server, operator):
    user, device = operator
    read_only = Api(live_server.url, api_token(user))
    expiring = api_token(user, "operate")
    AccessToken.objects.filter(prefix=expiring[3:11]).update(expires_at="2000-01-01T00:00:00Z")

    scoped = read_only.post(f"/api/v1/devices/{device.pk}/operations/", {"kind": "rescue"})
    expired = Api(live_server.url, expiring).get("/api/v1/me/")

    assert scoped.status_code == 403 and "operate scope" in scoped.json()["detail"]
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert not device.operations.exists()
