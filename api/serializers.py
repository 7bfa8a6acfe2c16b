"""What the API shows and takes. Read shapes are plain; writes are checked again by the services."""

from rest_framework import serializers

from accounts.models import Role, User
from audit.models import AuditEvent
from devices.models import Device
from workflows.models import Operation

Kind = Operation.Kind


class DeviceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="fqdn")

    class Meta:
        model = Device
        fields = ["id", "name", "kind", "hostname", "domain", "datacenter", "datacenter_long_name", "public_ip",
                  "private_ip", "os_name", "os_family", "memory_mb", "cpus", "power_state", "status",
                  "session_ends_at", "provider_id", "last_synced_at", "vanished_at"]


class ActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    label = serializers.CharField()
    allowed = serializers.BooleanField(help_text="Whether you may do it and the device's state lets you now.")
    reason = serializers.CharField(help_text="Why not, with what to do instead; empty when allowed.")


class DeviceDetailSerializer(DeviceSerializer):
    active_operation = serializers.IntegerField(allow_null=True, help_text="The operation under way, if any.")
    current_session = serializers.IntegerField(allow_null=True,
                                               help_text="The rescue or image session the device is in, if any.")
    actions = ActionSerializer(many=True)

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "active_operation", "current_session", "actions"]


class OperationSerializer(serializers.ModelSerializer):
    device_name = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username")
    state_label = serializers.CharField(source="get_state_display")
    is_active = serializers.BooleanField(help_text="Still under way: poll until false.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="When the time limit ends the session.")

    def get_device_name(self, op: Operation) -> str:
        return op.device.fqdn

    class Meta:
        model = Operation
        fields = ["id", "device", "device_name", "kind", "state", "state_label", "is_active", "reason",
                  "requested_by", "automatic", "iso_image_id", "iso_image_name", "rescue_os", "provider_status",
                  "provider_estimate_seconds", "provider_problem", "error", "time_limit_seconds", "ends_at",
                  "exit_note", "created_at", "submitted_at", "finished_at", "exited_at"]


class OperationRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices,
                                   help_text="rescue (Rescue mode), boot_image (Boot from image, virtual servers), "
                                             "unload_image (Continue), restart (Restart).")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                   help_text="Why; kept in the audit trail.")
    image_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62,
                                        help_text="For boot_image: a public image's id (GET …/images/).")
    time_limit_minutes = serializers.FloatField(required=False, min_value=0, max_value=10**6,
                                                help_text="For rescue and boot_image: one of GET /api/v1/time-limits/; "
                                                          "the default when left out.")


class ExtendSerializer(serializers.Serializer):
    minutes = serializers.FloatField(min_value=0, max_value=10**6, help_text="One of GET /api/v1/time-limits/.")
    reason = serializers.CharField(max_length=500, help_text="Why the session needs more time (audited).")


class EndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StepUpSerializer(serializers.Serializer):
    """Who has a second factor sends a code; who has none, their password."""
    code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="", write_only=True,
                                 help_text="A code from your authenticator app, or a recovery code.")
    password = serializers.CharField(max_length=4096, required=False, allow_blank=True, default="",
                                     write_only=True, trim_whitespace=False,
                                     help_text="Your password (when you have no second factor).")


class CredentialSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class CredentialsSerializer(serializers.Serializer):
    device = serializers.IntegerField()
    credentials = CredentialSerializer(many=True)


class ConnectionSerializer(serializers.Serializer):
    device = serializers.IntegerField()
    environment = serializers.ChoiceField(choices=["rescue", "image"])
    address = serializers.CharField()
    private_network = serializers.BooleanField(help_text="Only a private address: connect through the VPN.")
    user = serializers.CharField()
    command = serializers.CharField(help_text="The ssh or Remote Desktop line.")
    how_to_leave = serializers.CharField()


class ImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    recommended = serializers.BooleanField()


class TimeLimitsSerializer(serializers.Serializer):
    choices_minutes = serializers.ListField(child=serializers.FloatField())
    default_minutes = serializers.FloatField()
    maximum_minutes = serializers.FloatField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())
    token_name = serializers.CharField()
    token_scopes = serializers.ListField(child=serializers.CharField())
    token_expires_at = serializers.DateTimeField()


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["seq", "created_at", "actor_username", "actor_type", "source_ip", "request_id", "event", "outcome",
                  "object_type", "object_id", "object_label", "device_id", "operation_id", "reason", "detail", "hash"]


class PastRescueSerializer(OperationSerializer):
    seconds_in_rescue = serializers.FloatField(allow_null=True)

    class Meta(OperationSerializer.Meta):
        fields = [*OperationSerializer.Meta.fields, "seconds_in_rescue"]


class RoleSerializer(serializers.ModelSerializer):
    capabilities = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)

    class Meta:
        model = Role
        fields = ["id", "name", "capabilities"]


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    capabilities = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True,
                                                help_text="Granted directly (roles add theirs).")
    devices = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                                 help_text="Devices granted one by one.")

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "is_active", "is_account_owner", "roles",
                  "capabilities", "devices", "last_login"]


class RolesChangeSerializer(StepUpSerializer):
    roles = serializers.ListField(child=serializers.CharField(max_length=150), max_length=100,
                                  help_text="The names of every role the user should hold (others are removed).")


class DeviceAccessChangeSerializer(StepUpSerializer):
    device_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=1,
                                       max_length=500)
    grant = serializers.BooleanField(help_text="true: give access; false: take it away.")
