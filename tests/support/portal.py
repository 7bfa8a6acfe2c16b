"""`manage.py rundemo` — what `make run` runs — started on free ports against the test database."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from tests.support.processes import MANAGE, database_url, free_port, stop

LOGIN_LINE = re.compile(r"username (\S+)\s+password (\S+)")


class Portal:
    def __init__(self, process: subprocess.Popen, url: str, logins: dict[str, str], output: list[str], env: dict):
        self.process, self.url, self.logins, self.output, self.env = process, url, logins, output, env
        self.username = "owner"
        self.password = logins["owner"]


def rundemo_env(var_dir: Path) -> dict[str, str]:
    env = {**os.environ, "VAR_DIR": str(var_dir), "PORT": str(free_port()), "SIMULATOR_PORT": str(free_port()),
           "DATABASE_URL": database_url(), "SIMULATOR_DEVICES": "40", "PYTHONUNBUFFERED": "1"}
    env.pop("SOFTLAYER_ENDPOINT_URL", None)
    if "REDIS_URL" in env:  # a Redis server: this test worker's own database on it, never another's
        env["REDIS_URL"] = settings.RQ_QUEUES["default"]["URL"]
    return env


def start_portal(var_dir: Path, timeout: float = 120, **extra_env: str) -> Portal:
    """Start it and read its banner; it starts its own simulator and, when REDIS_URL is unset, its
    own embedded Redis, exactly as on a new user's machine. `extra_env`: settings a user would set.
    A free port can be taken by another test's process before ours binds it: rundemo then says the
    port is in use, and it is started again on other ports."""
    for attempt in range(3):
        try:
            return _start_portal(var_dir, timeout, **extra_env)
        except PortTaken:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    pass


def _start_portal(var_dir: Path, timeout: float, **extra_env: str) -> Portal:
    env = {**rundemo_env(var_dir), **extra_env}
    process = subprocess.Popen([sys.executable, MANAGE, "rundemo"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    deadline = time.monotonic() + timeout
    url, logins = None, {}
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "is running at " in line:
            url = line.split("is running at ", 1)[1].strip()
        if match := LOGIN_LINE.search(line):
            logins[match.group(1)] = match.group(2)
        if line.startswith("Press Ctrl-C"):
            break
    if not (url and "owner" in logins):
        stop(process)
        said = "".join(output)
        if "in use" in said and "PORT" not in extra_env:
            raise PortTaken(said)
        raise RuntimeError("rundemo did not come up:\n" + said)
    return Portal(process, url, logins, output, env)


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (read from /proc while they are still its descendants)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
