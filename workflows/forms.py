from django import forms
from django.conf import settings
from django.core import signing

from .rules import minutes_label
from .services import default_time_limit, offered_time_limits

_SALT = "workflows.confirmation"


def confirmation_token(user, device, kind: str, subject: str = "") -> str:
    """A signed, single-use token for one confirmation page: this person, this device, this action,
    and what the action is about (the image to boot), so a Yes confirms exactly what was shown."""
    import secrets

    return signing.dumps({"u": user.pk, "d": device.pk, "k": kind, "s": subject, "n": secrets.token_urlsafe(16)},
                         salt=_SALT)


def _signed_yes(token: str) -> dict:
    """A confirmation page's token, if this portal signed it within CONFIRMATION_MAX_AGE_MINUTES."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.CONFIRMATION_MAX_AGE_MINUTES * 60)
    except signing.SignatureExpired:
        raise forms.ValidationError("This confirmation page was open too long.") from None
    except signing.BadSignature:
        raise forms.ValidationError("This confirmation is not valid.") from None
    if not isinstance(data, dict):
        raise forms.ValidationError("This confirmation is not valid.")
    return data


class ConfirmForm(forms.Form):
    """Yes on a confirmation page. The token ties the Yes to the page that was shown, for
    CONFIRMATION_MAX_AGE_MINUTES; the operation keeps its nonce, so a replayed Yes does nothing."""

    reason = forms.CharField(max_length=500, required=False, strip=True, widget=forms.Textarea(
        attrs={"rows": 2, "placeholder": "Why? (optional, kept in the audit trail)"}))
    confirmation = forms.CharField(widget=forms.HiddenInput, max_length=400, error_messages={
        "required": "This Yes did not come from a confirmation page."})

    def __init__(self, *args, user=None, device=None, kind: str = "", subject: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = {"u": getattr(user, "pk", None), "d": getattr(device, "pk", None), "k": kind, "s": subject}
        if kind in ("rescue", "boot_image"):  # a rescue session ends on time
            # left out (an older page, a script): the default limit
            self.fields["time_limit"] = time_limit_field("Time limit", initial=default_time_limit(), required=False)

    def clean_confirmation(self) -> str:
        data = _signed_yes(self.cleaned_data["confirmation"])
        if {k: data.get(k) for k in self.expected} != self.expected:
            raise forms.ValidationError("This confirmation was for another device, action, image or person.")
        return str(data.get("n", ""))


def time_limit_field(label: str, initial: float | None = None, required: bool = True) -> forms.TypedChoiceField:
    """The offered time limits (minutes) as a select; anything else is refused by the field."""
    return forms.TypedChoiceField(
        label=label, coerce=float, initial=f"{initial:g}" if initial is not None else None, required=required,
        empty_value=None,
        choices=[(f"{m:g}", minutes_label(m)) for m in offered_time_limits()],
        error_messages={"invalid_choice": "Choose one of the offered time limits (the page lists them, as does "
                                          "/api/v1/time-limits/)."})


class ExtendForm(forms.Form):
    minutes = forms.Field()  # made in __init__: the offered steps are read when the form is built
    reason = forms.CharField(max_length=500, strip=True, error_messages={
        "required": "Say why the session needs more time (kept in the audit trail)."})

    def __init__(self, *args, room_minutes: float | None = None, **kwargs):
        """`room_minutes`: how much more the session may have; only the steps that fit are offered."""
        super().__init__(*args, **kwargs)
        self.fields["minutes"] = time_limit_field("Add")
        if room_minutes is not None:
            self.fields["minutes"].choices = [(v, label) for v, label in self.fields["minutes"].choices
                                              if float(v) <= room_minutes + 1e-6]
        self.fields["minutes"].widget.attrs["hx-preserve"] = "true"  # the card refreshes while one chooses


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=256)


def is_device_id(text: str) -> bool:
    """A plain number a database id can be ('²' is a digit to str.isdigit, not to int())."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def batch_token(user, kind: str, device_ids: list[int]) -> str:
    """The bulk confirmation's single-use Yes: this person, this action, these offered devices."""
    import secrets

    return signing.dumps({"u": user.pk, "k": f"batch:{kind}", "ids": sorted(device_ids),
                          "n": secrets.token_urlsafe(16)}, salt=_SALT)


class BatchForm(forms.Form):
    """Yes on the bulk confirmation: the devices kept (among those offered), one reason, one limit."""

    reason = forms.CharField(max_length=500, required=False, strip=True)
    confirmation = forms.CharField(max_length=1000, error_messages={
        "required": "This Yes did not come from a confirmation page."})

    def __init__(self, *args, user=None, kind: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.kind = user, kind
        if kind == "rescue":
            self.fields["time_limit"] = time_limit_field("Time limit", initial=default_time_limit(), required=False)

    def clean_confirmation(self) -> dict:
        data = _signed_yes(self.cleaned_data["confirmation"])
        if data.get("u") != self.user.pk or data.get("k") != f"batch:{self.kind}":
            raise forms.ValidationError("This confirmation was for another action or person.")
        return data

    def clean(self):
        """The devices kept: some of those the page offered (named in the signed Yes), never others."""
        cleaned = super().clean()
        sent = self.data.getlist("device")
        if not all(is_device_id(pk) for pk in sent):
            raise forms.ValidationError("A device that was not offered was sent.")
        kept = {int(pk) for pk in sent}
        data = cleaned.get("confirmation")
        if isinstance(data, dict):
            if not kept:
                raise forms.ValidationError("Keep at least one device.")
            if not kept <= set(data.get("ids", [])):
                raise forms.ValidationError("A device that was not offered was sent.")
        cleaned["devices"] = sorted(kept)
        return cleaned
