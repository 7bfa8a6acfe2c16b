from django.apps import AppConfig


class ReviewConfig(AppConfig):
    """Reviewing the trail: the log, exports, past rescues, an operation's story, integrity. It sits
    above the audit core and the apps whose events it shows, so the core depends on none of them."""

    name = "review"
    verbose_name = "Audit review"

    def ready(self) -> None:
        from audit import events

        events.register("audit.export", "audit.view", group="Audit review")

        from . import panels

        panels.register()
