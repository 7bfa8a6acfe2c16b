"""Manage Users: what managers may change, every refusal audited, nothing changed on refusal."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts import capabilities as caps
from accounts import services
from accounts.models import Role, User
from audit.models import AuditEvent
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    """A user manager who holds the Operator permissions and sees every virtual server."""
    return grant(UserFactory(username="manager"), caps.ACCESS_ALL_GUEST, roles=["User manager", "Operator"])


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def target():
    return UserFactory(username="target")


def grants_of(user: User) -> tuple:
    user = User.objects.get(pk=user.pk)
    return (sorted(user.capabilities.values_list("key", flat=True)), sorted(user.roles.values_list("name", flat=True)),
            sorted(user.devices.values_list("pk", flat=True)), user.is_active, user.is_account_owner)


def denied_rows(event_prefix: str = "") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(outcome="denied", event__startswith=event_prefix))


def test_manager_grants_a_permission_they_hold(manager_client, manager, target):
    response = manager_client.post(reverse("accounts:capabilities", args=[target.pk]),
                                   {"capabilities": [caps.SERVER_RELOAD]}, follow=True)

    assert "granted OS Reloads and Rescue Kernel" in response.content.decode()
    assert grants_of(target)[0] == [caps.SERVER_RELOAD]
    row = AuditEvent.objects.get(event="user.permission.grant", outcome="succeeded")
    assert row.actor == manager and row.object_label == "target"
    assert row.detail["before"] == [] and row.detail["after"] == [caps.SERVER_RELOAD]


def test_manager_grants_and_removes_device_access(manager_client, target):
    one, two = DeviceFactory(), DeviceFactory()
    url = reverse("accounts:devices", args=[target.pk])
    manager_client.post(url, {"action": "add", "devices": [one.pk, two.pk]})
    assert grants_of(target)[2] == sorted([one.pk, two.pk])
    manager_client.post(url, {"action": "remove", "devices": [one.pk]})
    assert grants_of(target)[2] == [two.pk]
    assert AuditEvent.objects.filter(event="user.device_access.grant", outcome="succeeded").count() == 2
    assert AuditEvent.objects.get(event="user.device_access.revoke").device_id == one.pk


@pytest.mark.parametrize("attempt", [
    "capability_not_held", "role_not_held", "device_not_visible", "own_capabilities", "own_devices",
    "owner_capabilities", "owner_deactivate", "self_deactivate", "create_with_role_not_held",
    "deactivate_the_auditor", "reactivate_the_auditor",
])
def test_escalation_attempts_are_refused_audited_and_change_nothing(manager_client, manager, target, attempt):
    owner = OwnerFactory()
    hidden_metal = DeviceFactory(kind="bare_metal")  # the manager sees virtual servers only
    auditor = grant(UserFactory(username="auditor-x"), roles=["Auditor"])  # holds View Event Log; the manager not
    parked = grant(UserFactory(username="parked", is_active=False), roles=["Auditor"])
    posts = {
        "deactivate_the_auditor": ("status", auditor, {"active": "0"}),
        "reactivate_the_auditor": ("status", parked, {"active": "1"}),
        "capability_not_held": ("capabilities", target, {"capabilities": [caps.USER_EVENT_LOG_VIEW]}),
        "role_not_held": ("roles", target, {"roles": [Role.objects.get(name="Auditor").pk]}),
        "device_not_visible": ("devices", target, {"action": "add", "devices": [hidden_metal.pk]}),
        "own_capabilities": ("capabilities", manager, {"capabilities": [caps.SERVER_RELOAD]}),
        "own_devices": ("devices", manager, {"action": "add", "devices": [DeviceFactory().pk]}),
        "owner_capabilities": ("capabilities", owner, {"capabilities": []}),
        "owner_deactivate": ("status", owner, {"active": "0"}),
        "self_deactivate": ("status", manager, {"active": "0"}),
        "create_with_role_not_held": ("create", None, {"username": "sneaky", "password": "a-long-passphrase-42",
                                                       "role": Role.objects.get(name="Auditor").pk}),
    }
    view, victim, data = posts[attempt]
    before = {u.pk: grants_of(u) for u in (manager, target, owner, auditor, parked)}
    url = reverse(f"accounts:{view}", args=[victim.pk]) if victim else reverse("accounts:create")

    response = manager_client.post(url, data)

    assert response.status_code == 403
    assert {u.pk: grants_of(u) for u in (manager, target, owner, auditor, parked)} == before
    assert not User.objects.filter(username="sneaky").exists()
    row = AuditEvent.objects.get(outcome="denied")
    assert row.actor == manager and row.reason in response.content.decode()


def test_extra_form_fields_do_not_reach_the_user(manager_client, target):
    manager_client.post(reverse("accounts:capabilities", args=[target.pk]), {
        "capabilities": [caps.SERVER_RELOAD], "is_account_owner": "1", "is_superuser": "1", "is_staff": "1",
        "roles": [Role.objects.get(name="Auditor").pk]})
    target.refresh_from_db()
    assert (target.is_account_owner, target.is_superuser, target.is_staff) == (False, False, False)
    assert grants_of(target)[:2] == ([caps.SERVER_RELOAD], [])


def test_users_without_manage_users_are_refused_and_audited(client, target):
    operator = grant(UserFactory(), caps.ACCESS_ALL_GUEST, roles=["Operator"])
    client.force_login(operator)
    assert client.get(reverse("accounts:list")).status_code == 403
    response = client.post(reverse("accounts:capabilities", args=[target.pk]), {"capabilities": []})
    assert response.status_code == 403 and "Manage Users" in response.content.decode()
    # the refused page and the refused change are both on record, as for every refused page
    assert sorted(r.event for r in denied_rows()) == ["user.permission.grant", "user.view"]


def test_unknown_permission_key_changes_nothing(manager_client, target):
    response = manager_client.post(reverse("accounts:capabilities", args=[target.pk]),
                                   {"capabilities": ["GOD_MODE"]}, follow=True)
    assert "Nothing was changed" in response.content.decode()
    assert grants_of(target)[0] == []


def test_unknown_user_and_device_ids(manager_client, target):
    assert manager_client.post(reverse("accounts:capabilities", args=[999999]), {}).status_code == 404
    response = manager_client.post(reverse("accounts:devices", args=[target.pk]),
                                   {"action": "add", "devices": [999999]}, follow=True)
    assert "does not exist" in response.content.decode() and grants_of(target)[2] == []


def test_state_changes_need_post_and_csrf(manager, target):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(manager)
    url = reverse("accounts:status", args=[target.pk])
    assert csrf_client.get(url).status_code == 405
    assert csrf_client.post(url, {"active": "0"}).status_code == 403
    assert User.objects.get(pk=target.pk).is_active


def test_create_user_with_a_role(manager_client):
    response = manager_client.post(reverse("accounts:create"), {
        "username": "newop", "password": "a-long-passphrase-42", "role": Role.objects.get(name="Operator").pk},
        follow=True)
    assert "User newop created with the Operator role." in response.content.decode()
    assert User.objects.get(username="newop").check_password("a-long-passphrase-42")
    assert AuditEvent.objects.filter(event="user.create", outcome="succeeded", object_label="newop").exists()


def test_create_user_rejects_weak_password_and_duplicate(manager_client, target):
    weak = manager_client.post(reverse("accounts:create"), {"username": "x1", "password": "123"})
    dup = manager_client.post(reverse("accounts:create"), {"username": "TARGET", "password": "a-long-passphrase-42"})
    assert weak.status_code == dup.status_code == 400
    assert "already exists" in dup.content.decode()
    assert not User.objects.filter(username="x1").exists()


def test_deactivating_ends_the_users_sessions(manager_client, target):
    their_client = Client()
    their_client.force_login(target)
    assert their_client.get(reverse("devices:list")).status_code == 200

    manager_client.post(reverse("accounts:status", args=[target.pk]), {"active": "0"})

    response = their_client.get(reverse("devices:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert AuditEvent.objects.filter(event="user.deactivate", outcome="succeeded").exists()


def test_owner_may_change_a_manager_but_read_only_reasons_are_shown(client, manager, target):
    owner = OwnerFactory()
    client.force_login(owner)
    client.post(reverse("accounts:capabilities", args=[manager.pk]), {"capabilities": [caps.USER_EVENT_LOG_VIEW]})
    assert grants_of(manager)[0] == [caps.USER_EVENT_LOG_VIEW]
    html = client.get(reverse("accounts:detail", args=[owner.pk])).content.decode()
    assert "holds every permission and device" in html


def test_manager_page_shows_what_they_cannot_change(manager_client, target):
    html = manager_client.get(reverse("accounts:detail", args=[target.pk])).content.decode()
    assert "Read-only: You can only grant or revoke permissions you hold yourself" in html
    assert "View Event Log" in html and "OS Reloads and Rescue Kernel" in html


def test_logins_are_audited(client, target):
    client.post(reverse("login"), {"username": "target", "password": "wrong"})
    client.post(reverse("login"), {"username": "target", "password": "correct horse battery staple"})
    client.post(reverse("logout"))
    events = list(AuditEvent.objects.order_by("seq").values_list("event", "outcome"))
    assert events == [("auth.login_failed", "failed"), ("auth.login", "succeeded"), ("auth.logout", "succeeded")]
    failed = AuditEvent.objects.get(event="auth.login_failed")
    assert failed.detail == {"username": "target"} and failed.source_ip == "127.0.0.1"


def test_a_managers_change_keeps_grants_they_do_not_hold(manager_client, manager, target):
    """The race found: the owner granted View Event Log while a manager's form was open; the
    manager's save must neither drop it nor record a change it did not make."""
    from accounts.services import set_capabilities

    set_capabilities(OwnerFactory(), target, [caps.USER_EVENT_LOG_VIEW])  # the owner's change lands first
    before_rows = set(AuditEvent.objects.values_list("pk", flat=True))

    manager_client.post(reverse("accounts:capabilities", args=[target.pk]), {"capabilities": [caps.SERVER_RELOAD]})

    assert grants_of(target)[0] == sorted([caps.SERVER_RELOAD, caps.USER_EVENT_LOG_VIEW])
    new_rows = AuditEvent.objects.exclude(pk__in=before_rows).filter(outcome="succeeded")
    assert [(r.event, r.detail["permission"]) for r in new_rows] == [("user.permission.grant", caps.SERVER_RELOAD)]


def test_deactivation_ends_sessions_for_good(manager, target):
    from accounts.services import set_active

    target.set_password("a-long-passphrase-42")
    target.save()
    browser = Client()
    browser.force_login(target)
    assert browser.get(reverse("devices:list")).status_code == 200

    set_active(manager, target, False)
    set_active(manager, target, True)

    again = browser.get(reverse("devices:list"))
    assert again.status_code == 302 and reverse("login") in again["Location"]  # the old session is gone
    row = AuditEvent.objects.get(event="user.deactivate", outcome="succeeded")
    assert row.detail["sessions_ended"] == 1


@pytest.mark.parametrize("name", ["\u043ewner", "\u03bfwner", "Ow\u0578er", "ow ner"],
                         ids=["cyrillic-o", "greek-omicron", "armenian-n", "space"])
def test_look_alike_usernames_are_refused_with_what_to_use(manager_client, name):
    response = manager_client.post(reverse("accounts:create"), {"username": name, "password": "a-long-passphrase-42"})

    assert response.status_code == 400 and "letters a-z and A-Z" in response.content.decode()
    assert not User.objects.filter(username=name).exists()


def test_a_name_differing_only_in_case_is_the_same_name(manager_client):
    assert manager_client.post(reverse("accounts:create"),
                               {"username": "dupuser1", "password": "a-long-passphrase-42"}).status_code == 302
    response = manager_client.post(reverse("accounts:create"),
                                   {"username": "DupUser1", "password": "a-long-passphrase-42"})
    assert response.status_code == 400 and "already exists" in response.content.decode()
    assert User.objects.filter(username__iexact="dupuser1").count() == 1


def test_the_database_keeps_names_unique_ignoring_case(manager):
    """Two requests at once both pass the form's check; the database's rule refuses the second, and
    the service says the name is taken (not "database unavailable")."""
    services.create_user(manager, username="race", password="a-long-passphrase-42")
    with pytest.raises(services.UsernameTaken):
        services.create_user(manager, username="RACE", password="a-long-passphrase-42")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Race")
    assert User.objects.filter(username__iexact="race").count() == 1


@pytest.mark.parametrize("name", ["owner\n", "0wner", "OWNER", "rnanager", "auditor.", "vievver", "0wn3r-x"],
                         ids=["newline", "zero", "case", "rn-for-m", "trailing-dot", "vv-for-w", "not-alike"])
def test_names_that_read_as_an_existing_one_are_refused(manager_client, name):
    for existing in ("owner", "auditor", "viewer"):  # and the signed-in "manager"
        UserFactory(username=existing)
    users = User.objects.count()

    response = manager_client.post(reverse("accounts:create"), {"username": name, "password": "a-long-passphrase-42"})

    if name == "0wn3r-x":  # a name of its own
        assert response.status_code == 302
        return
    assert response.status_code == 400
    said = response.content.decode()
    assert "mistaken for the existing user" in said or "already exists" in said
    assert User.objects.count() == users


def test_a_manager_cannot_switch_off_a_user_with_devices_beyond_theirs(client):
    """The manager holds every permission the viewer has (none), but not the viewer's devices."""
    manager = grant(UserFactory(username="mgr2"), roles=["User manager"])
    viewer = grant(UserFactory(username="viewer2"), devices=[DeviceFactory(), DeviceFactory()])
    client.force_login(manager)

    response = client.post(reverse("accounts:status", args=[viewer.pk]), {"active": "0"})

    assert response.status_code == 403 and "outside yours" in response.content.decode()
    assert User.objects.get(pk=viewer.pk).is_active
    assert AuditEvent.objects.filter(event="user.deactivate", outcome="denied", actor=manager).count() == 1


def test_sign_in_ignores_case_and_so_does_the_lockout(client, settings):
    UserFactory(username="casey", password="a-long-passphrase-42")
    assert client.post(reverse("login"), {"username": "CASEY", "password": "a-long-passphrase-42"}).status_code == 302
    client.logout()
    for spelling in ("casey", "Casey", "CASEY", "cAsEy", "caSey"):  # five wrong, each spelt differently
        client.post(reverse("login"), {"username": spelling, "password": "wrong"})
    refused = client.post(reverse("login"), {"username": "casey", "password": "a-long-passphrase-42"})
    assert refused.status_code != 302 and "_auth_user_id" not in client.session


def test_a_password_like_the_new_users_last_name_is_a_form_error_not_a_500(owner_client):
    """Found by the form fuzzer: the form checked the password against the username only."""
    response = owner_client.post(reverse("accounts:create"), {
        "username": "newbie", "password": "Featherstonehaugh1", "last_name": "Featherstonehaugh",
        "first_name": "", "email": ""})
    assert response.status_code == 400 and "too similar to the last name" in response.content.decode()
