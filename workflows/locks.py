"""The per-operation submit lock, in Redis, that a dead holder on this host does not keep.

A worker SIGKILLed while submitting leaves its lock behind. Waiting out the TTL would hold the
operation for a minute, so a worker that finds the lock checks whether the holder's process is
still alive (same host only) and takes the lock over when it is not. Across hosts the TTL, longer
than any provider call, frees it.
"""

import os
import socket
import uuid
from pathlib import Path

from redis import Redis

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_REFRESH = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) "
            "else return 0 end")
_HOST = socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is dead for our purpose
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    except OSError:
        return True


class SubmitLock:
    def __init__(self, connection: Redis, operation_id: int, ttl: int):
        self.connection, self.key, self.ttl = connection, f"rescueportal:workflows:submit:{operation_id}", ttl
        self.token = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"

    def acquire(self) -> bool:
        if self.connection.set(self.key, self.token, nx=True, ex=self.ttl):
            return True
        holder = (self.connection.get(self.key) or b"").decode()
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        stale = host == _HOST and pid.isdigit() and not _alive(int(pid))
        # Compare-and-delete, so that two workers cannot both take over the same stale lock.
        if stale and self.connection.eval(_RELEASE, 1, self.key, holder):
            return bool(self.connection.set(self.key, self.token, nx=True, ex=self.ttl))
        return False

    def refresh(self) -> bool:
        """Before the submit call, so that the lock outlives it. False if the lock is no longer
        ours (a slow read outlived the TTL and another worker took over): then do not submit."""
        return bool(self.connection.eval(_REFRESH, 1, self.key, self.token, self.ttl))

    def release(self) -> None:
        self.connection.eval(_RELEASE, 1, self.key, self.token)
