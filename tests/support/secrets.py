"""Where a secret could leak to: every row of every table, every Redis key and value."""

import contextlib
import zlib

import redis
from django.conf import settings
from django.db import connection


def everything_in_the_database() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def everything_in_redis() -> bytes:
    """Every key and value; RQ's job payloads are zlib-compressed pickles, so they are opened too."""
    client = redis.Redis.from_url(settings.RQ_QUEUES["default"]["URL"])
    chunks = []
    for key in client.scan_iter():
        chunks.append(key + (client.dump(key) or b""))
        if client.type(key) == b"hash":
            for value in client.hgetall(key).values():
                chunks.append(value)
                with contextlib.suppress(zlib.error):
                    chunks.append(zlib.decompress(value))
    return b"\n".join(chunks)
