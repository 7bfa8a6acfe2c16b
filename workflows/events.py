"""Workflow news for whoever listens (notifications subscribes in its AppConfig.ready): workflows
publishes, and never imports a listener. A listener runs inside the operation's transaction, so
what it keeps (an outbox row) commits with the news or not at all; one that fails is logged and
never breaks the operation."""

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)

OPERATION_SUCCEEDED = "operation.succeeded"
OPERATION_FAILED = "operation.failed"
OPERATION_WAITING = "operation.waiting"  # waiting on SoftLayer for long
SESSION_REMINDER = "session.reminder"
SESSION_EXITED = "session.exited"  # the portal ended a rescue session at its time limit
SESSION_EXIT_FAILED = "session.exit_failed"

LABELS = {
    OPERATION_SUCCEEDED: "An operation finished",
    OPERATION_FAILED: "An operation failed",
    OPERATION_WAITING: "An operation has waited on SoftLayer for long",
    SESSION_REMINDER: "A rescue session's time limit is near",
    SESSION_EXITED: "The portal ended a rescue session at its time limit",
    SESSION_EXIT_FAILED: "The portal's exit at a time limit failed",
}

_listeners: list[Callable[[str, int], None]] = []


def subscribe(listener: Callable[[str, int], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def publish(event: str, operation_id: int) -> None:
    for listener in _listeners:
        try:
            with transaction.atomic():  # a savepoint: a failing listener leaves the operation's work intact
                listener(event, operation_id)
        except Exception:
            log.exception("A listener of %s for operation %s failed", event, operation_id)
