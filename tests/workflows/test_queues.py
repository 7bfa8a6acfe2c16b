"""Progress polls never wait behind a burst of submits: they have a queue of their own, which
every worker (and `make run`'s RQ_WORKERS of them) takes first."""

import django_rq
import pytest
from django.conf import settings

from tests.factories import DeviceFactory, OwnerFactory
from workflows import jobs, services
from workflows.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_poll_goes_ahead_of_queued_submits():
    owner = OwnerFactory()
    for device in DeviceFactory.create_batch(5):
        services.request_operation(owner, device, Operation.Kind.RESCUE)
    submits = django_rq.get_queue("default")
    assert submits.count == 5

    django_rq.get_queue("poll").connection.delete(jobs.POLL_LOCK)
    assert jobs.schedule_poll(0)

    polls = django_rq.get_queue("poll")
    assert polls.count == 1 and polls.jobs[0].func_name == "workflows.jobs.poll_operations"
    assert submits.count == 5
    assert settings.WORKER_QUEUES[0] == "poll"  # the order a worker takes its queues in
