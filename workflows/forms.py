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
        try:
            data = signing.loads(self.cleaned_data["confirmation"], salt=_SALT,
                                 max_age=settings.CONFIRMATION_MAX_AGE_MINUTES * 60)
        except signing.SignatureExpired:
            raise forms.ValidationError("This confirmation page was open too long.") from None
        except signing.BadSignature:
            raise forms.ValidationError("This confirmation is not valid.") from None
        if not isinstance(data, dict) or {k: data.get(k) for k in self.expected} != self.expected:
            raise forms.ValidationError("This confirmation was for another device, action, image or person.")
        return str(data.get("n", ""))


def time_limit_field(label: str, initial: float | None = None, required: bool = True) -> forms.TypedChoiceField:
    """The offered time limits (minutes) as a select; anything else is refused by the field."""
    return forms.TypedChoiceField(
        label=label, coerce=float, initial=f"{initial:g}" if initial is not None else None, required=required,
        empty_value=None,
        choices=[(f"{m:g}", minutes_label(m)) for m in offered_time_limits()],
        error_messages={"invalid_choice": "Choose one of the time limits the page offers."})


class ExtendForm(forms.Form):
    minutes = forms.Field()  # made in __init__: the offered steps are read when the form is built
    reason = forms.CharField(max_length=500, strip=True, error_messages={
        "required": "Say why the session needs more time (kept in the audit trail)."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"] = time_limit_field("Add")


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=256)
