"""On PostgreSQL, a trigram index over the text the audit search reads (the reason and the details),
so a rare term is found by index at any depth of the trail. SQLite has no such index: there the
search reads every row (the README says so)."""

import logging

from django.db import migrations, transaction

log = logging.getLogger(__name__)

# audit.selectors.SEARCH_EXPRESSION, unqualified: an index serves only the expression it was made on
# (a test asks PostgreSQL's planner to use it).
SEARCH_EXPRESSION = "(reason || ' ' || detail::text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint to fall back to
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception as exc:  # a role that may not create extensions: search works, unindexed
                log.warning("pg_trgm could not be installed (%s): the audit search will read every row", exc)
                return
        cursor.execute(f"CREATE INDEX IF NOT EXISTS audit_search_trgm_idx ON audit_auditevent "
                       f"USING gin ({SEARCH_EXPRESSION} gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS audit_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_reveals_in_range_index")]

    operations = [migrations.RunPython(create, drop)]
