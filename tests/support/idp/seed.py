"""Set up the test IdP: `python -m tests.support.idp.seed REDIRECT_URI USER:PASSWORD:EMAIL:GROUP,GROUP …`
prints the client id and secret."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.idp.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oidc_provider.models import Client, ResponseType  # noqa: E402


def main(redirect_uri: str, people: list[str]) -> None:
    call_command("migrate", verbosity=0)
    call_command("creatersakey")
    for person in people:
        username, password, email, groups = person.split(":")
        user = User.objects.create_user(username, email=email, password=password, first_name=username.title())
        for name in filter(None, groups.split(",")):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    client = Client.objects.create(name="Rescue Portal", client_id="rescue-portal", client_secret="s3cret-for-tests",
                                   client_type="confidential", redirect_uris=[redirect_uri], require_consent=False,
                                   jwt_alg="RS256", scope=["openid", "email", "profile", "groups"])
    client.response_types.add(ResponseType.objects.get(value="code"))
    print(client.client_id, client.client_secret)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
