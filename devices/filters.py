from functools import partial

import django_filters
from django.db.models import Q

from .models import Device
from .selectors import datacenter_choices


class DeviceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    kind = django_filters.ChoiceFilter(choices=Device.Kind.choices, label="Type", empty_label="Any type")
    os_family = django_filters.ChoiceFilter(choices=Device.OsFamily.choices, label="OS", empty_label="Any OS")
    datacenter = django_filters.ChoiceFilter(choices=[], label="Location", empty_label="Any location")
    power_state = django_filters.ChoiceFilter(choices=Device.Power.choices, label="Power", empty_label="Any power")
    status = django_filters.ChoiceFilter(choices=Device.Status.choices, label="Status", empty_label="Any status")

    class Meta:
        model = Device
        fields = ["q", "kind", "os_family", "datacenter", "power_state", "status"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The locations of this person's devices, read when the list is shown or a Location is asked
        # for (not on every htmx partial). A new filter each time: a form field made once for the
        # class (the API schema makes one) would keep the choices of that moment.
        location = django_filters.ChoiceFilter(field_name="datacenter", label="Location", empty_label="Any location",
                                               choices=partial(datacenter_choices, self.queryset))
        location.model, location.parent = self._meta.model, self
        self.filters["datacenter"] = location

    def search(self, queryset, name, value):
        """Name (hostname.domain), IP address or OS, as the console's device search."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(fqdn__icontains=value) | Q(public_ip__startswith=value) | Q(private_ip__startswith=value)
            | Q(os_name__icontains=value)
        )
