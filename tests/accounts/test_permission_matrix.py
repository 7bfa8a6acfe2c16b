"""Every view x every kind of user x GET and POST, generated from the URL patterns.

A view added without a row in MATRIX fails `test_every_view_is_in_the_matrix`.
"""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import capabilities as caps
from api.models import Scope
from audit.models import AuditEvent
from tests.factories import DeviceFactory, OwnerFactory, UserFactory, api_token, bearer, grant
from workflows.models import Operation

ROLES = ["anonymous", "no_access", "device_no_capability", "capability_no_device", "full_access", "manager",
         "auditor", "owner"]
OURS = ("accounts.", "devices.", "workflows.", "audit.", "review.", "rescueportal.", "notifications.", "api.",
        "monitoring.",
        "drf_spectacular.",
        "django.contrib.auth.views",
        "django.views.generic")

# Expected status per role for GET and POST; "login" is a 302 to the login page.
ANON = {"anonymous": "login"}
EVERYONE = {r: 200 for r in ROLES[1:]}
MANAGERS = {**{r: 403 for r in ROLES[1:]}, "manager": 200, "owner": 200}
MANAGERS_POST = {**{r: 403 for r in ROLES[1:]}, "manager": 302, "owner": 302}
DEVICE_SEERS = {"no_access": 404, "device_no_capability": 200, "capability_no_device": 404, "full_access": 200,
                "manager": 200, "auditor": 404, "owner": 200}
REVIEWERS = {**{r: 403 for r in ROLES[1:]}, "auditor": 200, "owner": 200}
NOT_ALLOWED = {r: 405 for r in ROLES[1:]}

MATRIX = {
    "root": {"GET": {r: 302 for r in ROLES}, "POST": {r: 302 for r in ROLES}},
    "login": {"GET": {r: 200 for r in ROLES}, "POST": {r: 200 for r in ROLES}},
    "logout": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {r: 302 for r in ROLES}},
    "devices:list": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **NOT_ALLOWED}},
    "devices:detail": {"GET": {**ANON, **DEVICE_SEERS}, "POST": {**ANON, **NOT_ALLOWED}},
    "devices:power": {"GET": {**ANON, **DEVICE_SEERS}, "POST": {**ANON, **NOT_ALLOWED}},
    "devices:sync_status": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **NOT_ALLOWED}},
    # Only those who may act on devices sync the whole account on demand.
    "devices:sync": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, "no_access": 403, "device_no_capability": 403,
                     "capability_no_device": 302, "full_access": 302, "manager": 302, "auditor": 403, "owner": 302}},
    "accounts:list": {"GET": {**ANON, **MANAGERS}, "POST": {**ANON, **NOT_ALLOWED}},
    "accounts:create": {"GET": {**ANON, **MANAGERS}, "POST": {**ANON, **MANAGERS, "manager": 400, "owner": 400}},
    "accounts:detail": {"GET": {**ANON, **MANAGERS}, "POST": {**ANON, **NOT_ALLOWED}},
    "accounts:capabilities": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **MANAGERS_POST}},
    "accounts:roles": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **MANAGERS_POST}},
    "accounts:devices": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **MANAGERS_POST}},
    "accounts:status": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **MANAGERS_POST}},
}
SEE_AND_ACT = {"no_access": 404, "device_no_capability": 403, "capability_no_device": 404, "full_access": 200,
               "manager": 200, "auditor": 404, "owner": 200}
ACTED = {**SEE_AND_ACT, "full_access": 302, "manager": 302, "owner": 302}
MATRIX.update({
    "workflows:rescue": {"GET": {**ANON, **SEE_AND_ACT}, "POST": {**ANON, **ACTED}},
    "workflows:boot_image": {"GET": {**ANON, **SEE_AND_ACT}, "POST": {**ANON, **NOT_ALLOWED}},
    # The provider is down in these tests: the image list cannot be read, so a permitted user is sent back.
    "workflows:boot_image_confirm": {"GET": {**ANON, **ACTED}, "POST": {**ANON, **ACTED}},
    "workflows:unload_image": {"GET": {**ANON, **SEE_AND_ACT}, "POST": {**ANON, **ACTED}},
    "workflows:restart": {"GET": {**ANON, **SEE_AND_ACT}, "POST": {**ANON, **ACTED}},
    # The device is not in rescue: those who may reveal are told it is shown only in rescue (409).
    "workflows:reveal_password": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **SEE_AND_ACT, "full_access": 409,
                                                                       "manager": 409, "owner": 409}},
    # The page's word that it shows a revealed password: without the receipt it was given, nothing (400).
    "workflows:password_shown": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **DEVICE_SEERS, **{
        r: 400 for r, status in DEVICE_SEERS.items() if status == 200}}},
    "workflows:operation": {"GET": {**ANON, **DEVICE_SEERS}, "POST": {**ANON, **NOT_ALLOWED}},
    "workflows:operation_progress": {"GET": {**ANON, **DEVICE_SEERS}, "POST": {**ANON, **NOT_ALLOWED}},
    # A rescue session: an empty extension is sent back with what is missing; "restarted from inside"
    # cannot ask the (down) provider whether the device runs, and says so.
    "workflows:extend_session": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **ACTED}},
    "workflows:back_from_inside": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **ACTED}},
    # Bulk: nothing selected sends everyone back to the Device List with what to do; an empty Yes
    # is refused there too (and audited). Each device is checked when the batch is made.
    "workflows:batch_new": {"GET": {**ANON, **{r: 302 for r in ROLES[1:]}},
                            "POST": {**ANON, **{r: 302 for r in ROLES[1:]}}},
    "workflows:batch": {"GET": {**ANON, **{r: 404 for r in ROLES[1:]}}, "POST": {**ANON, **NOT_ALLOWED}},
    "workflows:batch_progress": {"GET": {**ANON, **{r: 404 for r in ROLES[1:]}}, "POST": {**ANON, **NOT_ALLOWED}},
})
MATRIX.update({name: {"GET": {**ANON, **REVIEWERS}, "POST": {**ANON, **NOT_ALLOWED}} for name in (
    "audit:log", "audit:export_csv", "audit:export_jsonl", "audit:rescues", "audit:story", "audit:integrity")})
ALL = {r: 200 for r in ROLES}
ALL_405 = {r: 405 for r in ROLES}
MATRIX.update({
    # One's own password: every signed-in person; an empty form is refused with what is missing.
    "password_change": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **{r: 400 for r in ROLES[1:]}}},
    # "Forgot your password?" works signed in or not, and says the same whatever was asked.
    "password_reset": {"GET": ALL, "POST": ALL},
    "password_reset_done": {"GET": ALL, "POST": ALL_405},
    "password_reset_confirm": {"GET": ALL, "POST": ALL},  # a forged link: "This link is not valid"
    "password_reset_complete": {"GET": ALL, "POST": ALL_405},
    "accounts:password_reset": {"GET": {**ANON, **NOT_ALLOWED},
                                "POST": {**ANON, **MANAGERS}},  # 200: the one-time password, shown once
})
MATRIX.update({
    # Second factors: these users have none, so the sign-in step lets them through and no step-up is asked.
    "second_factor": {"GET": {**ANON, **{r: 302 for r in ROLES[1:]}}, "POST": {**ANON, **{r: 302 for r in ROLES[1:]}}},
    "security": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **NOT_ALLOWED}},
    "authenticator_add": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **EVERYONE}},  # a new QR code each time
    "recovery_codes": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **{r: 302 for r in ROLES[1:]}}},
    "factor_remove": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **{r: 404 for r in ROLES[1:]}}},  # not theirs
    "accounts:second_factor_reset": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **MANAGERS_POST}},
    # Only the owner sets who must have a second factor (an empty form: "Nothing was changed").
    "accounts:two_factor_rule": {"GET": {**ANON, **NOT_ALLOWED},
                                 "POST": {**ANON, **{r: 403 for r in ROLES[1:]}, "owner": 302}},
    # Passkey ceremonies (JSON): registration options for anyone signed in; completing without a
    # begun ceremony is refused (400).
    "otp_webauthn:credential-registration-begin": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **EVERYONE}},
    "otp_webauthn:credential-registration-complete": {"GET": {**ANON, **NOT_ALLOWED},
                                                      "POST": {**ANON, **{r: 400 for r in ROLES[1:]}}},
    "otp_webauthn:credential-authentication-complete": {"GET": {**ANON, **NOT_ALLOWED},
                                                        "POST": {**ANON, **{r: 400 for r in ROLES[1:]}}},
    # Single sign-on is off in these tests (no OIDC_ISSUER): its two steps are not found.
    "sso_start": {"GET": {r: 404 for r in ROLES}, "POST": ALL_405},
    "oidc_authentication_callback": {"GET": {r: 404 for r in ROLES}, "POST": ALL_405},
    # Group mappings are the owner's (an empty form: 400; a mapping that does not exist: 404).
    "accounts:sso": {"GET": {**ANON, **{r: 403 for r in ROLES[1:]}, "owner": 200},
                     "POST": {**ANON, **{r: 403 for r in ROLES[1:]}, "owner": 400}},
    "accounts:sso_delete": {"GET": {**ANON, **NOT_ALLOWED},
                            "POST": {**ANON, **{r: 403 for r in ROLES[1:]}, "owner": 404}},
})
OWNER_ONLY = {**{r: 403 for r in ROLES[1:]}}
MATRIX.update({
    # One's own notification choices: an empty form means "nothing by mail", saved.
    "notifications:preferences": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **{r: 302 for r in ROLES[1:]}}},
    # Webhooks are the owner's (an empty form: 400; a webhook that does not exist: 404).
    "notifications:webhooks": {"GET": {**ANON, **OWNER_ONLY, "owner": 200},
                               "POST": {**ANON, **OWNER_ONLY, "owner": 400}},
    "notifications:webhook": {"GET": {**ANON, **OWNER_ONLY, "owner": 404}, "POST": {**ANON, **NOT_ALLOWED}},
    "notifications:webhook_test": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **OWNER_ONLY, "owner": 404}},
    "notifications:webhook_delete": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **OWNER_ONLY, "owner": 404}},
})
# The JSON API: a token with every scope for each kind of user (no token: 401). The world's device
# is "normal" with a session row in rescue; the provider is down.
NO_TOKEN = {"anonymous": 401}
API_ALL = {**NO_TOKEN, **{r: 200 for r in ROLES[1:]}}
API_405 = {**NO_TOKEN, **{r: 405 for r in ROLES[1:]}}
API_SEE_AND_ACT = {**NO_TOKEN, **SEE_AND_ACT}
API_MANAGERS = {**NO_TOKEN, **MANAGERS}
API_MANAGERS_405 = {**API_MANAGERS, "manager": 405, "owner": 405}
MATRIX.update({
    "api:me": {"GET": API_ALL, "POST": API_405},
    "api:time_limits": {"GET": API_ALL, "POST": API_405},
    "api:devices": {"GET": API_ALL, "POST": API_405},
    "api:device": {"GET": {**NO_TOKEN, **DEVICE_SEERS}, "POST": API_405},
    # Not in rescue: nothing to connect to yet.
    "api:connection": {"GET": {**NO_TOKEN, **DEVICE_SEERS, **{r: 409 for r, v in DEVICE_SEERS.items() if v == 200}},
                       "POST": API_405},
    "api:reveal_password": {"GET": API_405, "POST": {**API_SEE_AND_ACT, "full_access": 409, "manager": 409,
                                                     "owner": 409}},
    # The image list comes from the provider, which is down (503).
    "api:images": {"GET": {**NO_TOKEN, **DEVICE_SEERS, **{r: 503 for r, v in DEVICE_SEERS.items() if v == 200}},
                   "POST": API_405},
    "api:device_operations": {"GET": API_405, "POST": {**API_SEE_AND_ACT, "full_access": 201, "manager": 201,
                                                       "owner": 201}},
    "api:operations": {"GET": API_ALL, "POST": API_405},
    "api:operation": {"GET": {**NO_TOKEN, **DEVICE_SEERS}, "POST": API_405},
    "api:extend": {"GET": API_405, "POST": {**API_SEE_AND_ACT, "full_access": 400, "manager": 400, "owner": 400}},
    "api:end": {"GET": API_405, "POST": {**API_SEE_AND_ACT, "full_access": 201, "manager": 201, "owner": 201}},
    "api:back_to_normal": {"GET": API_405, "POST": {**API_SEE_AND_ACT, "full_access": 503, "manager": 503,
                                                    "owner": 503}},
    "api:audit_events": {"GET": {**NO_TOKEN, **REVIEWERS}, "POST": {**NO_TOKEN, **REVIEWERS, "auditor": 405,
                                                                    "owner": 405}},
    "api:past_rescues": {"GET": {**NO_TOKEN, **REVIEWERS}, "POST": {**NO_TOKEN, **REVIEWERS, "auditor": 405,
                                                                    "owner": 405}},
    "api:users": {"GET": API_MANAGERS, "POST": {**API_MANAGERS, "manager": 405, "owner": 405}},
    "api:user": {"GET": API_MANAGERS, "POST": {**API_MANAGERS, "manager": 405, "owner": 405}},
    "api:roles": {"GET": API_MANAGERS, "POST": {**API_MANAGERS, "manager": 405, "owner": 405}},
    # Changes: the kind of user first (a denied row), then the method (PUT only) or the fields.
    "api:user_roles": {"GET": API_MANAGERS_405, "POST": API_MANAGERS_405},
    "api:user_devices": {"GET": API_MANAGERS_405, "POST": {**API_MANAGERS, "manager": 400, "owner": 400}},
    # The schema and its pages are public: they describe, they hold nothing.
    "api:schema": {"GET": ALL, "POST": ALL_405},
    "api:docs": {"GET": ALL, "POST": ALL_405},
    # The API tokens page: one's own tokens (an empty form: 400; a token that is not theirs: 404).
    "api:tokens": {"GET": {**ANON, **EVERYONE}, "POST": {**ANON, **{r: 400 for r in ROLES[1:]}}},
    "api:revoke": {"GET": {**ANON, **NOT_ALLOWED}, "POST": {**ANON, **{r: 404 for r in ROLES[1:]}}},
})
MATRIX.update({
    # For load balancers and Prometheus: liveness for anyone; readiness for anyone, its detail and the
    # metrics for the owner (or METRICS_TOKEN). No worker runs in these tests: not ready.
    "monitoring:live": {"GET": ALL, "POST": ALL_405},
    "monitoring:ready": {"GET": {r: 503 for r in ROLES}, "POST": ALL_405},
    "monitoring:metrics": {"GET": {**{r: 401 for r in ROLES}, "owner": 200}, "POST": ALL_405},
})
POST_DATA = {"api:device_operations": lambda w: {"kind": "restart"},
             "accounts:devices": lambda w: {"action": "remove", "devices": [w["device"].pk]},
             "accounts:status": lambda w: {"active": "1"}, "login": lambda w: {"username": "x", "password": "y"}}


def our_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    continue
                walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern):
                module = getattr(pattern.callback, "__module__", "")
                if module.startswith(OURS):
                    names.add(f"{namespace}{pattern.name}" if pattern.name else f"{namespace}{pattern.pattern}")

    walk(get_resolver().url_patterns)
    return {"root" if name == "" else name for name in names}


def test_every_view_is_in_the_matrix():
    assert our_url_names() == set(MATRIX), "add the new view to MATRIX with its expected statuses"


@pytest.fixture
def world(db):
    device = DeviceFactory(kind="virtual")
    target = UserFactory(username="someone")
    owner = OwnerFactory()
    operation = Operation.objects.create(device=device, requested_by=owner, kind="rescue", state="in_rescue",
                                         deadline_at=timezone.now())
    users = {
        "no_access": UserFactory(),
        "device_no_capability": grant(UserFactory(), devices=[device]),
        "capability_no_device": grant(UserFactory(), caps.SERVER_RELOAD, caps.REMOTE_MANAGEMENT),
        "full_access": grant(UserFactory(), caps.ACCESS_ALL_GUEST, caps.ACCESS_ALL_HARDWARE, roles=["Operator"]),
        "manager": grant(UserFactory(), caps.ACCESS_ALL_GUEST, caps.ACCESS_ALL_HARDWARE,
                         roles=["User manager", "Operator"]),
        "auditor": grant(UserFactory(), roles=["Auditor"]),
        "owner": owner,
    }
    return {"device": device, "target": target, "users": users, "operation": operation}


def url_for(name: str, world) -> str:
    if name == "root":
        return "/"
    if name in ("api:device", "api:connection", "api:reveal_password", "api:images", "api:device_operations"):
        return reverse(name, args=[world["device"].pk])
    if name in ("api:operation", "api:extend", "api:end", "api:back_to_normal"):
        return reverse(name, args=[world["operation"].pk])
    if name in ("api:user", "api:user_roles", "api:user_devices"):
        return reverse(name, args=[world["target"].pk])
    if name == "api:revoke":
        return reverse(name, args=[999999])
    if name in ("devices:detail", "devices:power", "workflows:rescue", "workflows:boot_image", "workflows:unload_image",
                "workflows:restart", "workflows:reveal_password", "workflows:password_shown"):
        return reverse(name, args=[world["device"].pk])
    if name == "workflows:boot_image_confirm":
        return reverse(name, args=[world["device"].pk, 5001])
    if name.startswith("workflows:operation") or name in ("audit:story", "workflows:extend_session",
                                                          "workflows:back_from_inside"):
        return reverse(name, args=[world["operation"].pk])
    if name == "workflows:batch_new":
        return reverse(name, args=["rescue"])
    if name in ("notifications:webhook", "notifications:webhook_test", "notifications:webhook_delete",
                "workflows:batch", "workflows:batch_progress"):
        return reverse(name, args=[999999])
    if name == "factor_remove":
        return reverse(name, args=["totp", 999999])
    if name == "password_reset_confirm":
        return reverse(name, args=["MTIzNDU", "forged-token"])
    if name.startswith("accounts:") and name not in ("accounts:list", "accounts:create", "accounts:two_factor_rule",
                                                     "accounts:sso"):
        return reverse(name, args=[world["target"].pk])
    return reverse(name)


CASES = [(name, method, role) for name in sorted(MATRIX) for method in ("GET", "POST") for role in ROLES]


@pytest.mark.parametrize("name,method,role", CASES)
def test_matrix(client, world, settings, name, method, role):
    settings.SOFTLAYER_ENDPOINT_URL = "http://127.0.0.1:9/xmlrpc/v3.1/"  # device pages must not need it
    settings.SOFTLAYER_RETRY_ATTEMPTS = 1
    data = POST_DATA.get(name, lambda w: {})(world)
    api = name.startswith("api:") and name not in ("api:tokens", "api:revoke")
    headers = {}
    if role != "anonymous" and api:
        headers = bearer(api_token(world["users"][role], *(s for s in Scope.values if s != Scope.READ)))
    elif role != "anonymous":
        client.force_login(world["users"][role])
    denied_before = AuditEvent.objects.filter(outcome="denied").count()

    if method == "GET":
        response = client.get(url_for(name, world), **headers)
    elif api:
        response = client.post(url_for(name, world), json.dumps(data), content_type="application/json", **headers)
    else:
        response = client.post(url_for(name, world), data)

    expected = MATRIX[name][method][role]
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected
    if expected == 403 and (method == "POST" or name.startswith(("audit:", "api:"))):  # a refusal leaves its denied row
        assert AuditEvent.objects.filter(outcome="denied").count() == denied_before + 1
