from django import forms
from django.core.validators import URLValidator

from workflows import events


def event_choices() -> list[tuple[str, str]]:
    return list(events.LABELS.items())


class PreferencesForm(forms.Form):
    email = forms.EmailField(required=False, label="Your email address", max_length=254)
    events = forms.MultipleChoiceField(choices=event_choices, required=False, widget=forms.CheckboxSelectMultiple,
                                       label="Email me when")
    every_device = forms.BooleanField(required=False, label="for every device I can see, not only my own operations")


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(max_length=500, label="Address (URL)", validators=[URLValidator(schemes=["http", "https"])],
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/rescue"}))
    events = forms.MultipleChoiceField(choices=event_choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one event."})
    slack_format = forms.BooleanField(required=False, label="Slack-compatible body ({\"text\": …})")
