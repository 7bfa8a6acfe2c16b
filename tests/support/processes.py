"""Run the portal's own processes (worker, web server, `rundemo`) against the test database."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def database_url() -> str:
    """The test database as a DATABASE_URL, so that child processes open the same one."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.RQ_QUEUES["default"]["URL"],
        "SOFTLAYER_ENDPOINT_URL": settings.SOFTLAYER_ENDPOINT_URL,
        "SOFTLAYER_USERNAME": settings.SOFTLAYER_USERNAME,
        "SOFTLAYER_API_KEY": settings.SOFTLAYER_API_KEY,
        "VAR_DIR": str(settings.VAR_DIR),
        # the test's own seal key and signed head, so its workers' audit rows verify as the test's do
        "AUDIT_DIGEST_KEY": settings.AUDIT_DIGEST_KEY,
        "AUDIT_DIGEST_DIR": str(settings.AUDIT_DIGEST_DIR),
    }
    env.update(extra)
    return env


def start_worker(log_path: Path, scheduler: bool = True, **env: str) -> subprocess.Popen:
    """A live RQ worker (the portal's worker class) as `make run` starts it, on the test database."""
    command = [sys.executable, MANAGE, "rqworker", *settings.WORKER_QUEUES]
    command += ["--with-scheduler"] if scheduler else []
    defaults = {"OPERATION_POLL_SECONDS": "0.3", "SOFTLAYER_RETRY_BACKOFF_SECONDS": "0.05",
                "SOFTLAYER_SUBMIT_SETTLE_SECONDS": "5",
                "RQ_MAINTENANCE_SECONDS": "2"}
    with log_path.open("a") as out:
        # Its own process group: the scheduler it forks dies with it (a SIGKILLed worker's scheduler
        # would otherwise live on, holding the scheduler lock, long after the test).
        process = subprocess.Popen(command, env=child_env(**{**defaults, **env}), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    process.log_path = log_path
    process.own_group = True
    return process


def start_cron(log_path: Path, **env: str) -> subprocess.Popen:
    """RQ's cron scheduler with the portal's periodic jobs (rescueportal.cron), as `make run` starts it."""
    with log_path.open("a") as out:
        process = subprocess.Popen([sys.executable, MANAGE, "rqcron", "rescueportal.cron"], env=child_env(**env),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_path = log_path
    process.own_group = True
    return process


def run_worker_burst(timeout: float = 120) -> subprocess.CompletedProcess:
    """A real RQ worker process that works the queue empty, then exits."""
    return subprocess.run([sys.executable, MANAGE, "rqworker", *settings.WORKER_QUEUES, "--burst"], env=child_env(),
                          capture_output=True, text=True, timeout=timeout, check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout}s")


def stop(process: subprocess.Popen, sig: int | None = None, timeout: float = 15) -> int:
    """SIGTERM (or `sig`, to the whole group for SIGKILL), wait, then make sure nothing of it is left."""
    group = getattr(process, "own_group", False)
    if process.poll() is None:
        if sig == signal.SIGKILL and group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.send_signal(sig or signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode


@contextlib.contextmanager
def fresh_database(tmp_path: Path):
    """The URL of a new, empty database of the suite's kind (a file, or a PostgreSQL database made
    for the test and dropped after it), for tests that migrate from zero as `make run` does."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    import uuid

    import psycopg

    name = f"rescueportal_fresh_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
                            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python manage.py ARGS` in its own process, as a person types it; never raises on failure."""
    return subprocess.run([sys.executable, MANAGE, *args], env=env or child_env(), capture_output=True, text=True,
                          timeout=timeout)


SESSION_MARK = "RESCUEPORTAL_TEST_SESSION"


def marked_processes(token: str) -> dict[int, str]:
    """Live processes (not this one) whose environment carries `SESSION_MARK=token`: pid → command line."""
    needle = f"{SESSION_MARK}={token}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if needle not in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                continue
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            found[int(entry)] = command.strip()[:200]
    return found
