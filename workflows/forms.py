from django import forms


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, strip=True, widget=forms.Textarea(
        attrs={"rows": 2, "placeholder": "Why? (optional, kept in the audit trail)"}))


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=256)
