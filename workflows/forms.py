from django import forms
from django.conf import settings
from django.core import signing

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


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=256)
