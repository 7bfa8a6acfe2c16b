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


def _key(address: str) -> str:
    window = int(time.time() // settings.AXES_COOLOFF_TIME.total_seconds())
    return f"rescueportal:sign-in-failures:{address}:{window}"


def note_failure(address: str | None) -> None:
    if not address:
        return
    try:
        with django_rq.get_connection("default").pipeline() as pipe:
            pipe.incr(_key(address)).expire(_key(address), int(settings.AXES_COOLOFF_TIME.total_seconds()) * 2)
            pipe.execute()
    except (redis.exceptions.RedisError, OSError):
        pass  # the per-username lock (in the database) still holds


def address_flooding(address: str | None) -> bool:
    """Has this address failed ADDRESS_FAILURE_LIMIT sign-ins in the current cool-off window?"""
    if not address:
        return False
    try:
        count = django_rq.get_connection("default").get(_key(address))
    except (redis.exceptions.RedisError, OSError):
        return False
    return int(count or 0) >= settings.ADDRESS_FAILURE_LIMIT


def tries_left(failures: int | None) -> int | None:
    """Wrong passwords left before the lock, once the person is close to it (None: not close)."""
    if failures is None:
        return None
    left = settings.AXES_FAILURE_LIMIT - failures
    return left if 0 < left <= 2 else None
