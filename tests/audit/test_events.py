"""The audit core knows no product event: each app registers the names it writes. Every name the
code writes is registered (so the review filters offer it), and every registered name is written."""

import re
from pathlib import Path

from django.conf import settings

from audit import events

APPS = ["accounts", "devices", "workflows", "review", "rescueportal", "notifications", "api"]
# An event name as the code spells it: a dotted literal starting with a known family.
FAMILIES = "auth|security|user|device|inventory|audit|account|sso|rescue_session|webhook|notifications|api"
NAME = re.compile(rf"""["']((?:{FAMILIES})\.[a-z_]+(?:\.[a-z_]+)?)["']""")


def names_in_code() -> set[str]:
    found = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found |= set(NAME.findall(path.read_text()))
    return {name for name in found if not _is_a_module_path(name)}


def _is_a_module_path(name: str) -> bool:
    """`audit.services.client_ip` in a string is a dotted import path, not an event."""
    package, module = name.split(".")[:2]
    return (Path(settings.BASE_DIR) / package / f"{module}.py").exists()


def test_every_name_the_code_writes_is_registered():
    assert names_in_code() - set(events.names()) == set()


def test_every_registered_name_is_written_somewhere():
    assert set(events.names()) - names_in_code() == set()


def test_the_review_filter_offers_the_registered_names(client):
    from review.filters import AuditFilter

    offered = {value for value, _label in AuditFilter().filters["event"].extra["choices"]()}
    assert offered == set(events.names()) and "device.rescue" in offered and "user.create" in offered
