from django import forms
from django.conf import settings

from .models import Scope


def _expiry_choices() -> list[tuple[int, str]]:
    return [(d, f"{d} day{'s' * (d != 1)}") for d in settings.API_TOKEN_EXPIRY_CHOICES_DAYS]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. “runbook on ops-1” or “chat bot”.")
    days = forms.TypedChoiceField(label="Expires after", coerce=int, choices=_expiry_choices)
    scopes = forms.MultipleChoiceField(
        label="It may also", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(s.value, s.label) for s in Scope if s != Scope.READ])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DEFAULT_DAYS
