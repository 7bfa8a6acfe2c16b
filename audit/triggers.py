"""Database triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit rows.

Migrations own them (0002 made them; 0004 puts back the ones SQLite lost when 0003 rebuilt the
table). A migration that rebuilds `audit_auditevent` must install them again: the `audit.E001`
system check (audit.checks) refuses to let the portal run without them.
"""

TABLE = "audit_auditevent"
MESSAGE = "audit_auditevent is append-only"

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_UNINSTALL = ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"]

POSTGRES_INSTALL = [
    # TRUNCATE of an empty table removes no row, so it is let through (Django's flush sends one).
    f"""CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM {TABLE}) THEN RETURN NULL; END IF;
          RAISE EXCEPTION '{MESSAGE}';
        END $$""",
    f"CREATE OR REPLACE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    f"CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
]
POSTGRES_UNINSTALL = [f"DROP TRIGGER IF EXISTS audit_no_change ON {TABLE}",
                      f"DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE}"]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_UNINSTALL
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_UNINSTALL
    raise NotImplementedError(f"No append-only triggers for {vendor}")


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, True):
            cursor.execute(sql)


def uninstall(connection) -> None:
    """Only for reversing the migration."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, False):
            cursor.execute(sql)


def definitions(connection) -> dict[str, str]:
    """The triggers on the audit table as the database holds them: name → the SQL that creates it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c "
                           "ON c.oid = t.tgrelid WHERE c.relname = %s AND NOT t.tgisinternal", [TABLE])
        else:
            raise NotImplementedError(f"No append-only triggers for {connection.vendor}")
        return dict(cursor.fetchall())


def _normal(sql: str) -> str:
    return " ".join(sql.replace("public.", "").replace("IF NOT EXISTS ", "").replace("OR REPLACE ", "").split())


# What each trigger must be, word for word: a trigger of the right name that does nothing (a
# `WHEN (false)`, another body) is no guard.
EXPECTED = {
    "sqlite": {name: _normal(sql) for name, sql in zip(("audit_no_update", "audit_no_delete"), SQLITE_INSTALL,
                                                       strict=True)},
    "postgresql": {
        "audit_no_change": _normal(f"CREATE TRIGGER audit_no_change BEFORE DELETE OR UPDATE ON {TABLE} "
                                   "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"),
        "audit_no_truncate": _normal(f"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE} "
                                     "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"),
    },
}
POSTGRES_FUNCTION_BODY = _normal(POSTGRES_INSTALL[0].split("$$")[1])


def missing(connection) -> list[str]:
    """The guard's triggers that are not on the table as the migrations made them, missing or
    altered (empty when the guard is whole)."""
    expected = EXPECTED.get(connection.vendor, {})
    present = {name: _normal(sql) for name, sql in definitions(connection).items()}
    wrong = {name for name, sql in expected.items() if present.get(name) != sql}
    if connection.vendor == "postgresql" and _postgres_function_body(connection) != POSTGRES_FUNCTION_BODY:
        wrong |= set(expected)  # both triggers call it
    return sorted(wrong)


def _postgres_function_body(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'audit_append_only'")
        row = cursor.fetchone()
    return _normal(row[0]) if row else ""


def table_exists(connection) -> bool:
    with connection.cursor() as cursor:
        return TABLE in connection.introspection.table_names(cursor)
