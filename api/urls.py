from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import pages, views

app_name = "api"


def open_(view):
    """The API answers for itself (401 as a problem), never with the login page."""
    return login_not_required(view.as_view())


# Swagger UI styles its elements from script (React): its page allows inline styles. Scripts stay
# the portal's own. (Redoc is not offered: its standalone build fetches its logo from a CDN.)
docs_page = csp_update({"style-src": [UNSAFE_INLINE]})

urlpatterns = [
    path("api/v1/me/", open_(views.Me), name="me"),
    path("api/v1/time-limits/", open_(views.TimeLimits), name="time_limits"),
    path("api/v1/devices/", open_(views.DeviceList), name="devices"),
    path("api/v1/devices/<int:pk>/", open_(views.DeviceDetail), name="device"),
    path("api/v1/devices/<int:pk>/connection/", open_(views.Connection), name="connection"),
    path("api/v1/devices/<int:pk>/reveal-password/", open_(views.RevealPassword), name="reveal_password"),
    path("api/v1/devices/<int:pk>/images/", open_(views.Images), name="images"),
    path("api/v1/devices/<int:pk>/operations/", open_(views.DeviceOperations), name="device_operations"),
    path("api/v1/operations/", open_(views.OperationList), name="operations"),
    path("api/v1/operations/<int:pk>/", open_(views.OperationDetail), name="operation"),
    path("api/v1/operations/<int:pk>/extend/", open_(views.Extend), name="extend"),
    path("api/v1/operations/<int:pk>/end/", open_(views.End), name="end"),
    path("api/v1/operations/<int:pk>/back-to-normal/", open_(views.BackToNormal), name="back_to_normal"),
    path("api/v1/audit/events/", open_(views.AuditEvents), name="audit_events"),
    path("api/v1/audit/rescues/", open_(views.PastRescues), name="past_rescues"),
    path("api/v1/users/", open_(views.UserList), name="users"),
    path("api/v1/users/<int:pk>/", open_(views.UserDetail), name="user"),
    path("api/v1/users/<int:pk>/roles/", open_(views.UserRoles), name="user_roles"),
    path("api/v1/users/<int:pk>/devices/", open_(views.UserDevices), name="user_devices"),
    path("api/v1/roles/", open_(views.RoleList), name="roles"),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view(authentication_classes=[],
                                                                      permission_classes=[],
                                                                      throttle_classes=[])), name="schema"),
    path("api/docs/", login_not_required(docs_page(SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", authentication_classes=[], permission_classes=[], throttle_classes=[]))), name="docs"),
    path("account/api-tokens/", pages.tokens, name="tokens"),
    path("account/api-tokens/<int:pk>/revoke/", pages.revoke, name="revoke"),
]
