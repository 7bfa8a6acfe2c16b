"""Everyone's own password: change it, get a one-time one from a manager, or a reset link by email."""

import re

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import capabilities as caps
from accounts.models import User
from audit.models import AuditEvent
from tests.factories import OwnerFactory, UserFactory, grant

pytestmark = pytest.mark.django_db
OLD, NEW = "correct horse battery staple", "a-brand-new-passphrase-7"


def signed_in(username: str, password: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": password}).status_code == 302
    return client


def test_a_user_changes_their_own_password_and_stays_signed_in():
    user = UserFactory(username="pat")
    client = signed_in("pat", OLD)
    elsewhere = signed_in("pat", OLD)

    wrong = client.post(reverse("password_change"), {"old_password": "nope", "new_password1": NEW,
                                                     "new_password2": NEW})
    assert wrong.status_code == 400 and "Nothing was changed" in wrong.content.decode()
    done = client.post(reverse("password_change"), {"old_password": OLD, "new_password1": NEW, "new_password2": NEW})

    assert done.status_code == 302 and get_user(client).is_authenticated
    assert not get_user(elsewhere).is_authenticated  # the other session kept the old password's hash
    assert User.objects.get(pk=user.pk).check_password(NEW)
    rows = AuditEvent.objects.filter(event="auth.password_change").order_by("seq")
    assert [r.outcome for r in rows] == ["failed", "succeeded"]
    assert not any(NEW in str(r.detail) or OLD in str(r.detail) for r in AuditEvent.objects.all())


def test_validators_refuse_a_weak_new_password():
    UserFactory(username="pat")
    client = signed_in("pat", OLD)
    weak = client.post(reverse("password_change"), {"old_password": OLD, "new_password1": "12345678",
                                                    "new_password2": "12345678"})
    assert weak.status_code == 400 and "too common" in weak.content.decode()


def test_a_manager_reset_gives_a_one_time_password_that_must_be_replaced():
    manager = grant(UserFactory(username="manager"), caps.ACCESS_ALL_GUEST, roles=["User manager", "Operator"])
    target = UserFactory(username="sam")
    old_session = signed_in("sam", OLD)
    client = Client()
    client.force_login(manager)

    page = client.post(reverse("accounts:password_reset", args=[target.pk]))

    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    one_time = re.search(r'id="one-time">([^<]+)<', page.content.decode()).group(1)
    assert not get_user(old_session).is_authenticated  # the reset ended sam's sessions
    sam = signed_in("sam", one_time)
    forced = sam.get(reverse("devices:list"))
    assert forced.status_code == 302 and forced["Location"] == reverse("password_change")
    sam.post(reverse("password_change"), {"old_password": one_time, "new_password1": NEW, "new_password2": NEW})
    assert sam.get(reverse("devices:list")).status_code == 200
    row = AuditEvent.objects.get(event="user.password_reset")
    assert row.actor_id == manager.pk and one_time not in str(row.detail)


def test_a_manager_cannot_reset_the_password_of_someone_who_holds_more():
    manager = grant(UserFactory(username="manager"), caps.ACCESS_ALL_GUEST, roles=["User manager"])
    auditor = grant(UserFactory(username="aud"), roles=["Auditor"])
    client = Client()
    client.force_login(manager)

    refused = client.post(reverse("accounts:password_reset", args=[auditor.pk]))
    owner_refused = client.post(reverse("accounts:password_reset", args=[OwnerFactory().pk]))

    assert refused.status_code == 403 and owner_refused.status_code == 403
    assert User.objects.get(pk=auditor.pk).check_password(OLD)
    assert AuditEvent.objects.filter(event="user.password_reset", outcome="denied").count() == 2


def test_forgot_password_mails_a_link_that_works_once():
    user = UserFactory(username="robin", email="robin@example.com")
    client = Client()

    sent = client.post(reverse("password_reset"), {"email": "ROBIN@example.com"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert sent.status_code == unknown.status_code == 302  # the same answer: no way to learn who exists
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["robin@example.com"]
    link = re.search(r"https?://[^/]+(/login/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and User.objects.get(pk=user.pk).check_password(NEW)
    again = client.get(link, follow=True)
    assert "This link is not valid" in again.content.decode()
    assert signed_in("robin", NEW)
    rows = AuditEvent.objects.filter(event__startswith="auth.password").order_by("seq")
    assert [(r.event, r.outcome) for r in rows] == [("auth.password_reset_request", "requested"),
                                                    ("auth.password_reset_request", "requested"),
                                                    ("auth.password_change", "succeeded")]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not any(token in str(r.detail) for r in AuditEvent.objects.all())
