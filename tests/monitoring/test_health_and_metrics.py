"""Liveness, readiness and metrics as an operator's monitoring sees them, against a real worker,
its scheduler, RQ's cron and the simulator."""

import json
import re
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from accounts import capabilities as caps
from devices.models import Device
from devices.services import sync_devices
from tests.factories import OwnerFactory, UserFactory, api_token, bearer, grant
from tests.support.operations import wait_for
from tests.support.processes import start_cron, stop
from workflows.models import Operation

METRICS_TOKEN = "metrics-secret-for-tests"


def wait_until(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.25)
    raise AssertionError("condition not met in time")


@pytest.mark.django_db
def test_liveness_asks_nothing_and_says_nothing(client):
    response = client.get("/health/live/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_without_workers_the_portal_is_not_ready_and_strangers_learn_no_more(client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    anonymous = client.get("/health/ready/")
    detailed = client.get("/health/ready/", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert anonymous.status_code == 503 and anonymous.json() == {"status": "unavailable"}
    checks = detailed.json()["checks"]
    assert detailed.status_code == 503
    assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["audit_guard"]["ok"]
    assert not checks["workers"]["ok"] and "No RQ worker" in checks["workers"]["error"]
    assert not checks["cron"]["ok"]


@pytest.mark.django_db(transaction=True)
def test_ready_with_its_parts_and_metrics_show_what_happened(client, worker, sim, settings, tmp_path):
    settings.METRICS_TOKEN = METRICS_TOKEN
    cron = start_cron(tmp_path / "cron.log")
    try:
        ready = wait_until(lambda: (r := client.get("/health/ready/")).status_code == 200 and r, timeout=90)
        assert ready.json() == {"status": "ready"}
        client.force_login(OwnerFactory())
        detail = client.get("/health/ready/").json()["checks"]
        assert all(check["ok"] for check in detail.values()), detail
        client.logout()

        sync_devices()
        device = Device.objects.filter(kind="virtual", os_family="linux").order_by("pk").first()
        user = grant(UserFactory(), caps.SERVER_RELOAD, devices=[device])
        asked = client.post(f"/api/v1/devices/{device.pk}/operations/", json.dumps({"kind": "rescue"}),
                            content_type="application/json", **bearer(api_token(user, "operate")))
        wait_for(Operation.objects.get(pk=asked.json()["id"]), "in_rescue")

        assert client.get("/metrics").status_code == 401
        text = wait_until(lambda: (t := client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
                                   .content.decode()) and "rescueportal_operation_seconds_count" in t and t)
    finally:
        stop(cron)
    assert re.search(r'rescueportal_http_requests_total\{method="POST",route="api:device_operations",'
                     r'status="201"\} 1\.0', text)
    assert re.search(r'rescueportal_operations\{kind="rescue",state="in_rescue"\} 1\.0', text)
    assert re.search(r'rescueportal_operation_seconds_count\{kind="rescue"\} 1\.0', text)
    calls = re.findall(r'rescueportal_provider_calls_total\{method="Virtual_Guest::executeRescueLayer",'
                       r'outcome="ok"\} (\S+)', text)
    assert calls == ["1.0"]
    assert re.search(r'rescueportal_job_seconds_count\{function="submit_operation",outcome="ok"\} [1-9]', text), text
    assert re.search(r'rescueportal_queue_jobs\{queue="default"\} \d', text)
    assert re.search(r"rescueportal_workers [1-9]", text)
    families = {f.name for f in text_string_to_metric_families(text)}  # what Prometheus itself would parse
    assert {"rescueportal_http_requests", "rescueportal_provider_call_seconds", "rescueportal_operations",
            "rescueportal_queue_jobs", "rescueportal_job_seconds", "rescueportal_notification_deliveries"} <= families


@pytest.mark.django_db
def test_metrics_survive_redis_being_gone(client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.RQ_QUEUES = {name: {"URL": "redis://127.0.0.1:9/0", "DEFAULT_TIMEOUT": 600}
                          for name in settings.WORKER_QUEUES}
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200 and "rescueportal_operations" in response.content.decode()
    ready = client.get("/health/ready/", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert ready.status_code == 503 and not ready.json()["checks"]["redis"]["ok"]
