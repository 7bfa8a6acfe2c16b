"""RQ jobs of the devices app: thin wrappers that call services.

Jobs are enqueued through `django_rq.get_queue()` at call time, not with the `@job` decorator,
which binds its queue (and Redis connection) once at import.
"""

import django_rq
from rq.job import Job

from . import services


def sync_devices_job() -> dict:
    run = services.sync_devices()
    return {"total": run.total, "created": run.created, "updated": run.updated,
            "vanished": run.vanished, "api_calls": run.api_calls}


def enqueue_sync() -> Job:
    """Queue an inventory sync (after the current transaction commits)."""
    return django_rq.get_queue("default").enqueue(sync_devices_job, job_timeout=900)
