"""`make run`: the whole portal on one machine, stopped together with Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.services import ensure_account_owner
from demo import embedded_redis
from demo.family import AlreadyRunning, Family, GaveUp, RunLock
from demo.seed import seed_users
from devices.provider import ProviderError
from devices.services import sync_devices


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 20.0) -> None:
    """Until *this* process listens on the port, not another program that took it between our
    check and its bind (where the system tells which process holds a socket: Linux's /proc)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"{name} exited with code {process.returncode}; see its output above "
                               f"(if port {port} is in use, set PORT to another port).")
        if not _port_free(port) and _listens(process.pid, port) is not False:
            return
        time.sleep(0.1)
    raise CommandError(f"{name} did not start listening on port {port} within {timeout:.0f}s.")


def _listens(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds the socket listening on 127.0.0.1:`port`; None where /proc cannot tell."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    wanted = f"0100007F:{port:04X}"
    inodes = {fields[9] for fields in (line.split() for line in table) if fields[1] == wanted and fields[3] == "0A"}
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


class Command(BaseCommand):
    help = ("Set up and run the simulator, embedded Redis, an RQ worker with scheduler, cron and the web server; "
            "start again any of them that dies.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--devices", type=int, default=int(os.environ.get("SIMULATOR_DEVICES", 40)))

    def handle(self, *args, **options) -> None:
        lock = RunLock(settings.VAR_DIR / "run.lock")
        try:
            lock.acquire(port=options["port"])
        except AlreadyRunning as running:
            info = running.info
            raise CommandError(
                f"Rescue Portal is already running from this folder (process {info.get('pid', '?')}"
                + (f", {info['url']}" if info.get("url") else "") + "). Stop it with Ctrl-C in its terminal "
                f"(or: kill {info.get('pid', 'PID')}), then run `make run` again.") from None
        # Ctrl-C even when started in the background of a script (which starts it with SIGINT ignored);
        # a kill or a closed terminal stops it the same way.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        self.family = Family(adopt_orphans=True)
        try:
            self._run(options["port"], options["devices"], lock)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the stop short
            self.family.stop()
            self.stdout.write("Stopped.")

    def _spawn(self, name: str, argv: list[str], **kwargs) -> subprocess.Popen:
        return self.family.spawn(name, argv, **kwargs)

    def _manage(self, name: str, *args: str, **kwargs) -> subprocess.Popen:
        return self._spawn(name, [sys.executable, str(settings.BASE_DIR / "manage.py"), *args], **kwargs)

    def _run(self, port: int, devices: int, lock: RunLock) -> None:
        if not _port_free(port):
            raise CommandError(f"Port {port} is already in use. Stop what uses it, or run: PORT=8001 make run")
        # The demo offers a 2-minute time limit too, so a rescue session can be watched to its end.
        os.environ.setdefault("RESCUE_TIME_LIMIT_CHOICES_MINUTES", "2,30,60,120,240,480")
        os.environ.setdefault("PORTAL_URL", f"http://localhost:{port}")  # the links in mail and webhooks
        call_command("migrate", interactive=False, verbosity=0)
        call_command("check", tags=["audit"])  # the audit trail is append-only, or nothing starts
        user, password = ensure_account_owner("owner", settings.VAR_DIR / "demo_owner_password")

        if not os.environ.get("SOFTLAYER_ENDPOINT_URL"):
            sim_port = settings.SIMULATOR_PORT
            if not _port_free(sim_port):
                raise CommandError(f"The simulator's port {sim_port} is in use; set SIMULATOR_PORT to another port.")
            sim = self._manage("simulator", "runsimulator", "--port", str(sim_port), "--devices", str(devices))
            _wait_for_port(sim_port, sim, "The SoftLayer simulator")
        if not os.environ.get("REDIS_URL"):
            def start_redis() -> subprocess.Popen:
                return embedded_redis.start(settings.EMBEDDED_REDIS_SOCKET, settings.VAR_DIR / "redis",
                                            process_group=self.family.pgid)

            self.family.adopt("redis", start_redis(), start_redis)
            self.stdout.write(f"Embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")

        try:
            run = sync_devices()
            self.stdout.write(f"Inventory: {run.total} devices synced from {settings.SOFTLAYER_ENDPOINT_URL} "
                              f"with {run.api_calls} API calls")
        except ProviderError as exc:
            self.stderr.write(f"First inventory sync failed: {exc.message} (the worker will retry on schedule)")
        people = seed_users(settings.VAR_DIR)

        for number in range(1, max(1, settings.RQ_WORKERS) + 1):  # one scheduler runs at a time (RQ's lock)
            self._manage("worker" if number == 1 else f"worker {number}", "rqworker", *settings.WORKER_QUEUES,
                         "--with-scheduler")
        self._manage("cron", "rqcron", "rescueportal.cron")
        web = self._spawn("web", [
            sys.executable, "-m", "gunicorn", "rescueportal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--threads", "4", "--log-level", "warning", "--chdir", str(settings.BASE_DIR),
        ])
        _wait_for_port(port, web, "The web server")
        host = urlparse(f"http://localhost:{port}/")  # a host name: passkeys are not given to IP addresses
        lock.update(url=host.geturl())
        self.stdout.write(self.style.SUCCESS(
            f"\nRescue Portal is running at {host.geturl()}\n"
            f"Log in as the account owner: username {user.username}  password {password}\n"
            + "Other demo users:\n"
            + "".join(f"  username {name:<17} password {secret}  ({what})\n" for name, secret, what in people)
            + "Press Ctrl-C to stop everything.\n"))
        while True:  # a process that dies is started again (the worker's start-up reconcile resumes its work)
            try:
                said = self.family.supervise()
            except GaveUp as gave_up:
                raise CommandError(f"{gave_up} See its output above.") from None
            for line in said:
                self.stderr.write(line)
            time.sleep(0.5)
