"""Every API error as RFC 9457 problem details: type, title, status, detail, instance, and for
invalid fields `errors` ({field: [messages]}), in `application/problem+json`."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accounts.refusals import Refused, Why

PROBLEM_TYPE = "/api/problems/"
CONTENT_TYPE = "application/problem+json"
TITLES = {Why.NOT_ALLOWED: "Not allowed", Why.CONFLICT: "Not possible now", Why.TOO_SOON: "Too soon",
          Why.UNAVAILABLE: "Unavailable for a moment", Why.INVALID: "Not a valid request"}
SLUGS = {400: "invalid", 401: "not-signed-in", 403: "not-allowed", 404: "not-found", 405: "method-not-allowed",
         406: "not-acceptable", 409: "conflict", 415: "unsupported-media-type", 422: "idempotency-key-reused",
         429: "too-many-requests", 503: "unavailable"}


def problem(status_code: int, detail: str, *, title: str = "", instance: str = "", **extra) -> dict:
    return {"type": PROBLEM_TYPE + SLUGS.get(status_code, "error"),
            "title": title or HTTPStatus(status_code).phrase, "status": status_code, "detail": detail,
            **({"instance": instance} if instance else {}), **extra}


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(errors, dict):
        out: dict[str, list[str]] = {}
        for field, value in errors.items():
            out.update(_flatten(value, f"{prefix}{field}" if not prefix else f"{prefix}.{field}"))
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

    def __init__(self, refused: Refused, **extra):
        super().__init__(refused.reason)
        self.status_code, self.title, self.extra = refused.status, TITLES[refused.why], extra


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
    extra = getattr(exc, "extra", {})
    if isinstance(exc, exceptions.ValidationError):
        body = problem(400, "The request has invalid fields: see `errors`, fix them and send it again.",
                       title="Invalid fields", instance=instance, errors=_flatten(exc.detail), **extra)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if isinstance(exc, exceptions.NotAuthenticated):
            detail = "Send a personal access token: `Authorization: Bearer rp_…` (create one on the API tokens page)."
        if isinstance(exc, exceptions.Throttled):
            detail = f"Too many requests with this token. Try again in {exc.wait or 1:.0f} seconds."
        body = problem(response.status_code, detail, title=getattr(exc, "title", ""), instance=instance, **extra)
    response.data = body
    response.content_type = CONTENT_TYPE
    return response


def problem_response(status_code: int, detail: str, *, title: str = "", instance: str = "") -> JsonResponse:
    """A problem outside DRF's views (a path under /api/ that matches nothing, a server error)."""
    return JsonResponse(problem(status_code, detail, title=title, instance=instance), status=status_code,
                        content_type=CONTENT_TYPE)


__all__ = ["CONTENT_TYPE", "RefusedByService", "handle", "problem", "problem_response", "status"]
