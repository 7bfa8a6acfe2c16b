"""A fair lockout. django-axes locks a username *from one address* after AXES_FAILURE_LIMIT wrong
passwords, so a colleague's typos never lock anyone else, and someone who knows the owner's
username cannot keep the owner out from elsewhere. Floods from one address (many usernames) are
stopped by a separate, much higher per-address limit kept here, in Redis across web processes.

django-axes compares the largest count over all its lockout parameters with one limit, so the two
limits cannot both live in it; it keeps the per-person one."""

import time

import django_rq
import redis
from django.conf import settings


def count_in_window(kind: str, subject: str, seconds: int, *, add: bool) -> int | None:
    """How many `kind` events `subject` had in the current fixed window of `seconds` (one more when
    `add`), counted in Redis across every process; None when Redis cannot say."""
    key = f"rescueportal:{kind}:{subject}:{int(time.time() // seconds)}"
    try:
        connection = django_rq.get_connection("default")
        if not add:
            return int(connection.get(key) or 0)
        with connection.pipeline() as pipe:
            count, _ = pipe.incr(key).expire(key, seconds * 2).execute()
        return int(count)
    except (redis.exceptions.RedisError, OSError):
        return None


def _cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def note_failure(address: str | None) -> None:
    if address:  # without Redis the per-username lock (in the database) still holds
        count_in_window("sign-in-failures", address, _cooloff_seconds(), add=True)


def address_flooding(address: str | None) -> bool:
    """Has this address failed ADDRESS_FAILURE_LIMIT sign-ins in the current cool-off window?"""
    if not address:
        return False
    count = count_in_window("sign-in-failures", address, _cooloff_seconds(), add=False)
    return (count or 0) >= settings.ADDRESS_FAILURE_LIMIT


def tries_left(failures: int | None) -> int | None:
    """Wrong passwords left before the lock, once the person is close to it (None: not close)."""
    if failures is None:
        return None
    left = settings.AXES_FAILURE_LIMIT - failures
    return left if 0 < left <= 2 else None
