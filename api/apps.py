from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "JSON API"

    def ready(self) -> None:
        from accounts import services as account_services
        from audit import events

        from . import services

        account_services.on_sessions_ended(services.revoke_all)

        events.register("api.token.create", "api.token.revoke", "api.token.used", "api.token.refused",
                        "api.scope", "api.not_found", group="API")
