from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import ensure_account_owner


class Command(BaseCommand):
    help = "Create the demo account's owner (idempotent) and print the login."

    def handle(self, *args, **options) -> None:
        user, password = ensure_account_owner("owner", settings.VAR_DIR / "demo_owner_password")
        self.stdout.write(f"Account owner: username {user.username}  password {password}")
