from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.validators import MaxLengthValidator

from devices.models import Device

from .capabilities import CAPABILITIES
from .fields import BoundedModelChoiceField, BoundedModelMultipleChoiceField
from .models import Role, TwoFactorRule, User
from .names import ALLOWED


class LoginForm(AuthenticationForm):
    """Django's login form sets the username's max_length without enforcing it: a longer name
    would reach authentication and django-axes' 255-character column (a 500 on PostgreSQL)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))


class UserCreateForm(forms.Form):
    # ASCII only: a Cyrillic or Greek letter o (U+043E, U+03BF) would make a second "owner" that looks like the first.
    username = forms.RegexField(regex=ALLOWED, max_length=150, strip=True,
                                error_messages={"invalid": "Use the letters a-z and A-Z, digits and @ . + - _ only "
                                                           "(letters from other alphabets can look like these)."},
                                help_text="Letters a-z and A-Z, digits and @ . + - _ only. Case does not make a "
                                          "new name: Alice and alice are one user.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False,
                               help_text="Give it to the user; they change it under Your password.")
    role = BoundedModelChoiceField(Role.objects.all(), required=False, empty_label="No role (no permissions)")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A user with this username already exists.")
        return username

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("username"):
            try:
                # The same user the service checks against: names and address count as much as the username.
                validate_password(cleaned["password"], User(**{name: cleaned.get(name) or "" for name in (
                    "username", "email", "first_name", "last_name")}))
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class CapabilitiesForm(forms.Form):
    capabilities = forms.MultipleChoiceField(choices=[(c.key, c.name) for c in CAPABILITIES], required=False)


class RolesForm(forms.Form):
    roles = BoundedModelMultipleChoiceField(Role.objects.all(), required=False)


class DeviceAccessForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "Grant access"), ("remove", "Remove access")])
    devices = BoundedModelMultipleChoiceField(Device.objects.all(), error_messages={
        "required": "Select at least one device.",
        "invalid_choice": "One of the selected devices does not exist.",
        "invalid_pk_value": "One of the selected devices does not exist."})

    def clean_devices(self):
        devices = self.cleaned_data["devices"]
        if len(devices) > 1000:
            raise forms.ValidationError("Select at most 1,000 devices at a time.")
        return devices


class StatusForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "Reactivate"), ("0", "Deactivate")],
                                    coerce=lambda v: v == "1")


class TwoFactorRuleForm(forms.Form):
    applies_to = forms.ChoiceField(choices=TwoFactorRule.AppliesTo.choices, widget=forms.RadioSelect)
    capabilities = forms.MultipleChoiceField(choices=[(c.key, c.name) for c in CAPABILITIES], required=False,
                                             widget=forms.CheckboxSelectMultiple)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("applies_to") == TwoFactorRule.AppliesTo.CAPABILITIES and not cleaned.get("capabilities"):
            raise forms.ValidationError("Tick at least one permission whose holders need a second factor.")
        return cleaned


class GroupMappingForm(forms.Form):
    group = forms.CharField(max_length=150, strip=True, help_text="The group's name exactly as the provider sends it.")
    roles = BoundedModelMultipleChoiceField(Role.objects.all(), required=False, widget=forms.CheckboxSelectMultiple)
    devices = BoundedModelMultipleChoiceField(Device.objects.order_by("hostname"), required=False,
                                              error_messages={"invalid_choice": "One of the selected devices does "
                                                                                "not exist."})

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("roles") and not cleaned.get("devices"):
            raise forms.ValidationError("Choose at least one role or device: a mapping that gives nothing lets "
                                        "nobody in.")
        return cleaned
