"""Every API error as RFC 9457 problem details: type, title, status, detail, instance, and for
invalid fields `errors` ({field: [messages]}), in `application/problem+json`. One title per type."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accounts.refusals import Refused
from audit.services import record

PROBLEM_TYPE = "/api/problems/"
CONTENT_TYPE = "application/problem+json"
SLUG_OF_STATUS = {400: "invalid", 401: "not-signed-in", 403: "not-allowed", 404: "not-found",
                  405: "method-not-allowed", 406: "not-acceptable", 409: "conflict", 413: "too-large",
                  415: "unsupported-media-type", 422: "idempotency-key-reused", 429: "too-many-requests",
                  500: "server-error", 503: "unavailable"}
TITLES = {"invalid": "Not a valid request", "invalid-fields": "Invalid fields", "not-signed-in": "Not signed in",
          "not-allowed": "Not allowed", "not-found": "Not found", "method-not-allowed": "Method not allowed",
          "not-acceptable": "Not acceptable", "conflict": "Not possible now",
          "request-in-progress": "Request still in progress", "too-large": "Request too large",
          "unsupported-media-type": "Send JSON", "idempotency-key-reused": "Idempotency-Key used for another request",
          "too-many-requests": "Too many requests", "server-error": "Something went wrong",
          "unavailable": "Unavailable for a moment"}
RETRY_AFTER_SECONDS = {503: 30}


def problem(status_code: int, detail: str, *, slug: str = "", instance: str = "", **extra) -> dict:
    slug = slug or SLUG_OF_STATUS.get(status_code, "error")
    return {"type": PROBLEM_TYPE + slug, "title": TITLES.get(slug) or HTTPStatus(status_code).phrase,
            "status": status_code, "detail": detail, **({"instance": instance} if instance else {}), **extra}


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(errors, dict):
        out: dict[str, list[str]] = {}
        for field, value in errors.items():
            out.update(_flatten(value, f"{prefix}.{field}" if prefix else str(field)))
        return out
    if isinstance(errors, list) and errors and all(not isinstance(e, (dict, list)) for e in errors):
        return {prefix or "request": [str(e) for e in errors]}
    if isinstance(errors, list):
        out = {}
        for index, value in enumerate(errors):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "request": [str(errors)]}


class RefusedByService(exceptions.APIException):
    """A service's Refused, answered with the status its kind of no maps to."""

    def __init__(self, refused: Refused):
        super().__init__(refused.reason)
        self.status_code = refused.status


def handle(exc, context) -> Response | None:
    """DRF's EXCEPTION_HANDLER."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, Refused):
        exc = RefusedByService(exc)
    if isinstance(exc, Http404):  # never says which model was looked for
        exc = exceptions.NotFound("There is nothing here, or nothing you may see.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = problem(400, "The request has invalid fields: see `errors`, fix them and send it again.",
                       slug="invalid-fields", instance=instance, errors=_flatten(exc.detail))
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if isinstance(exc, exceptions.NotAuthenticated):
            detail = "Send a personal access token: `Authorization: Bearer rp_…` (create one on the API tokens page)."
        if isinstance(exc, exceptions.Throttled):
            detail = f"Too many requests with this token. Try again in {exc.wait or 1:.0f} seconds."
        body = problem(response.status_code, detail, instance=instance)
    if response.status_code == 404 and request is not None and request.method not in ("GET", "HEAD", "OPTIONS") \
            and getattr(request, "auth", None) is not None:  # an attempt on something not theirs: kept
        record("api.not_found", "denied", reason=body["detail"][:500],
               detail={"path": request.path[:200], "method": request.method})
    if seconds := RETRY_AFTER_SECONDS.get(response.status_code):
        response["Retry-After"] = str(seconds)
    response.data = body
    response.content_type = CONTENT_TYPE
    return response


def problem_response(status_code: int, detail: str, *, instance: str = "") -> JsonResponse:
    """A problem outside DRF's views (a path under /api/ that matches nothing, a server error)."""
    response = JsonResponse(problem(status_code, detail, instance=instance), status=status_code,
                            content_type=CONTENT_TYPE)
    if seconds := RETRY_AFTER_SECONDS.get(status_code):
        response["Retry-After"] = str(seconds)
    return response
