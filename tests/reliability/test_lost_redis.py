"""Redis flushed or restarted with operations in flight, and a crash between the database commit
and the enqueue: the reconciler (when a worker starts, and every minute) resumes every operation."""

import signal
import subprocess
import sys
import time

import django_rq
import pytest
import redis
from django.test import Client
from django.urls import reverse

from demo import embedded_redis
from tests.factories import OwnerFactory
from tests.reliability.conftest import (
    assert_rescued_exactly_once,
    assert_whole_story,
    finish_with_a_new_worker,
    wait_for_text,
)
from tests.support.operations import press_yes, wait_for
from tests.support.processes import MANAGE, child_env, start_worker, stop
from workflows import jobs, services
from workflows.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]


def _url() -> str:
    from django.conf import settings

    return settings.RQ_QUEUES["default"]["URL"]


@pytest.mark.time_scale(0.02)  # a rescue of about four seconds: long enough to lose Redis under it
def test_flushall_with_an_operation_in_flight_is_resumed_by_the_periodic_reconciler(sim, guest, worker):
    op = wait_for(services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE), "powering_down")
    redis.Redis.from_url(_url()).flushall()  # the scheduled poll and its lock are gone

    assert jobs.reconcile()["polling"]  # what rescueportal.cron runs every minute
    op = wait_for(op, "in_rescue", "failed")

    assert op.state == "in_rescue" and sim.transactions_started("virtual", guest.provider_id) == 1
    assert_whole_story(op)


def test_flushall_of_queued_operations_is_resumed_when_a_worker_starts(sim, guest, tmp_path):
    owner = OwnerFactory()
    op = services.request_operation(owner, guest, Operation.Kind.RESCUE)  # no worker yet: queued
    assert django_rq.get_queue("default").count == 1
    redis.Redis.from_url(_url()).flushall()

    op = finish_with_a_new_worker(op, tmp_path / "worker.log")

    assert_rescued_exactly_once(op, sim, guest)


def test_crash_between_commit_and_enqueue(sim, guest, tmp_path):
    """The process that committed the operation is SIGKILLed before it could enqueue the job."""
    owner = OwnerFactory()
    script = ("from accounts.models import User; from devices.models import Device; from workflows import services; "
              f"services.request_operation(User.objects.get(pk={owner.pk}), Device.objects.get(pk={guest.pk}), "
              "'rescue')")
    crashed = subprocess.run([sys.executable, MANAGE, "shell", "-c", script], capture_output=True, text=True,
                             env=child_env(RESCUEPORTAL_CRASH_AT="before_enqueue"), timeout=60)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    op = Operation.objects.get(device=guest)
    assert op.state == "queued" and django_rq.get_queue("default").count == 0  # committed, never enqueued

    op = finish_with_a_new_worker(op, tmp_path / "worker.log")

    assert_rescued_exactly_once(op, sim, guest)


def test_redis_down_when_asked_still_records_the_request(sim, guest, settings, tmp_path):
    """Yes with Redis unreachable: the operation is kept and shown as requested, and runs once Redis is back."""
    real = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {"URL": f"unix://{tmp_path / 'nothing-here.sock'}", "DEFAULT_TIMEOUT": 600}
                          for name in settings.WORKER_QUEUES}
    client = Client()
    client.force_login(OwnerFactory())

    answer = press_yes(client, reverse("workflows:rescue", args=[guest.pk]), {"reason": "disk full"}, follow=True)

    assert answer.status_code == 200 and "Requested" in answer.content.decode()
    op = Operation.objects.get(device=guest)
    settings.RQ_QUEUES = real
    worker = start_worker(tmp_path / "worker.log")
    try:
        op = wait_for(op, "in_rescue", "failed")
    finally:
        stop(worker)
    assert op.state == "in_rescue" and sim.transactions_started("virtual", guest.provider_id) == 1


@pytest.mark.time_scale(0.02)
def test_redis_restarted_with_an_operation_in_flight(sim, guest, settings, tmp_path):
    """A Redis of its own (no persistence), killed and started again empty while a rescue runs."""
    socket, workdir = tmp_path / "r.sock", tmp_path / "redis"
    server = embedded_redis.start(socket, workdir)
    url = f"unix://{socket}"
    settings.RQ_QUEUES = {name: {"URL": url, "DEFAULT_TIMEOUT": 600} for name in settings.WORKER_QUEUES}
    worker = start_worker(tmp_path / "worker.log", REDIS_URL=url)
    try:
        op = wait_for(services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE), "powering_down")
        server.kill()
        server.wait()
        time.sleep(1)
        server = embedded_redis.start(socket, workdir)  # empty: every job and the poll schedule are gone
        jobs.reconcile()  # the periodic run
        op = wait_for(op, "in_rescue", "failed")
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()  # the same worker carried on
    finally:
        stop(worker)
        server.kill()
        server.wait()

    assert op.state == "in_rescue" and sim.transactions_started("virtual", guest.provider_id) == 1
    assert_whole_story(op)


@pytest.mark.time_scale(0.02)
def test_a_worker_busy_when_redis_dies_waits_for_it_and_carries_on(sim, guest, settings, tmp_path):
    """Redis killed while the worker's job waits on SoftLayer, back (empty) a few seconds later: the
    same worker, with no reconcile from outside, finishes the rescue with one transaction."""
    socket, workdir, log = tmp_path / "r.sock", tmp_path / "redis", tmp_path / "worker.log"
    server = embedded_redis.start(socket, workdir)
    url = f"unix://{socket}"
    settings.RQ_QUEUES = {name: {"URL": url, "DEFAULT_TIMEOUT": 600} for name in settings.WORKER_QUEUES}
    # the job is busy in the submit when Redis goes
    sim.inject("latency", method="SoftLayer_Virtual_Guest::executeRescueLayer", seconds=3)
    worker = start_worker(log, REDIS_URL=url)
    try:
        op = wait_for(services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE), "submitting")
        server.kill()
        server.wait()
        wait_for_text(log, "Redis was lost while job", timeout=60)  # the answer came; Redis did not
        assert worker.poll() is None, log.read_text()
        server = embedded_redis.start(socket, workdir)  # empty: the poll schedule is gone
        op = wait_for(op, "in_rescue", "failed")
        assert worker.poll() is None, log.read_text()
    finally:
        stop(worker)
        server.kill()
        server.wait()

    assert op.state == "in_rescue" and sim.transactions_started("virtual", guest.provider_id) == 1
    assert "found an unhandled exception" not in log.read_text()
    assert_whole_story(op)
