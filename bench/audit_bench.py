"""Audit review at scale: page times and export memory at 10,000 and at N (default 1,000,000) events.

    .venv/bin/python bench/audit_bench.py [--events 1000000]

One scratch database (SQLite, or DATABASE_URL), one run: the trail is built to 10,000 events and
measured, then grown to N and measured again; the output gives each figure at both sizes and the
ratio between them (close to 1 means the page does not slow down as the trail grows).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="rp-audit-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.update({"VAR_DIR": str(workdir), "DJANGO_SETTINGS_MODULE": "rescueportal.settings",
                       "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from audit.models import AuditEvent
    from tests.factories import DeviceFactory
    from tests.support.audit_trail import bulk_trail

    call_command("migrate", verbosity=0)
    owner = User.objects.create(username="bench-owner", is_account_owner=True)
    devices = [DeviceFactory(hostname=f"bench-{i}") for i in range(20)]
    client = Client()
    client.force_login(owner)
    log = reverse("audit:log")
    pages = {
        "newest page": {},
        "event + outcome filter": {"event": "device.rescue", "outcome": "failed"},
        "device filter": {"device": "bench-7"},
        "text search": {"q": "lost ssh key"},
        "deep page, keyset": None,  # filled in per size
    }

    def measure() -> dict[str, float]:
        total = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        pages["deep page, keyset"] = {"before": total // 2}
        times = {}
        for name, params in pages.items():
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                assert client.get(log, params).status_code == 200
                runs.append(time.perf_counter() - started)
            times[name] = statistics.median(runs)
        tracemalloc.start()
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in client.get(reverse("audit:export_csv")).streaming_content)
        times["export all (s)"] = time.perf_counter() - started
        times["export peak memory (MB)"] = tracemalloc.get_traced_memory()[1] / 1e6
        times["export size (MB)"] = size / 1e6
        tracemalloc.stop()
        return times

    started = time.perf_counter()
    bulk_trail(10_000, devices=devices)
    small = measure()
    bulk_trail(args.events - AuditEvent.objects.count(), devices=devices, seed=2)
    print(f"built {AuditEvent.objects.count():,} events in {time.perf_counter() - started:.0f} s "
          f"({os.environ['DATABASE_URL'].split(':')[0]})")
    big = measure()
    print(f"{'':28} {'10,000 events':>14} {f'{args.events:,} events':>18} {'ratio':>7}")
    for name in small:
        unit = "" if "(" in name else " s"
        print(f"{name:28} {small[name]:>12.3f}{unit:2} {big[name]:>16.3f}{unit:2} {big[name] / small[name]:>7.2f}")


if __name__ == "__main__":
    main()
