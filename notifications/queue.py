"""Putting notification jobs on their own queue ("notify", which workers take last). A job that
cannot be enqueued is not lost: notifications.services.sweep (cron) puts it back."""

import logging

import django_rq
from django.conf import settings
from rq import Retry

log = logging.getLogger(__name__)


def _queue():
    return django_rq.get_queue("notify")


def enqueue_dispatch(notice_id: int) -> None:
    try:
        _queue().enqueue("notifications.jobs.dispatch_notice", notice_id, job_timeout=60)
    except Exception as exc:  # Redis gone: the sweep takes over
        log.warning("Notice %s not enqueued (%s); the sweep will pick it up", notice_id, exc)


def enqueue_delivery(delivery_id: int) -> None:
    intervals = settings.NOTIFY_RETRY_SECONDS
    retry = Retry(max=len(intervals), interval=intervals) if intervals else None
    try:
        _queue().enqueue("notifications.jobs.deliver", delivery_id,
                         job_timeout=int(settings.NOTIFY_TIMEOUT_SECONDS) + 30, retry=retry)
    except Exception as exc:
        log.warning("Delivery %s not enqueued (%s); the sweep will pick it up", delivery_id, exc)
