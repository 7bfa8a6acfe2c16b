"""Readiness checks (django-health-check): the database, Redis, a live worker on every queue, RQ's
scheduler, the cron and the audit trail's append-only guard. Their messages name no secret."""

import dataclasses
import time

import django_rq
from django.conf import settings
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from redis import RedisError
from rq import Worker
from rq.cron import CronScheduler
from rq.scheduler import RQScheduler


def _redis():
    return django_rq.get_connection("default")


def _ask_redis(read, unanswered: str):
    """`read(connection)`, or ServiceUnavailable(`unanswered`) when Redis does not answer."""
    try:
        return read(_redis())
    except (RedisError, OSError):
        raise ServiceUnavailable(unanswered) from None


@dataclasses.dataclass
class Redis(HealthCheck):
    def run(self) -> None:
        try:
            _redis().ping()
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable(f"Redis does not answer ({type(exc).__name__}).") from None

    def __repr__(self) -> str:
        return "redis"


@dataclasses.dataclass
class Workers(HealthCheck):
    def run(self) -> None:
        workers = _ask_redis(lambda redis: Worker.all(connection=redis),
                             "Workers cannot be counted: Redis does not answer.")
        listened = {queue for worker in workers for queue in worker.queue_names()}
        if not workers:
            raise ServiceUnavailable("No RQ worker is running: nothing is submitted to SoftLayer or followed.")
        if missing := [q for q in settings.WORKER_QUEUES if q not in listened]:
            raise ServiceUnavailable(f"No worker takes the queue(s) {', '.join(missing)}.")

    def __repr__(self) -> str:
        return "workers"


@dataclasses.dataclass
class Scheduler(HealthCheck):
    """RQ's scheduler (one, elected by a lock per queue) runs the progress polls."""

    def run(self) -> None:
        held = _ask_redis(lambda redis: [q for q in settings.WORKER_QUEUES
                                         if redis.exists(RQScheduler.get_locking_key(q))],
                          "The scheduler cannot be checked: Redis does not answer.")
        if missing := [q for q in settings.WORKER_QUEUES if q not in held]:
            raise ServiceUnavailable(f"No RQ scheduler holds the queue(s) {', '.join(missing)}: polls would stop.")

    def __repr__(self) -> str:
        return "scheduler"


@dataclasses.dataclass
class Cron(HealthCheck):
    """RQ's cron process (syncs, session time limits, digests) sends a heartbeat."""

    def run(self) -> None:
        beats = _ask_redis(lambda redis: [s.last_heartbeat for s in CronScheduler.all(redis)],
                           "The cron cannot be checked: Redis does not answer.")
        fresh = [b for b in beats if b and time.time() - b.timestamp() < settings.HEALTH_CRON_STALE_SECONDS]
        if not fresh:
            raise ServiceUnavailable("The cron (rqcron rescueportal.cron) is not running: time limits, syncs and "
                                     "digests would stop.")

    def __repr__(self) -> str:
        return "cron"


@dataclasses.dataclass
class AuditGuard(HealthCheck):
    def run(self) -> None:
        from audit.checks import append_only_guard

        if any(e.is_serious() for e in append_only_guard()):
            raise ServiceUnavailable("The audit trail is not append-only (audit.E001): see `manage.py check`.")

    def __repr__(self) -> str:
        return "audit_guard"


@dataclasses.dataclass
class DatabaseCheck(Database):
    def __repr__(self) -> str:
        return "database"


READINESS = (DatabaseCheck, Redis, Workers, Scheduler, Cron, AuditGuard)
