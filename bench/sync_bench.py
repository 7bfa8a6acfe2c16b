"""Inventory sync of a large account, next to the bare SoftLayer client listing the same account
with the same masks and the same page size.

    .venv/bin/python bench/sync_bench.py [--devices 10000] [--latency-ms 25]

One simulator for the run (the same latency per request for every side). Sides, each measured
in three rounds with the order alternated, the median kept:
  A  the bare client, one page at a time (`client.call(..., iter=True)`),
  B  the portal's first sync (empty table) and its re-sync (nothing changed),
  C  the bare client's own threaded paging (`client.cf_call`).
The floor printed beside them: the calls times the latency, and the calls at the rate limit.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, Table, side_by_side  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rp-bench-"))
    os.environ.update({"VAR_DIR": str(workdir), "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
                       "DJANGO_SETTINGS_MODULE": "rescueportal.settings", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from demo import embedded_redis
    from devices import provider
    from devices.models import Device
    from devices.services import sync_devices
    from tests.support.simulator import SimulatorProcess

    call_command("migrate", verbosity=0)
    redis_process = embedded_redis.start(settings.EMBEDDED_REDIS_SOCKET, workdir)  # the shared rate limit
    sim = SimulatorProcess(devices=args.devices, seed=1, latency_ms=args.latency_ms)
    page = settings.SOFTLAYER_PAGE_SIZE
    lists = [("getVirtualGuests", provider.GUEST_MASK), ("getHardware", provider.HARDWARE_MASK)]
    try:
        settings.SOFTLAYER_ENDPOINT_URL = sim.url
        settings.SOFTLAYER_USERNAME, settings.SOFTLAYER_API_KEY = "SL-test", "test-api-key-0123456789"
        client = sim.client()

        def bare_one_page_at_a_time() -> dict:
            sim.reset()
            started = time.perf_counter()
            listed = sum(len(list(client.call("Account", method, mask=mask, limit=page, iter=True)))
                         for method, mask in lists)
            assert listed == args.devices, listed
            return {"s": time.perf_counter() - started, "calls": sim.total_calls()}

        def bare_threaded() -> dict:
            sim.reset()
            started = time.perf_counter()
            listed = sum(len(client.cf_call("Account", method, mask=mask, limit=page)) for method, mask in lists)
            assert listed == args.devices, listed
            return {"s": time.perf_counter() - started, "calls": sim.total_calls()}

        def first_sync() -> dict:
            Device.objects.all().delete()
            sim.reset()
            started = time.perf_counter()
            run = sync_devices()
            assert run.total == args.devices, run.total
            return {"s": time.perf_counter() - started, "calls": run.api_calls}

        def resync() -> dict:
            started = time.perf_counter()
            run = sync_devices()
            return {"s": time.perf_counter() - started, "calls": run.api_calls}

        bare, first = side_by_side(bare_one_page_at_a_time, first_sync)
        bare2, again = side_by_side(bare_one_page_at_a_time, resync)
        threaded, first2 = side_by_side(bare_threaded, first_sync)
    finally:
        sim.stop()
        redis_process.terminate()

    floor = first["calls"] * args.latency_ms / 1000
    rate_floor = first["calls"] / settings.SOFTLAYER_MAX_REQUESTS_PER_SECOND
    table = Table("Inventory sync (B) against the bare SoftLayer client (A)",
                  f"{args.devices:,} devices; simulator latency {args.latency_ms:g} ms per request; page size {page} "
                  f"on every side, the gateway's masks; SOFTLAYER_PARALLEL_PAGES={settings.SOFTLAYER_PARALLEL_PAGES}, "
                  f"SOFTLAYER_MAX_REQUESTS_PER_SECOND={settings.SOFTLAYER_MAX_REQUESTS_PER_SECOND:g}; median of 3 "
                  f"rounds, order alternated. Floor: {first['calls']:.0f} calls x latency = {floor:.2f} s; the calls "
                  f"at the rate limit = {rate_floor:.2f} s.")
    table.add("first sync / bare client one page at a time", "bare", bare["s"], "sync", first["s"], unit="s", goal=0.6)
    table.add("re-sync / bare client one page at a time", "bare", bare2["s"], "re-sync", again["s"], unit="s",
              goal=0.6)
    table.add("first sync / bare client threaded (cf_call)", "cf_call", threaded["s"], "sync", first2["s"], unit="s")
    table.add("API calls: sync / bare client", "bare", bare["calls"], "sync", first["calls"], unit="calls")
    print(table.markdown())
    with RESULTS.open("a") as out:
        out.write(table.markdown() + "\n")


if __name__ == "__main__":
    main()
