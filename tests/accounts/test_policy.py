"""devices_for and can: the one policy, checked directly and against a reference model."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import capabilities as caps
from accounts import policy
from accounts.models import Capability, Role
from devices.models import Device
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_owner_sees_and_may_do_everything():
    owner = OwnerFactory()
    devices = [*DeviceFactory.create_batch(3), DeviceFactory(kind="bare_metal")]
    assert set(policy.devices_for(owner)) == set(devices)
    assert all(policy.can(owner, key, devices[0]) for key in caps.ALL_KEYS)


def test_user_sees_only_devices_granted_to_them():
    user = UserFactory()
    mine, other = DeviceFactory(), DeviceFactory()
    grant(user, devices=[mine])
    assert list(policy.devices_for(user)) == [mine]
    assert not policy.can_see(user, other)


def test_full_access_flags_cover_their_kind_only():
    guest, metal = DeviceFactory(kind="virtual"), DeviceFactory(kind="bare_metal")
    assert list(policy.devices_for(grant(UserFactory(), caps.ACCESS_ALL_GUEST))) == [guest]
    assert list(policy.devices_for(grant(UserFactory(), caps.ACCESS_ALL_HARDWARE))) == [metal]


def test_capability_needs_device_access_too():
    user, device = UserFactory(), DeviceFactory()
    grant(user, caps.SERVER_RELOAD)
    assert policy.can(user, caps.SERVER_RELOAD) and not policy.can(user, caps.SERVER_RELOAD, device)
    grant(user, devices=[device])
    policy.forget(user)
    assert policy.can(user, caps.SERVER_RELOAD, device)


def test_roles_give_their_capabilities():
    user = grant(UserFactory(), roles=["Operator"])
    assert policy.capabilities_of(user) == {caps.SERVER_RELOAD, caps.REMOTE_MANAGEMENT,
                                            caps.VIEW_CUSTOMER_SOFTWARE_PASSWORD}


def test_inactive_and_anonymous_users_get_nothing():
    from django.contrib.auth.models import AnonymousUser

    user = grant(UserFactory(is_active=False), caps.ACCESS_ALL_GUEST, caps.SERVER_RELOAD)
    DeviceFactory()
    assert not policy.devices_for(user).exists() and not policy.can(user, caps.SERVER_RELOAD)
    assert not policy.devices_for(AnonymousUser()).exists()


def test_unknown_capability_is_a_programming_error():
    with pytest.raises(ValueError):
        policy.can(OwnerFactory(), "MAKE_COFFEE")


def test_revoked_access_stops_the_very_next_request(client):
    user, device = UserFactory(), DeviceFactory()
    grant(user, caps.SERVER_RELOAD, devices=[device])
    client.force_login(user)
    page = reverse("devices:detail", args=[device.pk])
    assert 'data-action="rescue" data-permitted="yes"' in client.get(page).content.decode()

    user.capabilities.clear()
    assert 'data-action="rescue" data-permitted="no"' in client.get(page).content.decode()
    user.devices.clear()
    assert client.get(page).status_code == 404


# --- property: the policy never allows what a small reference model denies ----------------------

DEVICE_KINDS = ["virtual", "virtual", "bare_metal"]
KEYS = sorted(caps.ALL_KEYS)
ROLE_NAMES = ["Viewer", "Operator", "Auditor", "User manager"]
user_plan = st.fixed_dictionaries({
    "active": st.booleans(),
    "caps": st.sets(st.sampled_from(KEYS), max_size=4),
    "roles": st.sets(st.sampled_from(ROLE_NAMES), max_size=2),
    "devices": st.sets(st.integers(0, len(DEVICE_KINDS) - 1), max_size=3),
    "revoke_caps": st.sets(st.sampled_from(KEYS), max_size=2),
    "revoke_devices": st.sets(st.integers(0, len(DEVICE_KINDS) - 1), max_size=2),
})


def reference_allows(plan: dict, role_caps: dict[str, set[str]], key: str | None, index: int | None) -> bool:
    if not plan["active"]:
        return False
    # Revoking a direct capability leaves what the user's roles give.
    held = (plan["caps"] - plan["revoke_caps"]) | set().union(*(role_caps[r] for r in plan["roles"]))
    if key is not None and key not in held:
        return False
    if index is None:
        return True
    kind = DEVICE_KINDS[index]
    devices = plan["devices"] - plan["revoke_devices"]
    return (index in devices or (kind == "virtual" and caps.ACCESS_ALL_GUEST in held)
            or (kind == "bare_metal" and caps.ACCESS_ALL_HARDWARE in held))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(user_plan, min_size=1, max_size=3))
def test_policy_matches_the_reference_model(plans):
    devices = [DeviceFactory(kind=kind) for kind in DEVICE_KINDS]
    role_caps = {r.name: set(r.capabilities.values_list("key", flat=True)) for r in Role.objects.all()}
    try:
        for plan in plans:
            user = UserFactory(is_active=plan["active"])
            user.capabilities.set(Capability.objects.filter(key__in=plan["caps"]))
            user.roles.set(Role.objects.filter(name__in=plan["roles"]))
            user.devices.set([devices[i] for i in plan["devices"]])
            user.capabilities.remove(*Capability.objects.filter(key__in=plan["revoke_caps"]))
            user.devices.remove(*[devices[i] for i in plan["revoke_devices"]])
            policy.forget(user)

            visible = {devices.index(d) for d in policy.devices_for(user)}
            assert visible == {i for i in range(len(devices)) if reference_allows(plan, role_caps, None, i)}
            for key in KEYS:
                assert policy.can(user, key) == reference_allows(plan, role_caps, key, None)
                for i, device in enumerate(devices):
                    assert policy.can(user, key, device) == reference_allows(plan, role_caps, key, i)
    finally:
        Device.objects.all().delete()
