"""The append-only guard exists where people run the portal: on a database migrated from zero by
`migrate` (nothing in the suite installs it), and the portal refuses to run without it."""

import pytest
from django.db import connection

from audit import triggers
from tests.support.processes import child_env, fresh_database, manage

RAW = """
from django.db import connection, DatabaseError
from audit.services import record
record("test.event", "succeeded", detail={"n": 1})
for sql in ("UPDATE audit_auditevent SET reason = 'rewritten'", "DELETE FROM audit_auditevent"):
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        print("ACCEPTED", sql)
    except DatabaseError as exc:
        print("REFUSED", sql, "|", exc)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM audit_auditevent WHERE reason = ''")
    print("ROWS", cursor.fetchone()[0])
"""
DROP = """
from django.db import connection
from audit import triggers
with connection.cursor() as cursor:
    for name in triggers.definitions(connection):
        cursor.execute(f"DROP TRIGGER {name}" + (" ON audit_auditevent" if connection.vendor == "postgresql" else ""))
print("dropped")
"""


@pytest.mark.django_db
def test_the_suites_own_database_got_the_guard_from_its_migrations():
    assert triggers.missing(connection) == []


@pytest.fixture
def fresh(tmp_path):
    with fresh_database(tmp_path) as url:
        env = child_env(DATABASE_URL=url)
        migrated = manage("migrate", "--no-input", env=env)
        assert migrated.returncode == 0, migrated.stderr
        yield env


@pytest.mark.django_db  # the suite's database is only read for its kind; the work is on a fresh one
def test_raw_update_and_delete_are_refused_after_migrate_from_zero(fresh):
    result = manage("shell", "-c", RAW, env=fresh)
    assert result.returncode == 0, result.stderr
    assert "ACCEPTED" not in result.stdout, result.stdout
    assert result.stdout.count("REFUSED") == 2 and "append-only" in result.stdout
    assert "ROWS 1" in result.stdout  # the row is still there, unchanged
    checked = manage("verify_audit", env=fresh)
    assert checked.returncode == 0 and "append-only guard in place" in checked.stdout, checked.stderr


@pytest.mark.django_db
def test_without_the_guard_check_verify_and_the_web_server_refuse(fresh):
    assert manage("check", env=fresh).returncode == 0
    assert manage("shell", "-c", DROP, env=fresh).returncode == 0  # what a table rebuild did to it

    check = manage("check", env=fresh)
    assert check.returncode != 0 and "audit.E001" in check.stderr and "not append-only" in check.stderr
    verify = manage("verify_audit", env=fresh)
    assert verify.returncode != 0 and "NOT APPEND-ONLY" in verify.stderr
    worker = manage("rqworker", "--burst", "default", env=fresh)
    assert worker.returncode != 0 and "audit.E001" in worker.stderr
    web = manage("shell", "-c", "import rescueportal.wsgi", env=fresh)
    assert web.returncode != 0 and "not append-only" in web.stderr

    assert manage("migrate", "--no-input", env=fresh).returncode != 0  # nothing runs on it, not even migrate

    # The way back the check's hint gives (migrating back would drop the seals' column).
    assert "restore_audit_guard" in check.stderr
    assert manage("restore_audit_guard", env=fresh).returncode == 0
    assert manage("check", env=fresh).returncode == 0 and manage("verify_audit", env=fresh).returncode == 0
    raw = manage("shell", "-c", RAW, env=fresh)
    assert raw.stdout.count("REFUSED") == 2 and "ACCEPTED" not in raw.stdout, raw.stdout


DISARM = """
from django.db import connection
with connection.cursor() as cursor:
    if connection.vendor == "sqlite":  # same names, but they never fire
        cursor.execute("DROP TRIGGER audit_no_update")
        cursor.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditevent WHEN 0 "
                       "BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only'); END")
    else:  # same triggers, a function that lets everything through
        cursor.execute("CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql "
                       "AS $$ BEGIN RETURN COALESCE(NEW, OLD); END $$")
print("disarmed")
"""


@pytest.mark.django_db
def test_triggers_of_the_right_name_that_do_nothing_are_no_guard(fresh):
    assert manage("shell", "-c", DISARM, env=fresh).returncode == 0

    check = manage("check", env=fresh)
    assert check.returncode != 0 and "missing or altered" in check.stderr
    verify = manage("verify_audit", env=fresh)
    assert verify.returncode != 0 and "NOT APPEND-ONLY" in verify.stderr

    assert manage("restore_audit_guard", env=fresh).returncode == 0
    raw = manage("shell", "-c", RAW, env=fresh)
    assert raw.stdout.count("REFUSED") == 2 and "ACCEPTED" not in raw.stdout, raw.stdout
