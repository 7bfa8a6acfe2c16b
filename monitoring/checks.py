"""System check monitoring.E001: production never points at the simulator by accident.

Run by `manage.py check`, every management command (workers, cron, migrate) and the web server
(rescueportal.wsgi), so a production start with a missing or loopback SoftLayer endpoint, user or
key stops with the reason."""

import ipaddress
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, register


def provider_problems(production: bool, endpoint: str, username: str, api_key: str, secret_key_set: bool) -> list[str]:
    """Pure: what is wrong with a production configuration (nothing outside production)."""
    if not production:
        return []
    problems = []
    if not endpoint:
        problems.append("SOFTLAYER_ENDPOINT_URL is not set (for IBM Cloud: https://api.softlayer.com/xmlrpc/v3.1/).")
    else:
        host = (urlparse(endpoint).hostname or "").lower()
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host in ("localhost", "") or host.endswith(".localhost")
        if loopback:
            problems.append(f"SOFTLAYER_ENDPOINT_URL points at this machine ({host}): that is the simulator, "
                            "not SoftLayer.")
    if not username:
        problems.append("SOFTLAYER_USERNAME is not set.")
    if not api_key:
        problems.append("SOFTLAYER_API_KEY is not set.")
    if not secret_key_set:
        problems.append("SECRET_KEY is not set (a production key must not live in VAR_DIR).")
    return problems


@register()
def production_provider(app_configs=None, **kwargs):
    import os

    problems = provider_problems(settings.PRODUCTION, settings.SOFTLAYER_ENDPOINT_URL, settings.SOFTLAYER_USERNAME,
                                 settings.SOFTLAYER_API_KEY, bool(os.environ.get("SECRET_KEY")))
    return [Error(text, hint="Set it in the environment of every web, worker and cron process (docs/deploy.md).",
                  id="monitoring.E001") for text in problems]


def refuse_bad_production() -> None:
    """For the WSGI server, which runs no system checks."""
    from django.core.exceptions import ImproperlyConfigured

    if errors := production_provider():
        raise ImproperlyConfigured(" ".join(e.msg for e in errors))
