import os

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from accounts.capabilities import ensure_catalogue
from accounts.models import Capability, Role
from audit import triggers
from demo import embedded_redis
from tests.factories import OwnerFactory
from tests.support.processes import start_worker, stop
from tests.support.simulator import SimulatorProcess


@pytest.fixture(scope="session", autouse=True)
def redis_url(tmp_path_factory):
    """A real Redis: REDIS_URL's server when set (CI), else an embedded redis-server of our own."""
    url, process = os.environ.get("REDIS_URL"), None
    if not url:
        workdir = tmp_path_factory.mktemp("redis")
        process = embedded_redis.start(workdir / "redis.sock", workdir)
        url = f"unix://{workdir / 'redis.sock'}"
    django_settings.RQ_QUEUES = {"default": {"URL": url, "DEFAULT_TIMEOUT": 600}}
    redis.Redis.from_url(url).flushdb()
    yield url
    if process:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _empty_redis(redis_url):
    """Every test starts with no queued jobs (pytest-django reorders tests, so order is no guarantee)."""
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture(autouse=True)
def _database_ready(request):
    """Every database test runs with the capability catalogue and the audit trail's append-only
    triggers in place.

    A transactional test ends with pytest-django emptying every table, which the triggers
    rightly refuse; they are lifted for that teardown only and put back before the next test.
    """
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if marker is None and "db" not in names and "transactional_db" not in names:
        yield
        return
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    triggers.install(connection)
    ensure_catalogue(Capability, Role)  # a transactional test's teardown empties the migration's rows too
    yield
    if transactional:
        triggers.uninstall(connection)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.SOFTLAYER_RETRY_BACKOFF_SECONDS = 0.01
    # Test users need no slow password hashing; the processes the browser tests start keep the real one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AUDIT_DIGEST_DIR = tmp_path / "audit-digests"  # each test its own digest file
    settings.AUDIT_DIGEST_KEY = "test-digest-key"


@pytest.fixture(scope="session")
def simulator():
    """A 40-device simulator shared by tests that only read from it."""
    sim = SimulatorProcess(devices=40, seed=7)
    yield sim
    sim.stop()


@pytest.fixture
def make_simulator():
    """Fresh simulators for tests that change the account or inject faults."""
    started = []

    def make(**kwargs) -> SimulatorProcess:
        sim = SimulatorProcess(**kwargs)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def owner(db):
    return OwnerFactory()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def sim(make_simulator, settings, request):
    """A fresh, fast simulator (30 devices) the test process and its workers both talk to."""
    marker = request.node.get_closest_marker("time_scale")
    sim = make_simulator(devices=30, seed=21, latency_ms=0, time_scale=marker.args[0] if marker else 0.002)
    sim.point_settings_here(settings)
    settings.OPERATION_POLL_SECONDS = 0.3
    return sim


@pytest.fixture
def worker(transactional_db, sim, tmp_path):
    """A live RQ worker with its scheduler, as `make run` starts it, on the test database."""
    process = start_worker(tmp_path / "worker.log")
    yield process
    stop(process)
