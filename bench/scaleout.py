"""The multi-host topology on one machine, under load and under fire: the command an operator runs
to trust a deployment.

    .venv/bin/python bench/scaleout.py [--devices 10000] [--rescues 500] [--time-scale 0.02]

Starts, as separate processes: two web servers (gunicorn, two ports), three workers (with RQ's
scheduler), one cron, over PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432,
a scratch database) and a Redis server (BENCH_REDIS_URL, default redis://127.0.0.1:6379/9), against
the simulator with --devices devices. Then through the web API (half the requests to each web
server, one personal access token, an Idempotency-Key per device): one rescue alone, then
--rescues at once; midway one worker and one web server are SIGKILLed, and a client whose server
died retries on the other with the same key. It prints operations finished / lost / submitted
twice, the provider's peak requests per second against the budget, the time to the last "in
rescue" next to the single rescue, and readiness and metrics as they were during the run.
Exits non-zero if an operation was lost or submitted twice, or the budget was exceeded.
"""

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
METRICS_TOKEN = "scaleout-metrics"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, token: str = "", body: dict | None = None, key: str = "",
         timeout: float = 30) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if key:
        request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--rescues", type=int, default=500)
    parser.add_argument("--time-scale", type=float, default=0.02)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    server = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    database = f"rp_scaleout_{os.getpid()}"
    subprocess.run(["psql", f"{server}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
    workdir = Path(tempfile.mkdtemp(prefix="rp-scaleout-"))
    os.environ.update({
        "VAR_DIR": str(workdir), "DATABASE_URL": f"{server}/{database}", "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "rescueportal.settings", "LOG_LEVEL": "WARNING", "METRICS_TOKEN": METRICS_TOKEN,
        # One token drives the whole run: its rate is raised (printed); a dead server's half-answered
        # requests are taken over after 15 s instead of 5 minutes.
        "API_RATE": "100000/minute", "IDEMPOTENCY_STALE_SECONDS": "15"})
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    from accounts.services import ensure_account_owner
    from api.services import create_token
    from devices.models import Device
    from devices.services import sync_devices
    from tests.support.simulator import API_KEY, USERNAME, SimulatorProcess
    from workflows.models import Operation

    redis.Redis.from_url(redis_url).flushdb()
    sim = SimulatorProcess(devices=args.devices, seed=5, time_scale=args.time_scale, latency_ms=25)
    os.environ.update({"SOFTLAYER_ENDPOINT_URL": sim.url, "SOFTLAYER_USERNAME": USERNAME,
                       "SOFTLAYER_API_KEY": API_KEY})
    settings.SOFTLAYER_ENDPOINT_URL = sim.url
    settings.SOFTLAYER_USERNAME, settings.SOFTLAYER_API_KEY = USERNAME, API_KEY
    groups: dict[str, subprocess.Popen] = {}
    manage = [sys.executable, str(ROOT / "manage.py")]

    def start(name: str, argv: list[str]) -> None:
        log = (workdir / f"{name}.log").open("w")
        groups[name] = subprocess.Popen(argv, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                        start_new_session=True)

    try:
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        sync = sync_devices()
        print(f"Synced {sync.total} devices in {time.monotonic() - started:.1f} s ({sync.api_calls} API calls)")
        owner, _ = ensure_account_owner("owner", workdir / "owner_password")
        token = create_token(owner, name="scale-out", days=1, scopes=["operate"])[1]
        ports = [free_port(), free_port()]
        for number, port in enumerate(ports, 1):
            start(f"web{number}", [sys.executable, "-m", "gunicorn", "rescueportal.wsgi", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2", "--threads", "4", "--log-level", "warning"])
        for number in range(1, 4):
            start(f"worker{number}", [*manage, "rqworker", *settings.WORKER_QUEUES, "--with-scheduler"])
        start("cron", [*manage, "rqcron", "rescueportal.cron"])
        webs = [f"http://127.0.0.1:{port}" for port in ports]

        def readiness(base: str) -> tuple[int, dict]:
            try:
                return http("GET", f"{base}/health/ready/", METRICS_TOKEN, timeout=10)
            except OSError as exc:
                return 0, {"error": str(exc)}

        deadline = time.monotonic() + 120
        while readiness(webs[0])[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        print("Ready:", json.dumps(readiness(webs[0])[1]))

        linux = list(Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id")
                     .values_list("pk", flat=True)[: args.rescues + 1])
        assert len(linux) > args.rescues, f"only {len(linux)} Linux virtual servers; raise --devices"

        def wait_done(ids: set[int], limit: float) -> float:
            began = time.monotonic()
            while time.monotonic() - began < limit:
                left = ids - set(Operation.objects.filter(pk__in=ids, state__in=["in_rescue", "failed"])
                                 .values_list("pk", flat=True))
                if not left:
                    break
                time.sleep(0.2)
            return time.monotonic() - began

        alone_start = time.monotonic()
        status, op = http("POST", f"{webs[0]}/api/v1/devices/{linux[0]}/operations/", token, {"kind": "rescue"},
                          key=f"scale-{linux[0]}")
        assert status == 201, (status, op)
        wait_done({op["id"]}, 300)
        alone = time.monotonic() - alone_start
        print(f"One rescue alone: {alone:.1f} s")

        budget = settings.SOFTLAYER_MAX_REQUESTS_PER_SECOND
        devices = linux[1: args.rescues + 1]
        made: dict[int, int] = {}
        retried, failed_requests = [0], []
        kill_at = len(devices) // 2
        sent = [0]
        lock = threading.Lock()
        during: dict = {}

        def kill_some() -> None:
            for name in ("worker1", "web2"):
                os.killpg(groups[name].pid, signal.SIGKILL)
            time.sleep(1)
            during["ready_after_kill"] = readiness(webs[0])
            print(f"SIGKILLed worker1 and web2 after {kill_at} requests; readiness then:",
                  json.dumps(during["ready_after_kill"][1]))

        def ask(index_device: tuple[int, int]) -> None:
            index, device = index_device
            with lock:
                sent[0] += 1
                if sent[0] == kill_at:
                    kill_some()
            order = [webs[index % 2], webs[(index + 1) % 2]]
            dead: set[str] = set()
            give_up = time.monotonic() + 180  # a claim left by the killed server is taken over after 15 s
            attempt = 0
            while time.monotonic() < give_up:
                base = next((b for b in order[attempt % 2:] + order if b not in dead), order[0])
                attempt += 1
                try:
                    status, body = http("POST", f"{base}/api/v1/devices/{device}/operations/", token,
                                        {"kind": "rescue"}, key=f"scale-{device}")
                except OSError:
                    dead.add(base)  # this server is gone: the same key goes to the other
                    with lock:
                        retried[0] += 1
                    continue
                if status == 201:
                    with lock:
                        made[device] = body["id"]
                    return
                if status in (409, 429, 502, 503):  # still being answered by a server that died: wait, retry
                    with lock:
                        retried[0] += 1
                    time.sleep(1)
                    continue
                failed_requests.append((device, status, body.get("detail")))
                return
            failed_requests.append((device, "gave up", ""))

        many_start, many_start_wall = time.monotonic(), time.time()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(ask, enumerate(devices)))
        submitted = time.monotonic() - many_start
        wait_done(set(made.values()), 900)
        ops = Operation.objects.filter(device_id__in=devices, kind="rescue")
        last = max((o.finished_at for o in ops if o.finished_at), default=None)
        to_last = last.timestamp() - many_start_wall if last else float("nan")
        per_device = {d: ops.filter(device_id=d).count() for d in devices}
        started_by_device = sim.stats()["started"]
        twice = sum(1 for d in Device.objects.filter(pk__in=devices)
                    if sum(n for k, n in started_by_device.items() if k.startswith(f"{d.kind}:{d.provider_id}:")) > 1)
        finished = ops.filter(state="in_rescue").count()
        failed = ops.filter(state="failed").count()
        lost = sum(1 for d in devices if per_device[d] == 0) + ops.exclude(state__in=["in_rescue", "failed"]).count()
        doubled = sum(1 for n in per_device.values() if n > 1)
        stats = sim.stats()
        peak = stats.get("peak_per_second", 0)
        ready_end = readiness(webs[0])
        with urllib.request.urlopen(urllib.request.Request(f"{webs[0]}/metrics", headers={
                "Authorization": f"Bearer {METRICS_TOKEN}"}), timeout=30) as answer:
            metrics_text = answer.read().decode()
    finally:
        for process in groups.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in groups.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        sim.stop()
        from django.db import connections

        connections.close_all()
        subprocess.run(["psql", f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                       check=False)

    wanted = re.compile(r"^rescueportal_(operations\{kind=\"rescue\"|provider_calls_total|rate_limit_wait|"
                        r"operation_seconds_(count|sum)|http_requests_total\{method=\"POST\",route=\"api:device_"
                        r"operations\"|workers |queue_jobs\{)")
    from devices.provider import RateLimiter

    burst = RateLimiter.BURST
    print("\n## Scale-out: 2 web servers, 3 workers, 1 cron, PostgreSQL, Redis server\n")
    print(f"Settings: {args.devices} simulated devices (time scale {args.time_scale:g}, 25 ms a request), "
          f"{args.rescues} rescues from {args.clients} clients through the API, half to each web server; "
          f"SOFTLAYER_MAX_REQUESTS_PER_SECOND={budget:g}, OPERATION_POLL_SECONDS={settings.OPERATION_POLL_SECONDS:g}, "
          "API_RATE=100000/minute, IDEMPOTENCY_STALE_SECONDS=15; worker1 and web2 SIGKILLed midway.\n")
    print("| Figure | Value |\n|---|---|")
    rows = [("Rescues asked (devices)", len(devices)), ("Operations finished in rescue", finished),
            ("Operations failed", failed), ("Operations lost", lost), ("Devices with two operations", doubled),
            ("Devices submitted twice to SoftLayer", twice), ("Requests retried by clients", retried[0]),
            ("Requests refused", len(failed_requests)), ("All submitted through the API in", f"{submitted:.1f} s"),
            ("One rescue alone, Yes to in rescue", f"{alone:.1f} s"),
            (f"{args.rescues} at once, Yes to the last in rescue", f"{to_last:.1f} s"),
            ("Ratio", f"{to_last / alone:.2f}x"),
            ("Provider peak requests in any second (budget + burst)", f"{peak} ({budget:g} + {burst})"),
            ("Provider requests in all", stats.get("total"))]
    for name, value in rows:
        print(f"| {name} | {value} |")
    print("\nReadiness after the kills:", json.dumps(during.get("ready_after_kill", (0, {}))[1]))
    print("Readiness at the end:", json.dumps(ready_end[1]))
    print("\nMetrics at the end (selected lines):")
    for line in metrics_text.splitlines():
        if wanted.match(line):
            print("   ", line)
    if failed_requests:
        print("Refused:", failed_requests[:5])
    ok = lost == 0 and doubled == 0 and twice == 0 and not failed_requests and peak <= budget + burst
    print("\nPASSED" if ok else "\nFAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
