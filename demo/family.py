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
from collections.abc import Callable
from dataclasses import dataclass, field
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


class GaveUp(Exception):
    """A member kept exiting: starting it again would only hide what is wrong."""

    def __init__(self, name: str, code: int | None, exits: int):
        super().__init__(f"The {name} process exited {exits} times in a few minutes (last code {code}); stopping.")
        self.name = name


def restart_delay(exits: list[float], now: float, max_exits: int = 5, window: float = 300.0) -> float | None:
    """Seconds to wait before starting a member again after its latest exit, or None to give up.

    The first exit in `window` seconds restarts at once; later ones back off (1, 2, 4, 8 s); past
    `max_exits` in the window the member is given up on."""
    recent = [t for t in exits if now - t <= window]
    if len(recent) > max_exits:
        return None
    return 0.0 if len(recent) <= 1 else float(2 ** (len(recent) - 2))


@dataclass
class Member:
    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen
    exits: list[float] = field(default_factory=list)
    restart_at: float | None = None


class Family:
    """Start children into one group; `stop()` ends them all, and so does our death.
    `supervise()` starts again a member that exited, so one lost process does not stop the portal."""

    def __init__(self, grace_seconds: float = 8.0, adopt_orphans: bool = False):
        self.grace = grace_seconds
        self.members: list[Member] = []
        if adopt_orphans:
            _become_subreaper()  # a dead member's children come to us, not to init: supervise() ends them
        self.watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG, str(grace_seconds)],
                                         stdin=subprocess.PIPE, process_group=0)
        self.pgid = self.watchdog.pid

    def spawn(self, name: str, argv: list[str], **kwargs) -> subprocess.Popen:
        def start() -> subprocess.Popen:
            return subprocess.Popen(argv, process_group=self.pgid, **kwargs)

        process = start()
        self.members.append(Member(name, start, process))
        return process

    def adopt(self, name: str, process: subprocess.Popen, start: Callable[[], subprocess.Popen]) -> None:
        """A member started elsewhere (in our group); `start` starts it again."""
        self.members.append(Member(name, start, process))

    def supervise(self, now: float | None = None) -> list[str]:
        """Notice exits and start members again (see `restart_delay`); says what it did. Raises
        GaveUp for a member that keeps exiting."""
        now = time.monotonic() if now is None else now
        said = []
        if orphans := self._end_orphans():
            said.append(f"Ended {len(orphans)} process(es) left behind by a process that died (pids "
                        f"{', '.join(map(str, orphans))}).")
        for member in self.members:
            if member.restart_at is None:
                code = member.process.poll()
                if code is None:
                    continue
                member.exits.append(now)
                delay = restart_delay(member.exits, now)
                if delay is None:
                    raise GaveUp(member.name, code, len(member.exits))
                member.restart_at = now + delay
                said.append(f"The {member.name} process exited with code {code}; "
                            + (f"starting it again in {delay:.0f} s." if delay else "starting it again."))
            if member.restart_at is not None and now >= member.restart_at:
                try:
                    member.process = member.start()
                except (OSError, RuntimeError) as exc:
                    member.exits.append(now)
                    delay = restart_delay(member.exits, now)
                    if delay is None:
                        raise GaveUp(member.name, None, len(member.exits)) from exc
                    member.restart_at = now + delay
                    said.append(f"The {member.name} process could not start ({exc}); trying again in {delay:.0f} s.")
                    continue
                member.restart_at = None
                said.append(f"The {member.name} process is running again (pid {member.process.pid}).")
        return said

    def _end_orphans(self) -> list[int]:
        """Our children that are neither a member nor the watchdog: left by a member that died (the
        RQ scheduler a killed worker forked would otherwise hold the scheduler lock and a Redis
        connection). They are killed and reaped before the member is started again."""
        known = {member.process.pid for member in self.members} | {self.watchdog.pid}
        ended = []
        for pid, zombie in _children_of(os.getpid()):
            if pid in known or _group_of(pid) not in (self.pgid, None):
                continue
            try:
                if not zombie:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            ended.append(pid)  # said whether it was still running or had already exited by itself
        return ended

    def stop(self) -> None:
        """SIGTERM each in the reverse order of starting, wait up to the grace period, then end the group."""
        for member in reversed(self.members):
            if member.process.poll() is None:
                member.process.terminate()
        deadline = time.monotonic() + self.grace
        for member in reversed(self.members):
            try:
                member.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()
        if self.watchdog.stdin:
            self.watchdog.stdin.close()  # the watchdog sweeps what is left (grandchildren) and exits
        try:
            self.watchdog.wait(timeout=self.grace + 5)
        except subprocess.TimeoutExpired:
            os.killpg(self.pgid, signal.SIGKILL)


def _become_subreaper() -> None:
    """Linux's PR_SET_CHILD_SUBREAPER; elsewhere a no-op (orphans then go to init, as before)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _children_of(parent: int) -> list[tuple[int, bool]]:
    """(pid, is a zombie) of each child of `parent`, from /proc (none where there is no /proc)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append((int(entry), fields[0] == "Z"))
    return found


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


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
