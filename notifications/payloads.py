"""Pure: what a notification says, and how a webhook body is signed (Stripe's scheme: a timestamp
and an HMAC-SHA256 of "timestamp.body", so a receiver can refuse a replay or a forgery)."""

import hashlib
import hmac
import json

SIGNATURE_HEADER = "X-Rescue-Portal-Signature"
EVENT_HEADER = "X-Rescue-Portal-Event"
TOLERANCE_SECONDS = 300


def body(event: str, label: str, facts: dict, slack: bool) -> bytes:
    """The JSON sent: the portal's own shape, or Slack's {"text": …}."""
    if slack:
        text = f"*{label}*: {facts.get('summary', '')}"
        if facts.get("url"):
            text += f" <{facts['url']}|Open in Rescue Portal>"
        return json.dumps({"text": text}).encode()
    return json.dumps({"event": event, "label": label, **facts}, sort_keys=True).encode()


def signature(secret: str, timestamp: int, raw: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, raw: bytes, now: float, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (and the tests): the signature matches and the timestamp is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, raw), f"t={timestamp},v1={parts.get('v1', '')}")


def summary(facts: dict) -> str:
    """One line for a person: what, on which device, and how it stands."""
    line = f"{facts['action']} on {facts['device']}: {facts['state']}"
    if facts.get("error"):
        line += f" ({facts['error']})"
    if facts.get("ends_at"):
        line += f"; the session ends at {facts['ends_at']}"
    return line
