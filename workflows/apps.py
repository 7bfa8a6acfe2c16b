from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Rescue operations"

    def ready(self) -> None:
        from audit import events

        events.register("device.rescue", "device.boot_image", "device.unload_image", "device.restart",
                        "device.credentials.reveal", group="Operations")

        from . import panels

        panels.register()
