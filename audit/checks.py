"""System check audit.E001: the portal does not run on an audit table that accepts UPDATE or DELETE.

`manage.py check`, every management command (workers, cron, `rundemo`) and the web server
(rescueportal.wsgi) run it.
"""

from django.core.checks import Error, Warning, register
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader

from . import triggers

TAG = "audit"


def _audit_migrations_pending() -> bool:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return any(node not in loader.applied_migrations for node in loader.graph.leaf_nodes("audit"))


@register(TAG)
def append_only_guard(app_configs=None, **kwargs):
    try:
        if not triggers.table_exists(connection):
            return []  # nothing migrated yet: `migrate` creates the table and its guard
        missing = triggers.missing(connection)
        if not missing or _audit_migrations_pending():
            return []  # whole, or a pending migration will put it back (`migrate` must be able to run)
    except DatabaseError as exc:
        return [Warning(f"The audit trail's append-only guard could not be checked: {exc}", id="audit.W001")]
    return [Error(
        f"The audit trail is not append-only: the database triggers {', '.join(missing)} are missing or altered "
        f"on {triggers.TABLE}, so audit rows could be changed or deleted.",
        hint="A migration that rebuilt the table dropped them, or someone with database access dropped or altered "
             "them. Put them back with `python manage.py restore_audit_guard`, then run `python manage.py "
             "verify_audit`. A new migration that rebuilds the table must install them itself "
             "(audit.triggers.install).",
        id="audit.E001",
    )]


def refuse_without_guard() -> None:
    """For processes that run no system checks (the WSGI server): stop at start, with the reason."""
    from django.core.exceptions import ImproperlyConfigured

    errors = [e for e in append_only_guard() if e.is_serious()]
    if errors:
        raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")
