"""`Idempotency-Key` on the API's POSTs: a retry with the same key and body gets the first answer
(marked `Idempotent-Replayed: true`) and does nothing again; the same key with another body is
refused (422); a retry while the first is still being answered is told to wait (409)."""

from functools import wraps

from rest_framework.response import Response

from . import services
from .problems import CONTENT_TYPE, problem


def idempotent(method):
    """Wrap a view's post(); the view gets `claim` (None without a key) to tie what it makes to it."""
    @wraps(method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return method(view, request, *args, claim=None, **kwargs)
        print_ = services.fingerprint(request.method, request.path, request.body)
        try:
            claim = services.begin(request.user, key, print_)
        except services.KeyRefused as refused:
            return Response(problem(refused.status, refused.detail, slug=refused.slug, instance=request.path),
                            status=refused.status, content_type=CONTENT_TYPE)
        if isinstance(claim, services.Remembered):
            response = Response(claim.body, status=claim.status,
                                content_type=CONTENT_TYPE if claim.status >= 400 else None)
            response["Idempotent-Replayed"] = "true"
            if claim.location:
                response["Location"] = claim.location
            return response
        try:
            try:
                response = method(view, request, *args, claim=claim, **kwargs)
            except Exception as exc:
                response = view.handle_exception(exc)  # a refusal is an answer, kept like any other
        except Exception:
            services.finish(claim, 500, None)  # not kept: the retry is tried afresh
            raise
        services.finish(claim, response.status_code, response.data, response.get("Location", ""))
        return response

    return wrapper
