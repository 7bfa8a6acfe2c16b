from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit import triggers
from audit.chain import GENESIS, verify
from audit.digest import verify_digests
from audit.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and its append-only guard; exit non-zero and say what is wrong."
    requires_system_checks = []  # it reports a missing guard itself, beside the chain's verdict

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=int, default=1, help="start at this event number (seq)")

    def handle(self, *args, **options) -> None:
        since = max(1, options["since"])
        prev_hash = GENESIS
        if since > 1:
            before = AuditEvent.objects.filter(seq=since - 1).values_list("hash", flat=True).first()
            if before is None:
                raise CommandError(f"There is no event {since - 1} to start from.")
            prev_hash = before
        rows = AuditEvent.objects.filter(seq__gte=since).order_by("seq").iterator(chunk_size=2000)
        verdict = verify(rows, prev_hash, since)
        if not verdict.intact:
            raise CommandError(
                f"Audit trail BROKEN at event {verdict.broken_seq} (row id {verdict.broken_id}): {verdict.problem}. "
                f"Intact up to event {verdict.last_seq}.")
        missing = triggers.missing(connection)
        if missing:
            raise CommandError(f"Audit trail NOT APPEND-ONLY: the triggers {', '.join(missing)} are missing from "
                               f"{triggers.TABLE}, so rows can be changed or deleted (`manage.py check` says how to "
                               f"put them back). The chain is intact up to event {verdict.last_seq}.")
        digests = verify_digests()
        if not digests.intact:
            raise CommandError(f"Audit trail BROKEN: {digests.problem}.")
        self.stdout.write(f"Audit trail intact up to event {verdict.last_seq} "
                          f"({verdict.checked} checked, head {verdict.head_hash[:16]}…; "
                          f"{digests.checked} signed digests match; append-only guard in place).")
