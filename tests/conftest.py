import contextlib
import os
import signal
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from audit.models import AuditEvent
from demo import embedded_redis
from tests.factories import OwnerFactory
from tests.support.audit_trail import guard_lifted
from tests.support.processes import SESSION_MARK, marked_processes, start_worker, stop
from tests.support.simulator import SimulatorProcess


@pytest.fixture(scope="session", autouse=True)
def redis_url(tmp_path_factory):
    """A real Redis: REDIS_URL's server when set (CI), else an embedded redis-server of our own."""
    url, process = os.environ.get("REDIS_URL"), None
    if url and (worker := os.environ.get("PYTEST_XDIST_WORKER")):
        url = _database_of_worker(url, int(worker.removeprefix("gw")))
    if not url:
        workdir = tmp_path_factory.mktemp("redis")
        process = embedded_redis.start(workdir / "redis.sock", workdir)
        url = f"unix://{workdir / 'redis.sock'}"
    django_settings.RQ_QUEUES = {name: {"URL": url, "DEFAULT_TIMEOUT": 600} for name in django_settings.WORKER_QUEUES}
    redis.Redis.from_url(url).flushdb()
    yield url
    if process:
        process.terminate()
        process.wait(timeout=10)


def _database_of_worker(url: str, worker: int) -> str:
    """Parallel workers share a Redis server, not a database: gw0 keeps the URL's, gw1 the one below."""
    from urllib.parse import urlparse

    parts = urlparse(url)
    base = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{(base - worker) % 16}").geturl()


@pytest.fixture(autouse=True)
def _empty_redis(redis_url):
    """Every test starts with no queued jobs (pytest-django reorders tests, so order is no guarantee)."""
    redis.Redis.from_url(redis_url).flushdb()


def pytest_configure(config):
    """Mark every process the suite starts (children inherit the environment, parallel workers too)
    so that its end can find any that outlived it."""
    os.environ.setdefault(SESSION_MARK, uuid.uuid4().hex)


@pytest.hookimpl(trylast=True)  # after pytest-xdist has stopped its workers
def pytest_sessionfinish(session, exitstatus):
    """The suite fails if a process it started is still running when it ends (after a grace period
    for those already stopping); the leftovers are named, then ended. Checked once, by the process
    that started the run (a parallel worker would see the others at work)."""
    token = os.environ.get(SESSION_MARK)
    if not token or not sys.platform.startswith("linux") or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    deadline = time.monotonic() + 30
    while (left := marked_processes(token)) and time.monotonic() < deadline:
        time.sleep(0.25)
    if left:
        lines = "\n".join(f"  {pid}: {command}" for pid, command in sorted(left.items()))
        session.config.get_terminal_writer().line(f"\nProcesses the suite started are still running:\n{lines}",
                                                 red=True)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """The snapshot of the migrated rows that serialized rollback restores is kept on the connection
    object Django had when it made the test database. Once Playwright's sync API runs its event loop
    in this thread, Django hands out another connection object (asgiref's Local follows the async
    context), which would restore nothing; so the snapshot is put on the class, for every one."""
    from django.db import connections

    contents = getattr(connections["default"], "_test_serialized_contents", None)
    if contents is not None:
        type(connections["default"])._test_serialized_contents = contents


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return "transactional_db" in item.fixturenames or bool(marker and marker.kwargs.get("transaction"))


def pytest_collection_modifyitems(items):
    """A transactional test ends with every table emptied, the rows the migrations made (the
    capability catalogue, the roles) included: Django's serialized rollback loads them back before
    the next one, so each test sees the database as `migrate` left it, not as a fixture remade it."""
    for item in items:
        if _transactional(item):
            marker = item.get_closest_marker("django_db")
            kwargs = {**(marker.kwargs if marker else {}), "transaction": True, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def _audit_rows_lifted_before_flush(request):
    """After a transactional test pytest-django empties every table, which the audit trail's
    append-only triggers refuse while audit rows are left, rightly. So the test's audit rows are
    removed first with the triggers lifted, and the triggers are put back exactly as they were (never
    added where the migrations did not make them); the flush then finds an empty audit table,
    which the guard lets it empty."""
    if not _transactional(request.node):
        yield
        return
    request.getfixturevalue("transactional_db")  # so its flush comes after this teardown
    yield
    with guard_lifted(connection):
        AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)


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
