"""RQ jobs of notifications: they carry an id; the rows hold the truth."""

from rq import get_current_job

from . import services


def dispatch_notice(notice_id: int) -> int:
    return services.dispatch(notice_id)


def deliver(delivery_id: int) -> str:
    job = get_current_job()
    last_attempt = job is None or not job.retries_left  # RQ counts down the retries it has left
    return services.deliver(delivery_id, last_attempt=last_attempt)


def sweep() -> dict:
    return services.sweep()
