"""The database unavailable for a moment: pages say so plainly (503), nothing is half-written, and
jobs that hit it are tried again by RQ until the operation finishes."""

import contextlib
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.factories import OwnerFactory
from tests.support.operations import wait_for
from tests.support.processes import start_worker, stop
from workflows import services
from workflows.models import Operation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]


@contextlib.contextmanager
def database_unreachable_here():
    """This process's next connections fail as if the server were gone (a path or port that answers nothing)."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/rescueportal/db.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def test_pages_say_the_database_is_down_and_change_nothing(sim, guest):
    client = Client(raise_request_exception=False)
    client.force_login(OwnerFactory())
    with database_unreachable_here():
        page = client.get(reverse("devices:list"))
        asked = client.post(reverse("workflows:rescue", args=[guest.pk]), {"reason": "db down"})

    for response in (page, asked):
        assert response.status_code == 503 and response["Retry-After"] == "30"
        body = response.content.decode()
        assert "database is unavailable" in body and "nothing was half-done" in body.lower()
        assert response["X-Frame-Options"] == "DENY" and "default-src" in response["Content-Security-Policy"]
    assert not Operation.objects.exists()
    assert client.get(reverse("devices:list")).status_code == 200  # back as soon as it is


@contextlib.contextmanager
def database_unreachable_for_children(tmp_path: Path):
    """Yields (child DATABASE_URL, cut, restore): child processes lose the database between cut and restore."""
    if connection.vendor == "sqlite":
        real = Path(connection.settings_dict["NAME"])
        link = tmp_path / "db-dir"
        link.symlink_to(real.parent)

        def cut():
            link.unlink()
            link.symlink_to(tmp_path / "gone")  # dangling: opening the database fails

        def restore():
            link.unlink()
            link.symlink_to(real.parent)

        yield f"sqlite:///{link / real.name}", cut, restore
        return
    import psycopg

    db = connection.settings_dict
    name = db["NAME"]
    # From the maintenance database: PostgreSQL will not close the database one is connected to.
    admin = psycopg.connect(dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
                            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, autocommit=True)

    def cut():
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND pid <> %s", [name, connection.connection.info.backend_pid])

    def restore():
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    from tests.support.processes import database_url

    try:
        yield database_url(), cut, restore
    finally:
        restore()
        admin.close()


def test_jobs_that_hit_a_database_outage_are_tried_again(sim, guest, tmp_path):
    op = services.request_operation(OwnerFactory(), guest, Operation.Kind.RESCUE)  # queued, no worker yet
    with database_unreachable_for_children(tmp_path) as (url, cut, restore):
        cut()
        worker = start_worker(tmp_path / "worker.log", DATABASE_URL=url)
        try:
            deadline = time.monotonic() + 30
            while "OperationalError" not in worker.log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "OperationalError" in worker.log_path.read_text()  # the job met the outage
            op.refresh_from_db()
            assert op.state == "queued"  # and changed nothing
            restore()
            op = wait_for(op, "in_rescue", "failed", timeout=60)
        finally:
            stop(worker)
    assert op.state == "in_rescue" and sim.transactions_started("virtual", guest.provider_id) == 1
