from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "JSON API"

    def ready(self) -> None:
        from audit import events

        events.register("api.token.create", "api.token.revoke", "api.token.used", "api.token.refused",
                        "api.scope", group="API")
