"""Writes of notifications: keep each piece of workflow news (an outbox row in the operation's
transaction), dispatch it once to the webhooks and people who asked for it, and deliver each,
recording every attempt. A failing endpoint is retried by RQ and never touches the operation."""

import logging
import time
from datetime import timedelta
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.refusals import Refused, Why
from audit.services import record
from workflows import events
from workflows.models import Operation

from . import payloads, queue
from .models import Delivery, Notice, Preference, Webhook

log = logging.getLogger(__name__)
TEST_EVENT = "test"


class NotificationRefused(Refused):
    pass


class DeliveryFailed(Exception):
    """An attempt that did not get through: RQ tries again after the next NOTIFY_RETRY_SECONDS."""


# --- From workflow news to deliveries ----------------------------------------------------------------

def keep_notice(event: str, operation_id: int) -> None:
    """workflows.events listener: inside the operation's transaction, so the news is kept with it."""
    notice = Notice.objects.create(event=event, operation_id=operation_id)
    transaction.on_commit(lambda: queue.enqueue_dispatch(notice.pk))


def dispatch(notice_id: int) -> int:
    """Once per notice (compare-and-set): a delivery for each webhook and person who wants it."""
    if not Notice.objects.filter(pk=notice_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now()):
        return 0
    notice = Notice.objects.select_related("operation__device", "operation__requested_by").get(pk=notice_id)
    facts = operation_facts(notice.operation)
    made = []
    for webhook in Webhook.objects.filter(active=True):
        if notice.event in webhook.events:
            made.append(_delivery(notice, Delivery.Channel.WEBHOOK, facts, webhook=webhook))
    for person in recipients(notice.event, notice.operation):
        made.append(_delivery(notice, Delivery.Channel.EMAIL, facts, recipient=person))
    for delivery in filter(None, made):
        queue.enqueue_delivery(delivery.pk)
    return len([d for d in made if d])


def _delivery(notice: Notice, channel: str, facts: dict, **target) -> Delivery | None:
    try:
        with transaction.atomic():
            return Delivery.objects.create(notice=notice, channel=channel, event=notice.event, payload=facts, **target)
    except IntegrityError:  # already made by an earlier dispatch of this notice
        return None


def operation_facts(op: Operation) -> dict:
    facts = {"operation_id": op.pk, "action": op.get_kind_display(), "state": op.get_state_display(),
             "device": op.device.fqdn, "device_id": op.device_id, "requested_by": op.requested_by.get_username(),
             "reason": op.reason, "error": op.error,
             "ends_at": f"{op.ends_at:%Y-%m-%d %H:%M} UTC" if op.ends_at and op.is_session else "",
             "automatic": op.automatic,
             "url": settings.PORTAL_URL + reverse("workflows:operation", args=[op.pk])}
    facts["summary"] = payloads.summary(facts)
    return facts


def default_events() -> list[str]:
    return list(events.LABELS)


def preferences_of(user) -> Preference:
    """A person's choices, or the defaults (every event of their own operations) if never set."""
    return Preference.objects.filter(user=user).first() or Preference(user=user, events=default_events())


def recipients(event: str, op: Operation) -> list[User]:
    """The requester (by their choices), and whoever asked for this event on every device they can see."""
    people = []
    requester = op.requested_by
    if requester.is_active and requester.email and event in preferences_of(requester).events:
        people.append(requester)
    watchers = Preference.objects.filter(every_device=True, user__is_active=True).exclude(
        user=requester).exclude(user__email="").select_related("user")
    for preference in watchers:
        if event in preference.events and policy.can_see(preference.user, op.device):
            people.append(preference.user)
    return people


def deliver(delivery_id: int, last_attempt: bool) -> str:
    """One attempt. Raises DeliveryFailed (for RQ to try again) unless it got through or this was the last."""
    delivery = Delivery.objects.select_related("webhook", "recipient").get(pk=delivery_id)
    if delivery.status == Delivery.Status.SENT:
        return "already sent"
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    try:
        if delivery.channel == Delivery.Channel.WEBHOOK:
            delivery.response_code = _post(delivery)
        else:
            _mail(delivery)
    except DeliveryFailed as failure:
        delivery.error = str(failure)[:500]
        delivery.status = Delivery.Status.FAILED if last_attempt else Delivery.Status.RETRYING
        delivery.save()
        if last_attempt:
            log.warning("Delivery %s failed for good: %s", delivery.pk, failure)
            return "failed"
        raise
    delivery.status, delivery.sent_at, delivery.error = Delivery.Status.SENT, timezone.now(), ""
    delivery.save()
    return "sent"


def _post(delivery: Delivery) -> int:
    webhook = delivery.webhook
    label = events.LABELS.get(delivery.event, "Test from Rescue Portal")
    raw = payloads.body(delivery.event, label, delivery.payload, webhook.slack_format)
    headers = {"Content-Type": "application/json", payloads.EVENT_HEADER: delivery.event,
               payloads.SIGNATURE_HEADER: payloads.signature(webhook.secret, int(time.time()), raw),
               "User-Agent": "RescuePortal-Webhook/1"}
    try:
        response = requests.post(webhook.url, data=raw, headers=headers, timeout=settings.NOTIFY_TIMEOUT_SECONDS,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"The endpoint could not be reached: {type(exc).__name__}") from None
    delivery.response_code = response.status_code
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"The endpoint answered {response.status_code}.")
    return response.status_code


def _mail(delivery: Delivery) -> None:
    facts = delivery.payload
    label = events.LABELS.get(delivery.event, "Test from Rescue Portal")
    text = (f"{label}.\n\n{facts.get('summary', '')}\n\nRequested by {facts.get('requested_by', '')}"
            + (f" · reason: {facts['reason']}" if facts.get("reason") else "")
            + f"\n\nOpen it: {facts.get('url', settings.PORTAL_URL)}\n\n"
            "You get this because of your notification settings in Rescue Portal.\n")
    try:
        send_mail(f"[Rescue Portal] {label}: {facts.get('device', '')}", text, None, [delivery.recipient.email])
    except OSError as exc:  # smtplib's errors are OSErrors
        raise DeliveryFailed(f"The mail server refused or could not be reached: {type(exc).__name__}") from None


def sweep(quiet_seconds: float = 30) -> dict:
    """Notices and deliveries whose job was lost (Redis gone, a worker killed): put back on the queue."""
    before = timezone.now() - timedelta(seconds=quiet_seconds)
    notices = list(Notice.objects.filter(dispatched_at__isnull=True, created_at__lte=before).values_list(
        "pk", flat=True)[:500])
    for pk in notices:
        queue.enqueue_dispatch(pk)
    stuck = list(Delivery.objects.filter(status=Delivery.Status.PENDING, attempts=0, created_at__lte=before)
                 .values_list("pk", flat=True)[:500])
    for pk in stuck:
        queue.enqueue_delivery(pk)
    return {"notices": len(notices), "deliveries": len(stuck)}


# --- What people configure -----------------------------------------------------------------------------

def check_may_configure(actor, event: str) -> None:
    if not policy.may_configure_webhooks(actor):
        text = "Only the account owner configures webhooks."
        record(event, "denied", actor=actor, reason=text)
        raise NotificationRefused(text)


def origin(url: str) -> str:
    """scheme://host[:port] only: a webhook's path, query or user:password often is its secret, and
    the audit trail is read by auditors."""
    parts = urlparse(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def create_webhook(actor, name: str, url: str, chosen: list[str], slack_format: bool) -> Webhook:
    check_may_configure(actor, "webhook.create")
    if urlparse(url).scheme not in ("http", "https"):
        raise NotificationRefused("A webhook's address starts with https:// (or http://).", Why.INVALID)
    unknown = set(chosen) - set(events.LABELS)
    if unknown or not chosen:
        raise NotificationRefused("Choose at least one of the events offered.", Why.INVALID)
    with transaction.atomic():
        webhook = Webhook.objects.create(name=name.strip()[:100], url=url, events=sorted(chosen),
                                         slack_format=slack_format, created_by=actor)
        record("webhook.create", "succeeded", actor=actor, target=webhook,
               detail={"address": origin(url), "events": sorted(chosen), "slack_format": slack_format})
    return webhook


def delete_webhook(actor, webhook: Webhook) -> None:
    check_may_configure(actor, "webhook.delete")
    with transaction.atomic():
        record("webhook.delete", "succeeded", actor=actor, target=webhook, detail={"address": origin(webhook.url)})
        webhook.delete()


def send_test(actor, webhook: Webhook) -> Delivery:
    """"Send test": a delivery like any other, with a body that says it is a test."""
    check_may_configure(actor, "webhook.test")
    facts = {"summary": "A test of this webhook: nothing happened to any device.", "test": True,
             "url": settings.PORTAL_URL + reverse("notifications:webhook", args=[webhook.pk])}
    with transaction.atomic():
        delivery = Delivery.objects.create(webhook=webhook, channel=Delivery.Channel.WEBHOOK, event=TEST_EVENT,
                                           payload=facts)
        record("webhook.test", "requested", actor=actor, target=webhook)
        transaction.on_commit(lambda: queue.enqueue_delivery(delivery.pk))
    return delivery


def set_preferences(user, chosen: list[str], every_device: bool) -> Preference:
    chosen = sorted(set(chosen) & set(events.LABELS))
    with transaction.atomic():
        preference, _ = Preference.objects.update_or_create(user=user, defaults={
            "events": chosen, "every_device": every_device})
        record("notifications.preferences", "succeeded", actor=user, target=user,
               detail={"events": chosen, "every_device": every_device})
    return preference
