from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import ensure_account_owner
from demo.seed import seed_users


class Command(BaseCommand):
    help = "Create the demo account's owner and users (idempotent; run after sync_devices) and print the logins."

    def handle(self, *args, **options) -> None:
        user, password = ensure_account_owner("owner", settings.VAR_DIR / "demo_owner_password")
        self.stdout.write(f"Account owner: username {user.username}  password {password}")
        for name, secret, what in seed_users(settings.VAR_DIR):
            self.stdout.write(f"  username {name:<17} password {secret}  ({what})")
