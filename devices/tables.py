import django_tables2 as tables
from django.core.paginator import Paginator

from .models import Device


class DeviceTable(tables.Table):
    """The Device List's columns, sorting and paging. Its rows are drawn by devices/_table.html
    in a plain loop (django-tables2's per-cell rendering was most of the page's time)."""

    PER_PAGE_CHOICES = (25, 50, 100)

    fqdn = tables.Column(verbose_name="Name")
    kind = tables.Column(verbose_name="Type")
    datacenter = tables.Column(verbose_name="Location")
    public_ip = tables.Column(verbose_name="Public IP", default="—")
    private_ip = tables.Column(verbose_name="Private IP", default="—")
    os_name = tables.Column(verbose_name="OS", default="—")
    memory_mb = tables.Column(verbose_name="Memory")
    power_state = tables.Column(verbose_name="Power")
    status = tables.Column(verbose_name="Status")

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
        super().paginate(paginator_class, per_page, page, *args, **kwargs)
        # The pager's numbers: the first and last pages, and two either side of this one (1 … 18 19 20 21 22 … 400).
        self.page_numbers = list(self.paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1))
