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
