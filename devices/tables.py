import django_tables2 as tables
from django.core.paginator import Paginator
from django.utils.html import format_html

from .models import Device


class BadgeColumn(tables.Column):
    """A choice field shown as a coloured badge (colour from the value, text from the label)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "nowrap"}})
        super().__init__(*args, **kwargs)

    def render(self, value, record, bound_column):
        """The markup of devices/_badge.html, without a template render per cell (50 a page)."""
        return format_html('<span class="badge badge-{}">{}</span>', getattr(record, bound_column.accessor), value)


class DeviceTable(tables.Table):
    PER_PAGE_CHOICES = (25, 50, 100)

    fqdn = tables.Column(verbose_name="Name", linkify=("devices:detail", {"pk": tables.A("pk")}),
                         attrs={"a": {"class": "device-link", "hx-boost": "false"}})
    kind = tables.Column(verbose_name="Type")
    datacenter = tables.Column(verbose_name="Location")
    public_ip = tables.Column(verbose_name="Public IP", default="—")
    private_ip = tables.Column(verbose_name="Private IP", default="—")
    os_name = tables.Column(verbose_name="OS", default="—", attrs={"td": {"class": "wrap"}})
    memory_mb = tables.Column(verbose_name="Memory", attrs={"td": {"class": "num nowrap"}})
    power_state = BadgeColumn(verbose_name="Power")
    status = BadgeColumn(verbose_name="Status")

    class Meta:
        model = Device
        fields = ["fqdn", "kind", "datacenter", "public_ip", "private_ip", "os_name", "memory_mb",
                  "power_state", "status"]
        order_by = ("fqdn",)
        attrs = {"class": "devices", "id": "devices"}
        empty_text = "No devices match these filters."

    def get_column_class_names(self, classes_set, bound_column):
        """Every cell carries its column's name as a class (styling, and tests that read a column)."""
        return {*super().get_column_class_names(classes_set, bound_column), bound_column.name}

    def paginate(self, paginator_class=Paginator, per_page=None, page=1, *args, **kwargs):
        """Only the offered page sizes: a forged ?per_page=100000 gets the default, not every row."""
        if per_page not in self.PER_PAGE_CHOICES:
            per_page = self.PER_PAGE_CHOICES[0]
        return super().paginate(paginator_class, per_page, page, *args, **kwargs)

    def render_memory_mb(self, value: int) -> str:
        return f"{value / 1024:g} GB" if value else "—"
