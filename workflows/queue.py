"""Putting workflow jobs on the queue. Jobs are named by their dotted path, so the services that
enqueue them (on commit) do not import the jobs, which call the services."""

import logging
from datetime import timedelta

import django_rq
from django.db import transaction
from rq import Retry

from .failpoints import crash_point

log = logging.getLogger(__name__)
SUBMIT = "workflows.jobs.submit_operation"


def _queue():
    return django_rq.get_queue("default")


def poll_queue():
    """Polls only: every worker takes this queue first (settings.WORKER_QUEUES)."""
    return django_rq.get_queue("poll")


# A job that hit a database or Redis error is tried again by RQ; the operation row decides what is left to do.
RETRY = Retry(max=5, interval=[1, 3, 10, 30, 60])


def enqueue_submit(operation_id: int) -> None:
    """Enqueue once the current transaction has committed.

    If Redis cannot take the job (or the process dies right here), the operation is committed and
    stays queued: the reconciler, which runs when a worker starts and every minute, enqueues it.
    """
    def enqueue() -> None:
        crash_point("before_enqueue")
        try:
            submit_job(operation_id)
        except Exception as exc:  # any Redis failure: the reconciler takes over
            log.warning("Operation %s committed but not enqueued (%s); the reconciler will pick it up",
                        operation_id, exc)

    transaction.on_commit(enqueue)


def submit_job(operation_id: int, delay: float = 0) -> None:
    """The one way a submit job is put on the queue: now, or after `delay` seconds (RQ's scheduler)."""
    options = {"job_timeout": 120, "retry": RETRY}
    if delay > 0:
        _queue().enqueue_in(timedelta(seconds=delay), SUBMIT, operation_id, **options)
    else:
        _queue().enqueue(SUBMIT, operation_id, **options)
