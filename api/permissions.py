"""A token's scopes narrow what its user may do; the one policy (accounts.policy) still decides."""

from rest_framework import permissions

from audit.services import record

from .models import Scope

SCOPE_NAMES = {Scope.READ: "read", Scope.OPERATE: "operate", Scope.REVEAL: "reveal", Scope.MANAGE: "manage"}


class ScopeDenied(permissions.exceptions.PermissionDenied):
    pass


class HasScope(permissions.BasePermission):
    """GETs need `read`; a view's POST/PUT needs the scope it names (`required_scope`)."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None:  # not signed in: IsAuthenticated answers 401
            return True
        needed = Scope.READ if request.method in permissions.SAFE_METHODS else getattr(view, "required_scope",
                                                                                        Scope.READ)
        if needed in token.scopes:
            return True
        reason = (f"This token does not have the {SCOPE_NAMES[needed]} scope. Create a token with it on the API "
                  "tokens page.")
        record("api.scope", "denied", reason=reason, detail={"token": token.prefix, "path": request.path[:200],
                                                             "method": request.method})
        raise ScopeDenied(reason)
