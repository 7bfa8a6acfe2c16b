"""The portal's own page where Django would answer with an empty body."""

from .errors import is_api, method_not_allowed


class MethodNotAllowedPageMiddleware:
    """A GET on an address that only takes a button's POST (Reveal password, Restart's Yes…) gets
    a page that says so and leads back, not the browser's blank 405. The API answers for itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and not is_api(request):
            page = method_not_allowed(request)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
