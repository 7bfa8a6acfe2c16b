"""The JSON API (/api/v1/): thin views over the same policy, services and record() as the pages."""

import django_filters
from django import forms
from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, pagination, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import factors, policy
from accounts import services as account_services
from accounts.capabilities import USER_EVENT_LOG_VIEW, USER_MANAGE
from accounts.models import Role, User
from accounts.refusals import Refused, Why
from audit.models import AuditEvent
from audit.services import record
from devices import provider
from devices.filters import DeviceFilter
from devices.models import Device
from devices.selectors import device_detail, device_list, rescue_environment
from review import selectors as review_selectors
from review.filters import AuditFilter
from review.forms import RescueFilterForm
from workflows import selectors as workflow_selectors
from workflows import services as workflows
from workflows.models import Operation
from workflows.rules import EXIT_KIND, state_blocker

from . import serializers as s
from .idempotency import idempotent
from .models import Scope

Kind = Operation.Kind
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                               description="Any unique string (a UUID): a retry with the same key and body gets "
                                           "the first answer and changes nothing again.")


class Cursor(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"


class ById(Cursor):
    ordering = "id"


class BySeq(Cursor):
    ordering = "-seq"


def _demand(user, capability: str, event: str, reason: str) -> None:
    """A capability on no particular device (reviewers, managers): refused with a denied row."""
    if not policy.can(user, capability):
        record(event, "denied", reason=reason)
        raise Refused(reason)


def _step_up(request, proof: dict, *, purpose: str, device=None, target=None) -> None:
    """As in the browser, Reveal and Manage Users changes need proof it is the person: a code from
    their second factor if they have one, else their password. Asked on every such request (a
    token has no session to remember it in)."""
    user = request.user
    if factors.has_second_factor(user):
        if not proof.get("code"):
            text = "Send `code`: a code from your authenticator app (or a recovery code) to confirm it is you."
            record("user.step_up", "denied", device=device, target=target, reason=text, detail={"change": purpose})
            raise Refused(text)
        try:
            factors.check_code(user, proof["code"], purpose=purpose)
        except factors.FactorError as refused:
            raise Refused(str(refused)) from None
        return
    if not proof.get("password"):
        text = "Send `password`: your portal password, to confirm it is you."
        record("user.step_up", "denied", device=device, target=target, reason=text, detail={"change": purpose})
        raise Refused(text)
    if not account_services.password_is_theirs(request._request, user, proof["password"]):
        record("auth.reauth_failed", "failed", device=device, target=target)
        raise Refused("That is not your password.")


class Demanding:
    """A view that needs a capability on no particular device (reviewers, managers): checked after
    the token and its scope, refused with a denied row."""
    demand: tuple[str, str, str] | None = None

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if self.demand:
            _demand(request.user, *self.demand)


# --- Who am I ------------------------------------------------------------------------------------------


class Me(APIView):
    @extend_schema(responses={200: s.MeSerializer}, summary="The token's user, scopes and expiry")
    def get(self, request):
        token = request.auth
        return Response({"username": request.user.username,
                         "capabilities": sorted(policy.capabilities_of(request.user)), "token_name": token.name,
                         "token_scopes": token.scopes, "token_expires_at": token.expires_at})


class TimeLimits(APIView):
    @extend_schema(responses={200: s.TimeLimitsSerializer}, summary="The time limits a session may have")
    def get(self, request):
        def number(minutes: float) -> float | int:
            return int(minutes) if float(minutes).is_integer() else minutes

        return Response({"choices_minutes": [number(m) for m in workflows.offered_time_limits()],
                         "default_minutes": number(workflows.default_time_limit()),
                         "maximum_minutes": number(settings.RESCUE_TIME_LIMIT_MAX_MINUTES)})


# --- Devices -------------------------------------------------------------------------------------------


class DeviceList(generics.ListAPIView):
    """The Device List: the devices you may see, with its filters (q, kind, os_family, datacenter,
    power_state, status)."""
    serializer_class = s.DeviceSerializer
    pagination_class = ById
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeviceFilter
    queryset = Device.objects.none()

    def get_queryset(self):
        return device_list(self.request.user)


def _actions(user, device) -> list[dict]:
    kinds = [(Kind.RESCUE, "Rescue mode")] + ([(Kind.BOOT_IMAGE, "Boot from image")] if device.kind == "virtual"
                                              else []) + [(Kind.UNLOAD_IMAGE, "Continue"), (Kind.RESTART, "Restart")]
    out = []
    for kind, label in kinds:
        reason = ""
        if device.vanished_at is not None:
            reason = "This device is no longer in the SoftLayer account."
        elif not policy.can(user, workflows.CAPABILITY[kind], device):
            reason = "You do not have permission to do this on this device."
        elif kind == Kind.UNLOAD_IMAGE and device.status != device.Status.IMAGE_MOUNTED:
            reason = "No image is mounted."
        else:
            reason = state_blocker(device, kind)
        out.append({"kind": kind, "label": label, "allowed": not reason, "reason": reason})
    return out


class DeviceDetail(APIView):
    @extend_schema(responses={200: s.DeviceDetailSerializer}, summary="One device, and what you may do")
    def get(self, request, pk: int):
        device = device_detail(request.user, pk)
        active = workflow_selectors.active_operation(device)
        session = workflow_selectors.current_session(device)
        data = s.DeviceSerializer(device).data
        return Response({**data, "active_operation": active.pk if active else None,
                         "current_session": session.pk if session else None,
                         "actions": _actions(request.user, device)})


class Connection(APIView):
    @extend_schema(responses={200: s.ConnectionSerializer},
                   summary="How to connect while the device is in rescue or booted from an image")
    def get(self, request, pk: int):
        device = device_detail(request.user, pk)
        connection = workflow_selectors.how_to_connect(device)
        if connection is None:
            raise Refused("The device is not in rescue mode or booted from an image; there is nothing to connect "
                          "to yet. Request Rescue mode first.", Why.CONFLICT)
        session = workflow_selectors.current_session(device)
        leave = f"POST /api/v1/operations/{session.pk if session else '{id}'}"
        return Response({
            "device": device.pk, "environment": "image" if connection.image else "rescue",
            "address": connection.address, "private_network": connection.private_network, "user": connection.user,
            "command": connection.command,
            "how_to_leave": f"{leave}/end/ (Continue)" if connection.image
            else f"{leave}/end/ (Restart), or restart from inside the rescue system and {leave}/back-to-normal/"})


class RevealPassword(APIView):
    required_scope = Scope.REVEAL

    @extend_schema(request=s.StepUpSerializer, responses={200: s.CredentialsSerializer},
                   summary="Reveal password: fetched from SoftLayer, shown once, kept nowhere")
    def post(self, request, pk: int):
        device = device_detail(request.user, pk)
        workflows.check_may_reveal(request.user, device)
        proof = s.StepUpSerializer(data=request.data)
        proof.is_valid(raise_exception=True)
        _step_up(request, proof.validated_data, purpose="reveal", device=device)
        credentials, _ = workflows.reveal_passwords(request.user, device)
        response = Response({"device": device.pk, "credentials": [
            {"username": c.get("username", ""), "password": c.get("password", "")} for c in credentials]})
        response["Cache-Control"] = "no-store"
        return response


class Images(APIView):
    @extend_schema(responses={200: s.ImageSerializer(many=True)},
                   summary="Public images this virtual server can boot from")
    def get(self, request, pk: int):
        device = device_detail(request.user, pk)
        if device.kind != device.Kind.VIRTUAL:
            raise Refused("Boot from image is offered for virtual servers only.", Why.CONFLICT)
        try:
            images = workflow_selectors.public_iso_images(device)
        except provider.ProviderError as exc:
            raise Refused(f"The list of images could not be read: {exc.message}", Why.UNAVAILABLE) from None
        return Response([{"id": int(i["id"]), "name": i.get("name", ""),
                          "recommended": i.get("name") == workflow_selectors.RECOMMENDED_ISO} for i in images])


# --- Operations ----------------------------------------------------------------------------------------


def _created(request, op: Operation, replayed: bool = False) -> Response:
    response = Response(s.OperationSerializer(op).data, status=status.HTTP_201_CREATED)
    response["Location"] = request.build_absolute_uri(f"/api/v1/operations/{op.pk}/")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _request_operation(request, device, kind: str, claim, **fields) -> Response:
    """Through the one service; a retry whose first try made the operation gets that operation."""
    confirmation = f"api:{claim.pk}" if claim is not None else ""
    try:
        op = workflows.request_operation(request.user, device, kind, confirmation=confirmation, **fields)
    except workflows.OperationRefused as refused:
        if confirmation and refused.operation is not None and refused.operation.confirmation == confirmation:
            return _created(request, refused.operation, replayed=True)
        raise
    return _created(request, op)


class DeviceOperations(APIView):
    required_scope = Scope.OPERATE

    @extend_schema(request=s.OperationRequestSerializer, parameters=[IDEMPOTENCY],
                   responses={201: s.OperationSerializer},
                   summary="Request Rescue mode, Boot from image, Continue or Restart (the Yes of the console)")
    @idempotent
    def post(self, request, pk: int, claim=None):
        device = device_detail(request.user, pk)
        body = s.OperationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        kind, fields = data["kind"], {"reason": data["reason"]}
        if kind in EXIT_KIND:
            fields["time_limit_minutes"] = data.get("time_limit_minutes")
        if kind == Kind.RESCUE:
            fields["rescue_os"] = rescue_environment(device)
        if kind == Kind.BOOT_IMAGE:
            fields["iso_image"] = self._image(request, device, data.get("image_id"))
        return _request_operation(request, device, kind, claim, **fields)

    @staticmethod
    def _image(request, device, image_id: int | None) -> dict:
        if not policy.can(request.user, workflows.CAPABILITY[Kind.BOOT_IMAGE], device):
            return {}  # the service refuses it, audited, before anything else
        if device.kind != device.Kind.VIRTUAL:
            raise Refused("Boot from image is offered for virtual servers only.", Why.CONFLICT)
        if image_id is None:
            raise Refused("Send `image_id`: the id of a public image (GET /api/v1/devices/{id}/images/).",
                          Why.INVALID)
        try:
            images = workflow_selectors.public_iso_images(device)
        except provider.ProviderError as exc:
            raise Refused(f"The list of images could not be read: {exc.message}", Why.UNAVAILABLE) from None
        image = next((i for i in images if int(i["id"]) == image_id), None)
        if image is None:
            raise Refused(f"There is no public image with id {image_id}. GET /api/v1/devices/{device.pk}/images/ "
                          "lists them.", Why.INVALID)
        return {"id": image["id"], "name": image["name"]}


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class OperationFilter(django_filters.FilterSet):
    """A device id is a plain number: an id you may not see finds nothing, as one that does not exist."""
    device = IdFilter(field_name="device_id", min_value=1, max_value=2**62)

    class Meta:
        model = Operation
        fields = ["device", "state", "kind"]


class OperationList(generics.ListAPIView):
    """Operations on the devices you may see, newest first (filters: device, state, kind)."""
    serializer_class = s.OperationSerializer
    pagination_class = Cursor
    filter_backends = [DjangoFilterBackend]
    filterset_class = OperationFilter

    queryset = Operation.objects.none()

    def get_queryset(self):
        return Operation.objects.filter(device__in=policy.devices_for(self.request.user)).select_related(
            "device", "requested_by")


class OperationDetail(APIView):
    @extend_schema(responses={200: s.OperationSerializer},
                   summary="An operation's progress: poll until `is_active` is false")
    def get(self, request, pk: int):
        return Response(s.OperationSerializer(workflow_selectors.operation_for(request.user, pk)).data)


class Extend(APIView):
    required_scope = Scope.OPERATE

    @extend_schema(request=s.ExtendSerializer, parameters=[IDEMPOTENCY],
                   responses={200: s.OperationSerializer}, summary="More time for a session")
    @idempotent
    def post(self, request, pk: int, claim=None):
        op = workflow_selectors.operation_for(request.user, pk)
        workflows.check_may_act_on_session(request.user, op, "rescue_session.extend")
        body = s.ExtendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        op = workflows.extend(request.user, op, body.validated_data["minutes"], body.validated_data["reason"])
        return Response(s.OperationSerializer(op).data)


class End(APIView):
    required_scope = Scope.OPERATE

    @extend_schema(request=s.EndSerializer, parameters=[IDEMPOTENCY],
                   responses={201: s.OperationSerializer},
                   summary="End a session now: Restart (rescue) or Continue (image)")
    @idempotent
    def post(self, request, pk: int, claim=None):
        session = workflow_selectors.operation_for(request.user, pk)
        body = s.EndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if session.kind not in EXIT_KIND:
            raise Refused("Only a Rescue mode or Boot from image operation is a session that can be ended.",
                          Why.CONFLICT)
        if not session.is_session:
            record(workflows.EVENTS[EXIT_KIND[session.kind]], "denied", device=session.device,
                   operation_id=session.pk, reason="This session has already ended.")
            raise Refused("This session has already ended.", Why.CONFLICT)
        return _request_operation(request, session.device, EXIT_KIND[session.kind], claim,
                                  reason=body.validated_data["reason"])


class BackToNormal(APIView):
    required_scope = Scope.OPERATE

    @extend_schema(request=None, parameters=[IDEMPOTENCY], responses={200: s.OperationSerializer},
                   summary="Restarted from inside: the device left rescue by itself (nothing is sent to SoftLayer)")
    @idempotent
    def post(self, request, pk: int, claim=None):
        op = workflow_selectors.operation_for(request.user, pk)
        return Response(s.OperationSerializer(workflows.back_from_inside(request.user, op)).data)


# --- Review: the audit trail and past rescues ------------------------------------------------------------

NEED_EVENT_LOG = "You need the View Event Log permission to review the audit trail."


REVIEWERS = (USER_EVENT_LOG_VIEW, "audit.view", NEED_EVENT_LOG)


class AuditEvents(Demanding, generics.ListAPIView):
    """The audit trail, newest first, with the Audit log's filters."""
    serializer_class = s.AuditEventSerializer
    pagination_class = BySeq
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditFilter
    queryset = AuditEvent.objects.all()
    demand = REVIEWERS


class PastRescues(Demanding, generics.ListAPIView):
    """Rescue and Boot from image operations with their time in rescue (filters: device, actor, state)."""
    serializer_class = s.PastRescueSerializer
    pagination_class = Cursor

    @extend_schema(parameters=[OpenApiParameter("device", str), OpenApiParameter("actor", str),
                               OpenApiParameter("state", str, enum=Operation.State.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    queryset = Operation.objects.none()
    demand = REVIEWERS

    def get_queryset(self):
        wanted = RescueFilterForm(self.request.query_params).filters()
        return review_selectors.matching_rescues(Operation.objects.all(), wanted)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        now = timezone.now()
        for op in page or []:
            op.seconds_in_rescue = review_selectors.time_in_rescue(op, now)
        return page


# --- Manage Users ----------------------------------------------------------------------------------------

NEED_MANAGE_USERS = "You need the Manage Users permission to see or change users."
MANAGERS = (USER_MANAGE, "user.view", NEED_MANAGE_USERS)


class UserList(Demanding, generics.ListAPIView):
    serializer_class = s.UserSerializer
    pagination_class = ById
    queryset = User.objects.prefetch_related("roles", "capabilities", "devices")
    demand = MANAGERS


class UserDetail(Demanding, APIView):
    demand = MANAGERS

    @extend_schema(responses={200: s.UserSerializer}, summary="A user's roles, permissions and devices")
    def get(self, request, pk: int):
        return Response(s.UserSerializer(get_object_or_404(User, pk=pk)).data)


class RoleList(Demanding, generics.ListAPIView):
    serializer_class = s.RoleSerializer
    pagination_class = ById
    queryset = Role.objects.prefetch_related("capabilities")
    demand = MANAGERS


class _UserChange(Demanding, APIView):
    required_scope = Scope.MANAGE
    demand = MANAGERS
    event = ""

    def _target(self, request, pk: int, body) -> User:
        target = get_object_or_404(User, pk=pk)
        account_services.check_may_change(request.user, target, self.event)
        body.is_valid(raise_exception=True)
        _step_up(request, body.validated_data, purpose=self.event, target=target)
        return target


class UserRoles(_UserChange):
    event = "user.role.grant"

    @extend_schema(request=s.RolesChangeSerializer, responses={200: s.UserSerializer},
                   summary="Set the roles a user holds (the whole set: sent twice, it is the same)")
    def put(self, request, pk: int):
        body = s.RolesChangeSerializer(data=request.data)
        target = self._target(request, pk, body)
        names = set(body.validated_data["roles"])
        roles = list(Role.objects.filter(name__in=names))
        if unknown := names - {r.name for r in roles}:
            raise Refused(f"No role is called {', '.join(sorted(unknown))}. GET /api/v1/roles/ lists them.",
                          Why.INVALID)
        account_services.set_roles(request.user, target, roles)
        return Response(s.UserSerializer(User.objects.get(pk=target.pk)).data)


class UserDevices(_UserChange):
    event = "user.device_access.grant"

    @extend_schema(request=s.DeviceAccessChangeSerializer, responses={200: s.UserSerializer},
                   summary="Give or take away access to devices (sent twice, it is the same)")
    def post(self, request, pk: int):
        body = s.DeviceAccessChangeSerializer(data=request.data)
        target = self._target(request, pk, body)
        wanted = set(body.validated_data["device_ids"])
        devices = list(policy.devices_for(request.user).filter(pk__in=wanted))
        if missing := wanted - {d.pk for d in devices}:
            raise NotFound(f"No device you may see has the id {', '.join(map(str, sorted(missing)[:10]))}.")
        account_services.change_device_access(request.user, target, devices, body.validated_data["grant"])
        return Response(s.UserSerializer(User.objects.get(pk=target.pk)).data)
