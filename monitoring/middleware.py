"""Counts each answered request by route (the URL's name, never the raw path: ids would make
endless series), method and status."""

from . import metrics


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match and match.view_name else "") or "unmatched"
        if not request.path.startswith("/static/"):
            metrics.request(route, request.method if request.method in KNOWN_METHODS else "other",
                            response.status_code)
        return response


KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
