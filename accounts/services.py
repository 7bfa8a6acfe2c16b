"""Writes to users and the account."""

import secrets
from pathlib import Path

from django.db import transaction

from .models import User


@transaction.atomic
def ensure_account_owner(username: str, password_file: Path) -> tuple[User, str]:
    """The demo account's owner, created once; its password is kept in `password_file`.

    Running it again changes nothing (the password stays), so `make run` is idempotent.
    """
    password = password_file.read_text().strip() if password_file.exists() else ""
    user = User.objects.filter(is_account_owner=True).first() or User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, is_account_owner=True, first_name="Account", last_name="Owner")
    if not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    user.is_account_owner = True
    user.is_active = True
    user.save()
    return user, password
