"""Log lines that say which request, user, device and operation they are about, and never carry
a secret: one JSON object a line in production (LOG_FORMAT=json), plain lines in `make run`."""

import contextlib
import logging
import re
from contextvars import ContextVar

from django.conf import settings
from django.utils.functional import empty

from audit.middleware import current_request

# Set by the worker around each job (jobs have no request): {"job": …, "operation_id": …}.
job_context: ContextVar[dict | None] = ContextVar("job_context", default=None)
TOKEN = re.compile(r"rp_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{20,}")
ASSIGNED_SECRET = re.compile(r"(?i)(password|api_key|apikey|secret|token)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+")


def redact(text: str) -> str:
    text = TOKEN.sub("rp_[redacted]", text)
    text = ASSIGNED_SECRET.sub(r"\1\2[redacted]", text)
    key = getattr(settings, "SOFTLAYER_API_KEY", "")
    return text.replace(key, "[redacted]") if key and len(key) >= 8 else text


class ContextFilter(logging.Filter):
    """Adds request_id, user, device_id and operation_id where known; removes secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None) or current_request.get()  # django.request's carry it
        record.request_id = getattr(request, "request_id", "") if request is not None else ""
        user = getattr(request, "user", None) if request is not None else None
        user = getattr(user, "_wrapped", user)  # never load a lazy user here (the database may be down)
        record.user = user.get_username() if user is not None and user is not empty and \
            getattr(user, "is_authenticated", False) else ""
        match = getattr(request, "resolver_match", None) if request is not None else None
        kwargs = match.kwargs if match else {}
        record.device_id = kwargs.get("pk") if match and "device" in (match.url_name or "") else None
        record.operation_id = None
        if job := job_context.get():
            record.job = job.get("job", "")
            record.operation_id = job.get("operation_id")
        if record.args:
            with contextlib.suppress(TypeError, ValueError):
                record.msg, record.args = record.getMessage(), ()
        record.msg = redact(str(record.msg))
        return True
