"""Inventory sync of a large account, next to the bare SoftLayer client listing the same account.

    .venv/bin/python bench/sync_bench.py [--devices 10000] [--latency-ms 25]

Both run in this one process against one simulator started for the run (same latency per
request); the output is the time and the API calls of each, and their ratios.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
    import SoftLayer
    from django.conf import settings
    from django.core.management import call_command

    from devices.services import sync_devices
    from tests.support.simulator import SimulatorProcess

    call_command("migrate", verbosity=0)
    sim = SimulatorProcess(devices=args.devices, seed=1, latency_ms=args.latency_ms)
    try:
        settings.SOFTLAYER_ENDPOINT_URL = sim.url
        settings.SOFTLAYER_USERNAME, settings.SOFTLAYER_API_KEY = "SL-test", "test-api-key-0123456789"

        client = sim.client()
        sim.reset()
        started = time.perf_counter()
        listed = len(SoftLayer.VSManager(client).list_instances()) + len(
            SoftLayer.HardwareManager(client).list_hardware())
        bare_seconds, bare_calls = time.perf_counter() - started, sim.total_calls()

        sim.reset()
        started = time.perf_counter()
        first = sync_devices()
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = sync_devices()
        again_seconds = time.perf_counter() - started
    finally:
        sim.stop()

    print(f"devices in the account: {args.devices}  (simulator latency {args.latency_ms:g} ms per request)")
    print(f"bare client list_instances + list_hardware: {listed} devices, {bare_seconds:.2f} s, {bare_calls} calls")
    print(f"first sync (creates every row):             {first.total} devices, {first_seconds:.2f} s, "
          f"{first.api_calls} calls")
    print(f"second sync (nothing changed):              {again.total} devices, {again_seconds:.2f} s, "
          f"{again.api_calls} calls")
    print(f"ratio first sync / bare client: time {first_seconds / bare_seconds:.2f}x, "
          f"calls {first.api_calls / bare_calls:.2f}x")
    print(f"ratio second sync / bare client: time {again_seconds / bare_seconds:.2f}x")


if __name__ == "__main__":
    main()
