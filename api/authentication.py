"""`Authorization: Bearer rp_…`: the API's only way in (no session, so no CSRF and no cookies)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import services


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword.lower() != self.keyword.lower() or not raw.strip():
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Bearer rp_…`.")
        try:
            token = services.authenticate(raw.strip(), request._request)
        except services.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        request._request.auth_via = f"token rp_{token.prefix}"  # audit rows say which token acted
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A personal access token from the API tokens page: `Authorization: Bearer rp_…`."}
