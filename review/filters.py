import django_filters
from django import forms

from audit import events
from audit.models import AuditEvent
from audit.selectors import between_dates, search_text
from devices.models import Device


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_username", lookup_expr="istartswith",
                                      label="Who (username, or how it starts)", max_length=150)
    device = django_filters.CharFilter(method="by_device", label="Device (name)", max_length=255)
    event = django_filters.ChoiceFilter(choices=lambda: [(e, e) for e in events.names()], empty_label="Any event")
    outcome = django_filters.ChoiceFilter(choices=AuditEvent.Outcome.choices, empty_label="Any outcome")
    since = django_filters.DateFilter(method="from_day", label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = django_filters.DateFilter(method="to_day", label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = django_filters.CharFilter(method="text", label="Text in reason or details", max_length=100)

    class Meta:
        model = AuditEvent
        fields = ["actor", "device", "event", "outcome", "since", "until", "q"]

    def by_device(self, queryset, name, value):
        """Devices are few next to events: find them by name first, then their events by index."""
        ids = list(Device.objects.filter(fqdn__icontains=value.strip()).values_list("pk", flat=True)[:1000])
        return queryset.filter(device_id__in=ids)

    def from_day(self, queryset, name, value):
        return between_dates(queryset, since=value)

    def to_day(self, queryset, name, value):
        return between_dates(queryset, until=value)

    def text(self, queryset, name, value):
        return search_text(queryset, value.strip()) if value.strip() else queryset
