"""Requests per token per minute (API_RATE), counted in Redis so that every web process shares the count."""

import logging
import time

import django_rq
import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

log = logging.getLogger(__name__)


class PerTokenThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request, view) -> bool:
        token = request.auth
        if token is None or not settings.API_RATE:
            return True
        limit, period = SimpleRateThrottle.parse_rate(None, settings.API_RATE)
        now = time.time()
        window = int(now // period)
        key = f"rescueportal:api:rate:{token.pk}:{window}"
        try:
            connection = django_rq.get_connection("default")
            with connection.pipeline() as pipe:
                count, _ = pipe.incr(key).expire(key, period * 2).execute()
        except redis.RedisError as exc:  # the count is lost, not the request
            log.warning("API rate not counted (Redis unavailable): %s", exc)
            return True
        if count <= limit:
            return True
        self.wait_seconds = period - (now % period)
        return False

    def wait(self) -> float | None:
        return self.wait_seconds
