"""Counters and histograms kept in Redis, so that every process on every host adds to the same
figures and any web process can show them (a per-process registry would show one process's share).
A metric is never worth a failed request or job: Redis errors are swallowed."""

import functools
import json
import logging

import redis
from django.conf import settings
from redis import RedisError

log = logging.getLogger(__name__)
KEY = "rescueportal:metrics"
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _redis() -> redis.Redis:
    """RQ's Redis, with short timeouts: a Redis that hangs must not hold up a request for a metric."""
    return _client(settings.RQ_QUEUES["default"]["URL"])


def _field(name: str, labels: dict[str, str], suffix: str = "") -> str:
    return json.dumps([name + suffix, sorted(labels.items())], separators=(",", ":"))


def add(name: str, labels: dict[str, str], value: float = 1.0) -> None:
    try:
        _redis().hincrbyfloat(KEY, _field(name, labels), value)
    except (RedisError, OSError) as exc:
        log.debug("metric %s not counted: %s", name, exc)


def observe(name: str, labels: dict[str, str], seconds: float) -> None:
    """A histogram: a count per bucket (cumulative at read), a sum and a count."""
    bucket = next((b for b in BUCKETS if seconds <= b), "+Inf")
    try:
        with _redis().pipeline(transaction=False) as pipe:
            pipe.hincrbyfloat(KEY, _field(name, {**labels, "le": str(bucket)}, "_bucket"), 1)
            pipe.hincrbyfloat(KEY, _field(name, labels, "_sum"), seconds)
            pipe.hincrbyfloat(KEY, _field(name, labels, "_count"), 1)
            pipe.execute()
    except (RedisError, OSError) as exc:
        log.debug("metric %s not observed: %s", name, exc)


def read() -> dict[tuple[str, tuple], float]:
    raw = _redis().hgetall(KEY)
    out = {}
    for field, value in raw.items():
        name, labels = json.loads(field)
        out[(name, tuple(tuple(pair) for pair in labels))] = float(value)
    return out
