from django.core.management.base import BaseCommand, CommandError

from accounts import services


class Command(BaseCommand):
    help = "Create the account owner of a new deployment and print a one-time password (changed at first sign-in)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        try:
            user, password = services.create_account_owner(username)
        except (services.OwnerExists, services.UsernameTaken) as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"Account owner {user.username} created. One-time password: {password}\n"
                          "Sign in with it; the portal asks for a new password at once.")
