"""Audit review at two sizes of trail, side by side.

    .venv/bin/python bench/audit_bench.py [--small 1000] [--big 100000] [--rescues-small 100] [--rescues-big 10000]

Builds two scratch databases (SQLite, or PostgreSQL when BENCH_DATABASE_URL names a server: two
databases are made there), one per size, then measures each page in its own process, the sizes
alternated over three rounds; prints the median of each and the ratio big / small.
Each figure inside a round is itself the median of 9 requests after 3 warm-up requests.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, Table, in_subprocess, side_by_side  # noqa: E402

RARE = "needle-4242"  # the reason of one event in each trail


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ.update({"DATABASE_URL": database_url, "VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE":
                       "rescueportal.settings", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver"})
    import django

    django.setup()


def build(database_url: str, var_dir: str, events: int, rescues: int) -> None:
    setup_django(database_url, var_dir)
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command

    from accounts.models import User
    from audit.models import AuditEvent
    from audit.services import record
    from tests.factories import DeviceFactory
    from tests.support.audit_trail import bulk_trail
    from workflows.models import Operation

    call_command("migrate", verbosity=0)
    owner = User.objects.create(username="bench-owner", is_account_owner=True)
    devices = [DeviceFactory(hostname=f"bench-{i}") for i in range(20)]
    bulk_trail(events - 1 - AuditEvent.objects.count(), devices=devices)
    record("device.rescue", "failed", actor=owner, reason=RARE)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [Operation(device=devices[i % 20], requested_by=owner, kind="rescue", state="exited",
                      deadline_at=start, finished_at=start + timedelta(minutes=i, seconds=30),
                      exited_at=start + timedelta(minutes=i + 1), reason="bench")
            for i in range(rescues)]
    Operation.objects.bulk_create(rows, batch_size=2000)  # created_at: now; the pages go by id
    from django.db import connection

    if connection.vendor == "postgresql":  # the statistics autovacuum keeps on a live server, before measuring
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def measure(database_url: str, var_dir: str) -> dict:
    setup_django(database_url, var_dir)
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from audit.models import AuditEvent
    from bench.common import timed
    from workflows.models import Operation

    client = Client()
    client.force_login(User.objects.get(username="bench-owner"))
    log, rescues = reverse("audit:log"), reverse("audit:rescues")
    # The day of the trail's middle event: a full page of that day on both sides (the middle of the
    # calendar could be a day with no event, an empty page that says nothing of the range).
    events = AuditEvent.objects.count()
    middle = AuditEvent.objects.order_by("seq").values_list("created_at", flat=True)[events // 2].date()
    ops = list(Operation.objects.order_by("pk").values_list("pk", flat=True))

    def get(url, params):
        def run():
            assert client.get(url, params).status_code == 200
        return run

    return {
        "log newest page": timed(get(log, {})),
        "log date range (one day)": timed(get(log, {"since": middle.isoformat(), "until": middle.isoformat()})),
        "log rare text": timed(get(log, {"q": RARE})),
        "past rescues first page": timed(get(rescues, {})),
        "past rescues deep page": timed(get(rescues, {"before": ops[len(ops) // 2]})),
        "past rescues last page": timed(get(rescues, {"before": ops[min(50, len(ops) - 1)]})),
        "events": events, "operations": len(ops),
        "events that day": AuditEvent.objects.filter(created_at__date=middle).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--rescues-small", type=int, default=100)
    parser.add_argument("--rescues-big", type=int, default=10_000)
    parser.add_argument("--build", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.build[0], args.build[1], int(args.build[2]), int(args.build[3]))
        print(json.dumps({}))
        return
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return

    workdir = Path(tempfile.mkdtemp(prefix="rp-audit-bench-"))
    server = os.environ.get("BENCH_DATABASE_URL", "").rstrip("/")
    sides = {}
    for name, events, ops in (("small", args.small, args.rescues_small), ("big", args.big, args.rescues_big)):
        var_dir = workdir / name
        var_dir.mkdir()
        url = fresh_postgres_database(server, f"rp_audit_bench_{name}") if server else \
            f"sqlite:///{var_dir / 'bench.sqlite3'}"
        in_subprocess("audit_bench.py", "--build", url, str(var_dir), str(events), str(ops))
        sides[name] = (url, str(var_dir))
    small, big = side_by_side(lambda: in_subprocess("audit_bench.py", "--measure", *sides["small"]),
                              lambda: in_subprocess("audit_bench.py", "--measure", *sides["big"]))
    table = Table("Audit review: small trail (A) and big trail (B)",
                  f"{'PostgreSQL' if server else 'SQLite'}; {small['events']:,.0f} / {big['events']:,.0f} events, "
                  f"{small['operations']:,.0f} / "
                  f"{big['operations']:,.0f} operations; the one-day range is the day of the middle event "
                  f"({small['events that day']:,.0f} / {big['events that day']:,.0f} events that day, a full page "
                  "either way); median of 3 rounds (sizes alternated), each the median of 9 requests after 3 warm-up "
                  "requests.")
    goals = {"log date range (one day)": 1.5, "log rare text": 2.0, "past rescues first page": 1.5,
             "past rescues deep page": 1.5, "past rescues last page": 1.5, "log newest page": 1.5}
    for name, goal in goals.items():
        table.add(name, "small", small[name], "big", big[name], goal=goal)
    print(table.markdown())
    with RESULTS.open("a") as out:
        out.write(table.markdown() + "\n")


def fresh_postgres_database(server: str, name: str) -> str:
    """An empty database `name` on the server of BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


if __name__ == "__main__":
    main()
