from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit import triggers
from audit.integrity import NoSuchEvent, check


class Command(BaseCommand):
    help = ("Check the audit trail's hash chain, its seals, its signed head and its append-only guard; "
            "exit non-zero and say what is wrong.")
    requires_system_checks = []  # it reports a missing guard itself, beside the chain's verdict

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=int, default=1, help="start at this event number (seq)")

    def handle(self, *args, **options) -> None:
        try:
            verdict, digests = check(max(1, options["since"]), strict_start=True)
        except NoSuchEvent as exc:
            raise CommandError(str(exc)) from None
        if not verdict.intact:
            raise CommandError(
                f"Audit trail BROKEN at event {verdict.broken_seq} (row id {verdict.broken_id}): {verdict.problem}. "
                f"Intact up to event {verdict.last_seq}.")
        missing = triggers.missing(connection)
        if missing:
            raise CommandError(f"Audit trail NOT APPEND-ONLY: the triggers {', '.join(missing)} are missing or altered "
                               f"on {triggers.TABLE}, so rows can be changed or deleted (`manage.py "
                               f"restore_audit_guard` puts them back). The chain is intact up to event "
                               f"{verdict.last_seq}.")
        if not digests.intact:
            raise CommandError(f"Audit trail BROKEN: {digests.problem}.")
        unsigned = (f"; NOT YET SIGNED: {digests.not_yet_signed} event{'s' if digests.not_yet_signed != 1 else ''} "
                    f"after the signed head (each sealed)" if digests.not_yet_signed else "")
        older = (f"; {verdict.unsealed} older events from before seals, vouched for by the digests only"
                 if verdict.unsealed else "")
        if digests.restarted_at:
            older += (f"; WARNING: the signed head was started again at event {digests.restarted_at} (its file was "
                      f"missing): events before it are vouched for by their seals only")
        self.stdout.write(f"Audit trail intact up to event {verdict.last_seq} "
                          f"({verdict.checked} checked, head {verdict.head_hash[:16]}…; signed head at event "
                          f"{digests.signed_seq}{unsigned}; {digests.checked} dated digests match{older}; "
                          f"append-only guard in place).")
