from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from audit import events as audit_events
        from workflows import events

        from . import services

        events.subscribe(services.keep_notice)
        audit_events.register("webhook.create", "webhook.delete", "webhook.test", "notifications.preferences",
                              group="Notifications")
