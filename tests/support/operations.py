"""Waiting for an operation, as a person watching its page would."""

import re
import time

from workflows.models import Operation


def wait_for(op: Operation, *states: str, timeout: float = 90) -> Operation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op.refresh_from_db()
        if op.state in states:
            return op
        time.sleep(0.1)
    raise AssertionError(f"operation {op.pk} stayed {op.state!r}, wanted {states}; error: {op.error!r}")


def press_yes(client, url: str, data: dict | None = None, **kwargs):
    """Open a confirmation page, then press its Yes (with the page's single-use token), as a browser does."""
    page = client.get(url).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', page)
    data = {"reason": "testing", **({"confirmation": token.group(1)} if token else {}), **(data or {})}
    return client.post(url, data, **kwargs)
