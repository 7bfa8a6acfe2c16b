"""Time from Yes to "in rescue", next to the simulator's own transaction time, and API calls per tick.

    .venv/bin/python bench/rescue_bench.py [--time-scale 0.02] [--parallel 20]

Starts its own embedded Redis, simulator and RQ worker (with scheduler) on a scratch SQLite
database, then requests one rescue, then --parallel rescues at once, and prints the figures
measured side by side in this run.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-scale", type=float, default=0.02)
    parser.add_argument("--parallel", type=int, default=20)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rp-rescue-bench-"))
    socket = workdir / "redis.sock"
    os.environ.update({"VAR_DIR": str(workdir), "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
                       "REDIS_URL": f"unix://{socket}", "DJANGO_SETTINGS_MODULE": "rescueportal.settings",
                       "LOG_LEVEL": "WARNING", "OPERATION_POLL_SECONDS": "1"})
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from demo import embedded_redis
    from devices.models import Device
    from devices.services import sync_devices
    from simulator.world import TRANSACTIONS
    from tests.support.simulator import API_KEY, USERNAME, SimulatorProcess
    from workflows import services
    from workflows.models import Operation

    call_command("migrate", verbosity=0)
    redis_process = embedded_redis.start(socket, workdir)
    sim = SimulatorProcess(devices=200, seed=2, time_scale=args.time_scale, latency_ms=25)
    env = {**os.environ, "SOFTLAYER_ENDPOINT_URL": sim.url, "SOFTLAYER_USERNAME": USERNAME,
           "SOFTLAYER_API_KEY": API_KEY}
    settings.SOFTLAYER_ENDPOINT_URL, settings.SOFTLAYER_USERNAME, settings.SOFTLAYER_API_KEY = (
        sim.url, USERNAME, API_KEY)
    worker = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "rqworker", "default", "--with-scheduler"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        sync_devices()
        from accounts.services import ensure_account_owner

        owner, _ = ensure_account_owner("owner", workdir / "owner_password")
        guests = list(Device.objects.filter(kind="virtual", os_family="linux").order_by("provider_id"))
        provider_seconds = sum(p[2] for p in TRANSACTIONS["rescue"][1]) * args.time_scale

        def run(devices) -> list[float]:
            started = time.monotonic()
            ops = [services.request_operation(owner, d, Operation.Kind.RESCUE) for d in devices]
            pending, took = {op.pk for op in ops}, []
            while pending and time.monotonic() - started < 300:
                done = Operation.objects.filter(pk__in=pending, state__in=["in_rescue", "failed"])
                for op in done:
                    took.append(time.monotonic() - started)
                    pending.discard(op.pk)
                time.sleep(0.05)
            assert not pending, f"{len(pending)} did not finish"
            assert not Operation.objects.filter(state="failed").exists()
            return took

        time.sleep(2)  # let the worker start
        one = run(guests[:1])[0]
        many = run(guests[1:1 + args.parallel])
    finally:
        worker.terminate()
        worker.wait()
        sim.stop()
        redis_process.terminate()

    print(f"simulator's own rescue transaction: {provider_seconds:.2f} s (time scale {args.time_scale})")
    print(f"one rescue, Yes to 'in rescue':      {one:.2f} s  -> {one / provider_seconds:.2f}x the transaction")
    print(f"{args.parallel} rescues at once, last one done: {max(many):.2f} s  -> "
          f"{max(many) / provider_seconds:.2f}x the transaction (median {sorted(many)[len(many) // 2]:.2f} s)")
    print("poll interval 1 s (RQ's scheduler ticks once a second); the overhead is the submit plus at most one tick")


if __name__ == "__main__":
    main()
