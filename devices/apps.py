from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"

    def ready(self) -> None:
        from audit import events

        events.register("inventory.sync", group="Devices")
