from django.core.management.base import BaseCommand
from django.db import connection

from audit import triggers


class Command(BaseCommand):
    help = ("Put back the audit trail's append-only triggers exactly as the migrations made them (after a "
            "table rebuild dropped them, or someone altered them); then run verify_audit.")
    requires_system_checks = []  # it is the way back from audit.E001

    def handle(self, *args, **options) -> None:
        before = triggers.missing(connection)
        triggers.uninstall(connection)  # altered ones too: CREATE … IF NOT EXISTS would keep them
        triggers.install(connection)
        left = triggers.missing(connection)
        if left:
            self.stderr.write(f"Still missing or altered: {', '.join(left)}.")
            raise SystemExit(1)
        self.stdout.write(f"Append-only guard restored ({', '.join(before) or 'it was already whole'}); "
                          "now run `python manage.py verify_audit`.")
