from django.contrib import admin

from .models import Device, InventorySync


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["fqdn", "kind", "datacenter", "os_name", "power_state", "status", "vanished_at"]
    list_filter = ["kind", "os_family", "datacenter", "status"]
    search_fields = ["fqdn", "public_ip", "private_ip"]

    def has_add_permission(self, request) -> bool:  # devices come from the provider only
        return False


@admin.register(InventorySync)
class InventorySyncAdmin(admin.ModelAdmin):
    list_display = ["started_at", "total", "created", "updated", "vanished", "api_calls", "error"]
