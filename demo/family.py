"""The processes of `make run` as one family that cannot outlive it.

Every child runs in one process group of its own (the terminal's Ctrl-C reaches `rundemo` only,
which stops them in order). The group's first member is a watchdog that blocks on a pipe only
`rundemo` holds: however `rundemo` ends — Ctrl-C, SIGTERM, SIGKILL, a closed terminal — the pipe
closes and the watchdog ends the whole group, grandchildren (gunicorn's workers, RQ's scheduler)
included. A lock file says when another `make run` already runs from the same folder.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Runs as `python -c`: waits for EOF on stdin, then TERM to the group, a grace period, KILL.
WATCHDOG = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
sys.stdin.buffer.read()
me, group = os.getpid(), os.getpgid(0)

def others():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.getpgid(int(entry)) == group:
                    found.append(int(entry))
            except OSError:
                pass
    return found

os.killpg(group, signal.SIGTERM)
deadline = time.monotonic() + float(sys.argv[1])
while others() and time.monotonic() < deadline:
    time.sleep(0.1)
os.killpg(group, signal.SIGKILL)
"""


class AlreadyRunning(Exception):
    def __init__(self, info: dict):
        super().__init__(f"already running: {info}")
        self.info = info


class Family:
    """Start children into one group; `stop()` ends them all, and so does our death."""

    def __init__(self, grace_seconds: float = 8.0):
        self.grace = grace_seconds
        self.members: list[tuple[str, subprocess.Popen]] = []
        self.watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG, str(grace_seconds)],
                                         stdin=subprocess.PIPE, process_group=0)
        self.pgid = self.watchdog.pid

    def spawn(self, name: str, argv: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(argv, process_group=self.pgid, **kwargs)
        self.members.append((name, process))
        return process

    def adopt(self, name: str, process: subprocess.Popen) -> None:
        self.members.append((name, process))

    def first_exited(self) -> tuple[str, subprocess.Popen] | None:
        return next(((name, p) for name, p in self.members if p.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM each in the reverse order of starting, wait up to the grace period, then end the group."""
        for _name, process in reversed(self.members):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + self.grace
        for _name, process in reversed(self.members):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.watchdog.stdin:
            self.watchdog.stdin.close()  # the watchdog sweeps what is left (grandchildren) and exits
        try:
            self.watchdog.wait(timeout=self.grace + 5)
        except subprocess.TimeoutExpired:
            os.killpg(self.pgid, signal.SIGKILL)


class RunLock:
    """One `make run` per folder: an exclusive lock on VAR_DIR/run.lock, freed by the kernel when
    its holder dies however it ends; the file says who holds it."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None

    def acquire(self, **info) -> None:
        handle = open(self.path, "a+")  # noqa: SIM115  (held for the life of the process)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                held_by = json.loads(handle.read() or "{}")
            except json.JSONDecodeError:
                held_by = {}
            handle.close()
            raise AlreadyRunning(held_by) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), **info}))
        handle.flush()
        self.file = handle

    def update(self, **info) -> None:
        if self.file:
            current = {"pid": os.getpid()}
            self.file.seek(0)
            current.update(json.loads(self.file.read() or "{}"))
            current.update(info)
            self.file.seek(0)
            self.file.truncate()
            self.file.write(json.dumps(current))
            self.file.flush()
