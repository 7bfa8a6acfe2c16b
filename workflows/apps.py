from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Rescue operations"

    def ready(self) -> None:
        from audit import events

        events.register("device.rescue", "device.boot_image", "device.unload_image", "device.restart",
                        "device.credentials.reveal", "device.credentials.shown", group="Operations")
        events.register("rescue_session.reminder", "rescue_session.extend", "rescue_session.back_from_inside",
                        group="Rescue sessions")

        from . import panels

        panels.register()
