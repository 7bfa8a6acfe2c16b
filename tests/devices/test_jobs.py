"""The sync runs as an RQ job on a real worker process, against a real Redis."""

import pytest
from django_rq import get_queue

from devices.jobs import enqueue_sync
from devices.models import Device, InventorySync
from tests.support.processes import run_worker_burst


@pytest.mark.django_db(transaction=True)
def test_sync_job_runs_on_a_worker(make_simulator, settings):
    sim = make_simulator(devices=25, seed=2, latency_ms=0)
    sim.point_settings_here(settings)

    job = enqueue_sync()
    assert get_queue("default").job_ids == [job.id]

    run_worker_burst()

    assert Device.objects.count() == 25
    assert InventorySync.objects.latest().total == 25
    job.refresh()
    assert job.is_finished and job.return_value()["created"] == 25
