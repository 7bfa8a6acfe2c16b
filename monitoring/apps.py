from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Health, metrics and logs"

    def ready(self) -> None:
        from devices import provider
        from workflows import events

        from . import checks, metrics  # noqa: F401 - checks registers the system check

        provider.observe(metrics.provider_call, metrics.rate_limit_wait)
        events.subscribe(metrics.operation_news)
