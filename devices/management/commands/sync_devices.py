from django.core.management.base import BaseCommand, CommandError

from devices.provider import ProviderError
from devices.services import sync_devices


class Command(BaseCommand):
    help = "Mirror the SoftLayer account's virtual servers and bare metal servers into the portal."

    def handle(self, *args, **options) -> None:
        try:
            run = sync_devices()
        except ProviderError as exc:
            raise CommandError(f"Inventory sync failed: {exc.message}") from exc
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            f"Synced {run.total} devices in {seconds:.1f}s with {run.api_calls} API calls: "
            f"{run.created} new, {run.updated} changed, {run.vanished} vanished, {run.restored} back."
        )
