import re
import uuid
from contextvars import ContextVar

_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# The request being served, for audit.services.record(): who, from where, which request. Services
# do not pass the request along (NetBox's `current_request` is the model); jobs have none.
current_request: ContextVar = ContextVar("current_request", default=None)


class RequestIdMiddleware:
    """Gives each request an id (kept in audit rows, echoed as X-Request-ID) to group its events,
    and makes the request the current one for the audit trail while it is served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
