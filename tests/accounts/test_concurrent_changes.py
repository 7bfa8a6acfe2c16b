"""An owner and a manager change one user's grants at the same moment, many times over: the owner's
decision about a permission the manager lacks stands, and the audit trail tells exactly what happened
(the attack saw it vanish or come back, 7 of 40 runs each, with no row)."""

import threading

import pytest
from django.db import connection

from accounts import capabilities as caps
from accounts import services
from accounts.models import Capability, User
from audit.models import AuditEvent
from tests.factories import OwnerFactory, UserFactory, grant

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls) -> list[BaseException]:
    start, failures = threading.Barrier(len(calls)), []

    def run(call) -> None:
        try:
            start.wait()
            call()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def test_the_owners_revoke_and_a_managers_save_at_once_keep_one_story():
    owner = OwnerFactory()
    manager = grant(UserFactory(username="manager"), caps.ACCESS_ALL_GUEST, roles=["User manager", "Operator"])
    for run in range(20):
        target = UserFactory(username=f"target{run}")
        target.capabilities.set(Capability.objects.filter(key__in=[caps.SERVER_RELOAD, caps.USER_EVENT_LOG_VIEW]))
        first_row = (AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1

        failures = at_once(
            # the owner takes View Event Log away
            lambda t=target: services.set_capabilities(User.objects.get(pk=owner.pk), User.objects.get(pk=t.pk),
                                                       [caps.SERVER_RELOAD]),
            # the manager saves the form with what they can see (they do not hold View Event Log)
            lambda t=target: services.set_capabilities(User.objects.get(pk=manager.pk), User.objects.get(pk=t.pk),
                                                       [caps.SERVER_RELOAD]),
        )

        assert not failures, failures
        held = set(User.objects.get(pk=target.pk).capabilities.values_list("key", flat=True))
        assert held == {caps.SERVER_RELOAD}, f"run {run}: {held}"
        rows = AuditEvent.objects.filter(seq__gte=first_row, object_id=str(target.pk))
        story = sorted((row.event, row.detail["permission"], row.actor_id) for row in rows)
        assert story == [("user.permission.revoke", caps.USER_EVENT_LOG_VIEW, owner.pk)], f"run {run}: {story}"
