import factory
from factory import fuzzy

from accounts.models import User
from devices.models import Device


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class OwnerFactory(UserFactory):
    username = "owner"
    is_account_owner = True


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    kind = Device.Kind.VIRTUAL
    provider_id = factory.Sequence(lambda n: 80_000_000 + n)
    hostname = factory.Sequence(lambda n: f"host-{n:05d}")
    domain = "example.com"
    fqdn = factory.LazyAttribute(lambda d: f"{d.hostname}.{d.domain}")
    datacenter = fuzzy.FuzzyChoice(["dal10", "fra02", "lon06"])
    public_ip = factory.Sequence(lambda n: f"169.45.{n // 250 % 250}.{n % 250 + 1}")
    private_ip = factory.Sequence(lambda n: f"10.0.{n // 250 % 250}.{n % 250 + 1}")
    os_name = "Ubuntu 22.04-64 Minimal"
    os_reference_code = "UBUNTU_22_64"
    os_family = Device.OsFamily.LINUX
    memory_mb = 8192
    cpus = 4
    power_state = Device.Power.ON


def grant(user, *keys: str, devices=(), roles=()):
    """Give a user capabilities, device access and roles (test set-up, bypassing the pages)."""
    from accounts.models import Capability, Role

    user.capabilities.add(*Capability.objects.filter(key__in=keys))
    user.devices.add(*devices)
    user.roles.add(*Role.objects.filter(name__in=roles))
    return user


def totp_code(device, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for `device` now (or `steps_ahead` 30-second steps on:
    a code is accepted once, and the portal accepts the next step's code too)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol_authenticator(client):
    """Set up an authenticator app for the client's user through the pages, as a person does;
    returns (the device, the recovery codes shown)."""
    import re

    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page = client.get(reverse("authenticator_add"))
    assert page.status_code == 200, page.status_code
    device = TOTPDevice.objects.get(pk=client.session["pending_totp"])
    done = client.post(reverse("authenticator_add"), {"code": totp_code(device)})
    assert done.status_code in (200, 302), done.content[:500]
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode()) if done.status_code == 200 else []
    device.refresh_from_db()
    return device, codes


def api_token(user, *scopes: str, days: int = 30) -> str:
    """A personal access token for `user`, made by the same service as the API tokens page."""
    from api import services

    return services.create_token(user, name="test", days=days, scopes=list(scopes))[1]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
