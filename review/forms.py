from django import forms

from workflows.models import Operation


class RescueFilterForm(forms.Form):
    """The Past rescues filters; a field that does not validate (too long, NUL bytes) is ignored."""

    device = forms.CharField(max_length=255, required=False)
    actor = forms.CharField(max_length=150, required=False)
    state = forms.ChoiceField(choices=[("", "Any"), *Operation.State.choices], required=False)

    def filters(self) -> dict:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
