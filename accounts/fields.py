"""Model choice fields that refuse ids no database could hold, instead of failing with a 500
(SQLite raises OverflowError for an integer beyond 64 bits; PostgreSQL a DataError)."""

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1


def _check_ids(field, values) -> None:
    for value in values:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:  # '²'.isdigit() is True
            raise ValidationError(field.error_messages["invalid_pk_value"] if "invalid_pk_value" in field.error_messages
                                  else field.error_messages["invalid_choice"], code="invalid_pk_value",
                                  params={"pk": text[:30], "value": text[:30]})


class BoundedModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values:
            _check_ids(self, [value])
        return super().to_python(value)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        _check_ids(self, value)
        return super()._check_values(value)
