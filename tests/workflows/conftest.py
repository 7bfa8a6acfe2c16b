import subprocess
import sys
import time

import pytest

from tests.support.processes import MANAGE, child_env, stop
from workflows.models import Operation


@pytest.fixture
def sim(make_simulator, settings, request):
    marker = request.node.get_closest_marker("time_scale")
    sim = make_simulator(devices=30, seed=21, latency_ms=0, time_scale=marker.args[0] if marker else 0.002)
    sim.point_settings_here(settings)
    settings.OPERATION_POLL_SECONDS = 0.3
    return sim


@pytest.fixture
def worker(transactional_db, sim, tmp_path):
    """A live RQ worker with its scheduler, as `make run` starts it, on the test database."""
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, MANAGE, "rqworker", "default", "--with-scheduler"],
                                   env=child_env(OPERATION_POLL_SECONDS="0.3", SOFTLAYER_RETRY_BACKOFF_SECONDS="0.05"),
                                   stdout=out, stderr=subprocess.STDOUT)
    process.log_path = log
    yield process
    stop(process)


def wait_for(op: Operation, *states: str, timeout: float = 30) -> Operation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op.refresh_from_db()
        if op.state in states:
            return op
        time.sleep(0.1)
    raise AssertionError(f"operation {op.pk} stayed {op.state!r}, wanted {states}; error: {op.error!r}")
